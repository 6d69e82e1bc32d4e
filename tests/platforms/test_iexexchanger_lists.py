"""The partner lists and figures of iEXExchanger against the sandbox's data: both pagination modes,
per_page <= 100, filters, tolerant parsing of the shapes the documentation leaves open, and figures that
match what the sandbox holds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import SecretStr

from bot.domain import errors
from bot.domain.models import OrderPhase, PayoutStatus
from bot.platforms.iexexchanger.adapter import IexPlatform
from bot.platforms.iexexchanger.client import IexClient
from bot.platforms.iexexchanger.errors import StatsRangeUnsupported
from bot.platforms.iexexchanger.paging import PageMode
from bot.platforms.iexexchanger.partner import PartnerApi
from bot.platforms.iexexchanger.sandbox import IexSandbox
from bot.platforms.iexexchanger.sandbox.data import window_of
from bot.platforms.iexexchanger.transport import IexCredentials
from tests.platforms.iexexchanger_support import cabinet_for, platform_fixture, sb_fixture, statuses  # noqa: F401

DAY = 86400


def period(sb: IexSandbox, days: int) -> tuple[int, int]:
    now = int(sb.now())
    return now - days * DAY, now


async def test_cursor_mode_reads_every_row_once(platform: IexPlatform, sb: IexSandbox) -> None:
    start, end = period(sb, 130)
    rows = [e async for e in cabinet_for(platform, "full").exchanges(start, end)]
    held = sb.account().exchanges
    assert len(rows) == len(held) > 200 and len({r.id for r in rows}) == len(rows)
    calls = sb.calls("/private/partner/exchanges")
    assert len(calls) == -(-len(held) // 100)
    assert "pagination=cursor" in calls[0]["query"] and "cursor=" not in calls[0]["query"].replace(
        "pagination=cursor", ""
    )
    assert all("cursor=" in c["query"] and "per_page=100" in c["query"] for c in calls[1:])
    assert all(
        "filter%5Bcreated_from%5D=" in c["query"] for c in calls
    )  # filters sent again with every cursor


async def test_page_mode_reads_every_row_once(sb: IexSandbox) -> None:
    adapter = IexPlatform(IexClient(sb.url, page_mode=PageMode.PAGE, retries=0))
    try:
        start, end = period(sb, 130)
        rows = [e async for e in cabinet_for(adapter, "full").exchanges(start, end)]
    finally:
        await adapter.aclose()
    assert sorted(r.id for r in rows) == sorted(str(e.id) for e in sb.account().exchanges)
    queries = [c["query"] for c in sb.calls("/private/partner/exchanges")]
    assert [q.split("page=")[-1] for q in queries] == [str(n) for n in range(1, len(queries) + 1)]
    assert all("per_page=100" in q for q in queries)


async def test_per_page_above_100_is_never_sent(platform: IexPlatform, sb: IexSandbox) -> None:
    client = platform.client.scoped(IexCredentials(SecretStr(sb.key("full").token)))
    with pytest.raises(ValueError, match="per_page"):
        [r async for r in PartnerApi(client).payouts(per_page=101)]
    assert not sb.calls("/private/partner/payouts")
    with pytest.raises(errors.ValidationFailed) as info:  # what the server says if it were sent
        await client.get("/private/partner/payouts", [("per_page", "101")])
    assert "per_page" in info.value.field_errors and "100" in info.value.field_errors["per_page"]
    assert statuses(sb, "/private/partner/payouts") == [422]  # a 422 is not repeated


async def test_payout_filters_and_statuses(platform: IexPlatform, sb: IexSandbox) -> None:
    cabinet = cabinet_for(platform, "full")
    start, end = period(sb, 200)
    everything = [p async for p in cabinet.payouts(start, end)]
    held = sb.account().payouts
    assert {p.status for p in everything} == {PayoutStatus.PAID, PayoutStatus.PENDING, PayoutStatus.REFUSED}
    assert len(everything) == len(held)
    paid = [p async for p in cabinet.payouts(start, end, status=PayoutStatus.PAID)]
    assert paid and all(p.status is PayoutStatus.PAID and p.tx_id and p.paid_time for p in paid)
    assert "filter%5Bstatus%5D=paid" in sb.calls("/private/partner/payouts")[-1]["query"]
    refused = [p async for p in cabinet.payouts(start, end, status=PayoutStatus.REFUSED)]
    assert [p.note for p in refused] == [p.comment for p in held if p.status == "rejected"]
    assert "filter%5Bstatus%5D=rejected" in sb.calls("/private/partner/payouts")[-1]["query"]
    first = held[0]
    mapped = next(p for p in everything if p.id == str(first.id))
    assert (
        mapped.number == first.public_id and mapped.amount == first.amount and mapped.currency_code == "USDT"
    )
    assert mapped.account == first.wallet and mapped.time == first.created_at
    again = await cabinet.payout(str(first.id))
    assert again == mapped
    assert "filter%5Bid%5D=" in sb.calls("/private/partner/payouts")[-1]["query"]


async def test_exchanges_of_a_period_and_a_status(platform: IexPlatform, sb: IexSandbox) -> None:
    cabinet = cabinet_for(platform, "full")
    start, end = period(sb, 20)
    held = [e for e in sb.account().exchanges if start <= e.created_at <= end]
    rows = [e async for e in cabinet.exchanges(start, end)]
    assert len(rows) == len(held) and all(start <= r.time <= end for r in rows)
    done = [e async for e in cabinet.exchanges(start, end, status="completed")]
    assert len(done) == sum(1 for e in held if e.status == "completed")
    assert all(e.status.phase is OrderPhase.DONE and e.succeeded and e.accrued for e in done)
    phase = [e async for e in cabinet.exchanges(start, end, status=OrderPhase.CANCELLED)]
    assert len(phase) == sum(1 for e in held if e.status == "cancelled")
    assert all(not e.accrued and e.status.is_final for e in phase)
    first = held[0]
    mapped = next(r for r in rows if r.id == str(first.id))
    assert (
        mapped.number == first.public_id and mapped.reward == first.bonus and mapped.reward_currency == "USDT"
    )
    assert (
        mapped.get_currency_code == first.currency_receive.upper() and mapped.give_amount == first.amount_give
    )
    assert mapped.completed_time == first.completed_at
    # a row without bonus_currency gets the balance currency
    missing = [r for r in rows if int(r.id) % 7 == 0]
    assert missing and all(r.reward_currency == "USDT" for r in missing)


async def test_tolerant_parsing_numbers_and_wrapped_results(platform: IexPlatform, sb: IexSandbox) -> None:
    cabinet = cabinet_for(platform, "full")
    start, end = period(sb, 200)
    plain = ([p async for p in cabinet.payouts(start, end)], [e async for e in cabinet.exchanges(start, end)],
             [r async for r in cabinet.referrals(start, end)], await cabinet.summary())  # fmt: skip
    sb.money_as_numbers = True
    sb.wrap_results = True
    other = cabinet_for(platform, "full")
    shaped = ([p async for p in other.payouts(start, end)], [e async for e in other.exchanges(start, end)],
              [r async for r in other.referrals(start, end)], await other.summary())  # fmt: skip
    assert shaped == plain
    assert isinstance(shaped[3].balance, Decimal) and shaped[3].balance == sb.account().balance


async def test_times_with_any_offset(platform: IexPlatform, sb: IexSandbox) -> None:
    cabinet = cabinet_for(platform, "full")
    start, end = period(sb, 200)
    referrals = {r.id: r async for r in cabinet.referrals(start, end)}
    held = {str(r.id): r for r in sb.account().referrals if start <= r.created_at <= end}
    assert referrals.keys() == held.keys()
    sample = next(iter(held.values()))
    assert referrals[str(sample.id)].time == sample.created_at and referrals[str(sample.id)].date.endswith(
        "+03:00"
    )
    payouts = [p async for p in cabinet.payouts(start, end)]
    assert all(p.date.endswith("Z") and p.time for p in payouts)


async def test_referrals_are_masked(platform: IexPlatform, sb: IexSandbox) -> None:
    start, end = period(sb, 30)
    rows = [r async for r in cabinet_for(platform, "full").referrals(start, end)]
    assert rows and len(rows) == sum(1 for r in sb.account().referrals if start <= r.created_at <= end)
    for row in rows:
        assert row.email and row.email not in repr(row) and row.email not in row.masked
        assert row.masked.count("***") == 1 and "@example.net" in row.masked


async def test_figures_match_the_lists(platform: IexPlatform, sb: IexSandbox) -> None:
    cabinet = cabinet_for(platform, "full")
    account = sb.account()
    summary = await cabinet.summary()
    assert summary.balance == account.balance and summary.balance_currency == "USDT"
    assert summary.referral_count == len(account.referrals) and summary.reward_percent == Decimal("0.8")
    assert summary.status == "active" and summary.partner_id == "Gz"
    for name in ("day", "week", "month"):
        stats = await cabinet.statistics(name)
        assert stats.start == window_of(name, int(sb.now()))[0] and stats.end is not None
        rows = [e async for e in cabinet.exchanges(stats.start, stats.end)]
        assert stats.exchanges == len(rows)
        assert stats.completed_exchanges == sum(1 for e in rows if e.succeeded)
        assert stats.accruals == sum((e.reward for e in rows if e.accrued), Decimal(0))
        assert stats.registrations == len([r async for r in cabinet.referrals(stats.start, stats.end)])
        assert stats.currency == "USDT" and stats.period == name
        assert sum(p.exchanges or 0 for p in stats.series) == stats.exchanges


async def test_a_typed_range_where_the_install_takes_one(platform: IexPlatform, sb: IexSandbox) -> None:
    cabinet = cabinet_for(platform, "full")
    start, end = period(sb, 10)
    stats = await cabinet.statistics("custom", start, end)
    assert stats.period == "custom" and stats.start == start
    assert platform.stats_range_supported is True
    assert stats.exchanges == len([e async for e in cabinet.exchanges(start, stats.end or end)])


async def test_a_range_refused_is_remembered(platform: IexPlatform, sb: IexSandbox) -> None:
    sb.stats_range = False
    cabinet = cabinet_for(platform, "full")
    start, end = period(sb, 10)
    with pytest.raises(StatsRangeUnsupported) as info:
        await cabinet.statistics("month", start, end)
    assert isinstance(info.value, errors.ValidationFailed) and platform.stats_range_supported is False
    sent = len(sb.calls("/private/partner/statistics"))
    with pytest.raises(StatsRangeUnsupported):
        await cabinet_for(platform, "full").statistics("month", start, end)
    assert len(sb.calls("/private/partner/statistics")) == sent
    assert (await cabinet.statistics("week")).period == "week"
    with pytest.raises(ValueError):
        await cabinet.statistics("year")


async def test_clicks_and_payout_requests_are_not_served(platform: IexPlatform) -> None:
    cabinet = cabinet_for(platform, "full")
    with pytest.raises(errors.PermissionMissing):
        [c async for c in cabinet.clicks(0, 1)]
    with pytest.raises(errors.PermissionMissing):
        await cabinet.request_payout("1", "T" * 34)
    assert platform.info.payout_page and platform.links is None and platform.placement is None
