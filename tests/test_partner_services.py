"""bot/partner services on their own: periods, deep-link payloads, referral links, CSV, payout guard."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.app.wiring import Services
from bot.domain.capabilities import Capability, PlatformInfo
from bot.domain.errors import CredentialsRejected, ExchangerTimeout, PayoutRefused
from bot.domain.models import (
    OrderPhase,
    OrderStatus,
    PartnerClick,
    PartnerExchange,
    PartnerPayout,
    PartnerReferral,
    PartnerSummary,
    PayoutStatus,
)
from bot.partner.chart import ChartLabels, render_chart
from bot.partner.deeplink import can_carry, decode_payload, encode_payload, fit_tag
from bot.partner.export import exchanges_csv, mask_account, payouts_csv
from bot.partner.features import Feature, capabilities_lacking, features
from bot.partner.links import (
    LinkDraft,
    LinkInputError,
    campaign_tag,
    params_of,
    parse_custom_param,
    referral_link,
)
from bot.partner.payouts import Outcome, refusal_reason, request_payout
from bot.partner.periods import PeriodError, PeriodKind, parse_range, preset
from bot.partner.stats import aggregate
from bot.platforms.premiumexchanger import INFO as PE_INFO
from bot.platforms.premiumexchanger.links import PremiumExchangerLinks
from bot.storage.payouts import PayoutRequestRepository, PayoutState

KEY = b"k" * 32
TODAY = date(2026, 1, 15)


# -- periods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "first", "last"),
    [
        (PeriodKind.TODAY, date(2026, 1, 15), date(2026, 1, 15)),
        (PeriodKind.WEEK, date(2026, 1, 9), date(2026, 1, 15)),
        (PeriodKind.DAYS30, date(2025, 12, 17), date(2026, 1, 15)),
        (PeriodKind.THIS_MONTH, date(2026, 1, 1), date(2026, 1, 15)),
        (PeriodKind.LAST_MONTH, date(2025, 12, 1), date(2025, 12, 31)),
    ],
)
def test_presets(kind: PeriodKind, first: date, last: date) -> None:
    period = preset(kind, TODAY)
    assert (period.first, period.last) == (first, last)
    assert period.start_time == int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())
    assert period.end_time - period.start_time == len(period.days) * 86400 - 1


@pytest.mark.parametrize(
    "text",
    ["2026-01-01 2026-01-10", "01.01.2026-10.01.2026", " 2026-01-01 – 2026-01-10 ", "1.1.2026, 10.1.2026"],
)
def test_custom_range_formats(text: str) -> None:
    period = parse_range(text, TODAY)
    assert (period.kind, period.first, period.last) == (
        PeriodKind.CUSTOM,
        date(2026, 1, 1),
        date(2026, 1, 10),
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "format"),
        ("last week", "format"),
        ("2026-01-01 and 2026-01-10", "format"),
        ("2026-02-30 2026-03-01", "format"),
        ("2026-01-01 2026-01-02 2026-01-03", "format"),
        ("2026-01-10 2026-01-01", "order"),
        ("2026-02-01 2026-02-03", "future"),
        ("2024-01-01 2026-01-01", "too_long"),
    ],
)
def test_custom_range_errors(text: str, reason: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_range(text, TODAY)
    assert caught.value.reason.value == reason


def test_one_date_is_one_day() -> None:
    period = parse_range("14.01.2026", TODAY)
    assert period.first == period.last == date(2026, 1, 14)


# -- deep links ------------------------------------------------------------------------------------


def test_payload_round_trip_fits_telegram() -> None:
    for partner, tag in [("7", ""), ("7", "spring"), ("999999999999", "x" * 30), ("Ab_3x9", "t")]:
        payload = encode_payload(KEY, partner, tag)
        assert len(payload) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", payload)
        assert decode_payload(KEY, payload) == (partner, tag)
    # A long partner id (a platform's public id) gets a shorter tag, never a payload over 64.
    long_id = "p" * 40
    assert can_carry(long_id) and fit_tag(long_id, "x" * 30) == "x" * 9
    assert len(encode_payload(KEY, long_id, fit_tag(long_id, "x" * 30))) == 64
    assert not can_carry("p" * 50) and not can_carry("a-b") and not can_carry("")


def test_every_changed_character_is_detected() -> None:
    payload = encode_payload(KEY, "7", "spring")
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
    for index, char in enumerate(payload):
        for other in alphabet[:8] + "-_9":
            if other != char:
                forged = payload[:index] + other + payload[index + 1 :]
                assert decode_payload(KEY, forged) is None, forged
    assert decode_payload(b"other key" * 4, payload) is None
    for garbage in (None, "", "r7", "r7--", "x" * 65, "абв", "r7-spring-" + "A" * 12):
        assert decode_payload(KEY, garbage) is None


def test_bad_payload_input_is_refused() -> None:
    for partner, tag in [("", ""), ("7-a", ""), ("7 a", ""), ("7", "Spring"), ("7", "a-b"), ("7", "x" * 31)]:
        with pytest.raises(ValueError):
            encode_payload(KEY, partner, tag)


def test_campaign_tag() -> None:
    assert campaign_tag("Spring-Sale 2026!") == "spring_sale2026"
    assert campaign_tag(None) == ""
    assert re.fullmatch(r"c[0-9a-f]{6}", campaign_tag("весна"))
    assert len(campaign_tag("x" * 80)) == 30


# -- referral links --------------------------------------------------------------------------------


def test_referral_link_encodes_and_keeps_the_platforms_parameter() -> None:
    links = PremiumExchangerLinks("https://ex.example")
    reserved = links.reserved_params
    draft = LinkDraft(direction_url="https://ex.example/exchange_a_to_b/?rid=1&utm_source=old&lang=ru")
    draft.set_utm("utm_source", "tg chan")
    draft.set_utm("utm_campaign", "a&b=c/ü")
    draft.custom = [("rid", "99"), ("RID", "98"), ("sub", "1 2")]
    # The platform's own parameter can't be set by hand, whatever its case.
    assert params_of(draft, reserved) == {"utm_source": "tg chan", "utm_campaign": "a&b=c/ü", "sub": "1 2"}
    link = referral_link(links, "7", draft, "https://ex.example")
    assert link == (
        "https://ex.example/exchange_a_to_b/?rid=7&lang=ru&utm_source=tg+chan&utm_campaign=a%26b%3Dc%2F%C3%BC&sub=1+2"
    )
    assert referral_link(links, "7", LinkDraft(), "https://ex.example") == "https://ex.example/?rid=7"


def test_custom_params_and_draft() -> None:
    assert parse_custom_param(" sub_id = a b ") == ("sub_id", "a b")
    assert parse_custom_param("rid=1") == ("rid", "1"), "reserved only when the platform says so"
    cases = [("ref=1", "reserved"), ("REF=1", "reserved"), ("utm_term=x", "utm"), ("novalue", "format")]
    cases += [("bad name=1", "format"), ("x=", "empty")]
    for text, reason in cases:
        with pytest.raises(LinkInputError) as caught:
            parse_custom_param(text, reserved={"ref"})
        assert caught.value.reason == reason
    with pytest.raises(LinkInputError) as caught:
        parse_custom_param("Ref=1", reserved={"ref"})
    assert caught.value.name == "Ref"
    draft = LinkDraft()
    draft.apply_preset("chat")
    for n in range(5):
        draft.add_custom(f"p{n}", "v")
    draft.add_custom("p0", "replaced")
    with pytest.raises(LinkInputError):
        draft.add_custom("p9", "v")
    restored = LinkDraft.from_data(draft.to_data())
    assert (
        restored.utm == {"utm_source": "telegram", "utm_medium": "chat"}
        and ("p0", "replaced") in restored.custom
    )


# -- stats and CSV ---------------------------------------------------------------------------------


_PHASES = {"success": OrderPhase.DONE, "new": OrderPhase.AWAITING_PAYMENT, "cancel": OrderPhase.CANCELLED}


def _exchange(id_: int, time: int, status: str, reward: str, accrued: bool) -> PartnerExchange:
    return PartnerExchange(
        id=id_, time=time, status=OrderStatus(code=status, phase=_PHASES[status]),
        succeeded=status == "success", accrued=accrued, reward=Decimal(reward), reward_currency="USD",
        give_amount=Decimal("10.50"), give_currency_code="RUB", get_amount=Decimal("0.00012000"),
        get_currency_code="BTC", date="2026-01-14 03:00:00",
    )  # fmt: skip


def test_aggregate_counts_only_the_period() -> None:
    period = preset(PeriodKind.WEEK, TODAY)
    inside, outside = period.start_time + 10, period.start_time - 10
    clicks = [
        PartnerClick(id=1, time=inside, visitor="a", query_string="rid=7&utm_source=tg&utm_campaign=x"),
        PartnerClick(id=2, time=inside, visitor="a", query_string="?rid=7&utm_source=tg&utm_campaign=x"),
        PartnerClick(id=3, time=inside, visitor="b", query_string="rid=7"),
        PartnerClick(id=4, time=outside, visitor="c", query_string="rid=7"),
    ]
    exchanges = [
        _exchange(1, inside, "success", "0.10", True),
        _exchange(2, inside, "new", "0.20", False),
        _exchange(3, inside, "cancel", "0.40", False),
        _exchange(4, outside, "success", "1.00", True),
    ]
    stats = aggregate(period, clicks, exchanges)
    assert (stats.clicks, stats.visitors, stats.exchanges, stats.completed) == (3, 2, 3, 1)
    assert (stats.accrued, stats.pending) == ({"USD": Decimal("0.10")}, {"USD": Decimal("0.20")})
    assert stats.reward_currencies == ["USD"]
    assert stats.conversion == Decimal("33.33")
    assert stats.top_sources == [(("tg", "x"), 2), (("", ""), 1)]
    assert sum(day.clicks for day in stats.per_day.values()) == 3 and len(stats.per_day) == 7


def test_aggregate_of_a_platform_without_clicks(services: Services) -> None:
    from handlers.partner.stats import render_stats

    period = preset(PeriodKind.WEEK, TODAY)
    stats = aggregate(period, None, [_exchange(1, period.start_time, "success", "1", True)])
    assert not stats.has_clicks and stats.has_exchanges
    assert stats.clicks == 0 and stats.conversion is None and stats.exchanges == 1
    mixed = [
        _exchange(1, period.start_time, "success", "1", True),
        _exchange(2, period.start_time, "new", "2", False),
    ]
    mixed.append(mixed[0].model_copy(update={"id": "3", "reward_currency": "EUR"}))
    mixed.append(mixed[0].model_copy(update={"id": "4", "reward": Decimal(0), "reward_currency": "RUB"}))
    stats = aggregate(period, None, mixed)
    # Never added across currencies; a zero reward names no currency.
    assert stats.reward_currencies == ["EUR", "USD"]
    assert stats.accrued == {"USD": Decimal(1), "EUR": Decimal(1)} and stats.pending == {"USD": Decimal(2)}
    with services.i18n.context(), services.i18n.use_locale("en"):
        text = render_stats(stats, None)
    assert "Rewards accrued: <b>1.00\u00a0EUR · 1.00\u00a0USD</b>" in text
    assert "Rewards pending: <b>0.00\u00a0EUR · 2.00\u00a0USD</b>" in text and "base currency" not in text
    png = render_chart(stats, ChartLabels("t", "c", "e", "d", "r"))
    assert png.startswith(b"\x89PNG"), "drawn without a rewards panel"


def test_csv_keeps_amounts_as_written_and_escapes() -> None:
    content = exchanges_csv([_exchange(5, 1768446000, "success", "0.010", True)])
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert rows[0][:3] == ["id", "time_unix", "time_utc"]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["amount_give"], row["amount_get"], row["partner_reward"]) == ("10.50", "0.00012000", "0.010")
    assert (row["status"], row["phase"], row["completed"], row["reward_currency"]) == (
        "success",
        "done",
        "1",
        "USD",
    )
    payout = PartnerPayout(
        id=1, time=1, account='TQn9,"quoted"LSE', amount=Decimal("1E+1"), status=PayoutStatus.PAID
    )
    rows = list(csv.reader(io.StringIO(payouts_csv([payout]).decode("utf-8"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["account"] == 'TQn9****"LSE' and row["pay_amount"] == "10" and row["status"] == "paid"


def test_mask_account() -> None:
    assert mask_account("2200700123456789") == "2200****6789"
    assert mask_account("P1048576") == "P1****76"
    assert mask_account("abc") == "***"


def test_a_referred_client_is_shown_masked(services: Services) -> None:
    from handlers.partner.lists import referral_row

    referral = PartnerReferral(
        id="r1", time=1768446000, email="arthur.dent@example.net", name="Arthur Dent", exchanges=3
    )
    with services.i18n.context(), services.i18n.use_locale("en"):
        row = referral_row(referral)
        nameless = referral_row(PartnerReferral(id="r2", client_id="c-9", date="<b>2026-01-15</b>"))
    assert "ar***nt@example.net" in row and "2026-01-15 03:00" in row and "Exchanges: 3" in row
    assert "arthur" not in row.lower() and "Dent" not in row and "Arthur" not in repr(referral)
    assert "#c-9" in nameless and "&lt;b&gt;2026-01-15" in nameless and "Exchanges" not in nameless


def test_rows_show_what_other_platforms_report(services: Services) -> None:
    """Figures PremiumExchanger doesn't give (an amount on no named side, completed-or-not only, public
    numbers, transaction ids, a summary computed from exchanges) are shown when a platform gives them."""
    from handlers.partner.cabinet import summary_lines
    from handlers.partner.lists import exchange_row, payout_row

    exchange = _exchange(5, 1768446000, "new", "0.50", False).model_copy(
        update={
            "give_amount": None, "get_amount": None, "amount": Decimal("0.05"),
            "give_currency_code": "USDTTRC20", "get_currency_code": "BTC", "completion_only": True,
            "number": "EX-1", "params": {"sub": "<x>"},
        }
    )  # fmt: skip
    payout = PartnerPayout(
        id="p9", time=1768446000, amount=Decimal("12.5"), currency_code="USDT", status_code="on_hold",
        number="PO-000210", tx_id="0xabc", note="<i>KYC</i> needed",
    )  # fmt: skip
    summary = PartnerSummary(
        partner_id="42", earned={"USDT": Decimal("1.5"), "BTC": Decimal("0.0001")}, exchanges=7,
        completed_exchanges=5, as_of=1768446000,
    )  # fmt: skip
    with services.i18n.context(), services.i18n.use_locale("en"):
        row = exchange_row(exchange)
        paid = payout_row(payout)
        home = "\n".join(summary_lines(summary))
    assert "<b>#EX-1</b>" in row and "⏳ not completed" in row
    assert "0.05 · USDTTRC20 → BTC" in row and "sub=&lt;x&gt;" in row
    assert "<b>#PO-000210</b>" in paid and "❔ on_hold" in paid and "<code>0xabc</code>" in paid
    assert "&lt;i&gt;KYC&lt;/i&gt; needed" in paid and "12.50\u00a0USDT" in paid
    assert "Balance" not in home and "Minimum payout" not in home, "no balance given, none shown"
    assert "• 1.50\u00a0USDT" in home and "• 0.0001\u00a0BTC" in home
    assert "Exchanges referred, all time: <b>7</b>" in home and "Completed, all time: <b>5</b>" in home
    assert "Figures as of 2026-01-15 03:00 UTC." in home

    rows = list(csv.DictReader(io.StringIO(exchanges_csv([exchange]).decode("utf-8"))))
    assert (rows[0]["number"], rows[0]["amount"], rows[0]["amount_give"]) == ("EX-1", "0.05", "")
    rows = list(csv.DictReader(io.StringIO(payouts_csv([payout]).decode("utf-8"))))
    assert (rows[0]["number"], rows[0]["status"], rows[0]["status_code"], rows[0]["tx_id"]) == (
        "PO-000210",
        "unknown",
        "on_hold",
        "0xabc",
    )


# -- capabilities ------------------------------------------------------------------------------------


def test_features_follow_the_platforms_capabilities() -> None:
    assert features(PE_INFO) == {
        Feature.SUMMARY, Feature.STATS, Feature.CLICKS, Feature.EXCHANGES, Feature.PAYOUTS,
        Feature.WITHDRAW, Feature.LINK,
    }  # fmt: skip
    reports_only = PlatformInfo(
        "x",
        "X",
        frozenset({Capability.PARTNER_SUMMARY, Capability.PARTNER_REFERRALS, Capability.PARTNER_EXCHANGES}),
    )
    assert features(reports_only) == {Feature.SUMMARY, Feature.STATS, Feature.REFERRALS, Feature.EXCHANGES}
    # A payout request needs the summary (its methods and minimum).
    assert Feature.WITHDRAW not in features(PlatformInfo("x", "X", frozenset({Capability.PAYOUT_REQUEST})))
    assert (
        features(PlatformInfo("x", "X", frozenset({Capability.CATALOGUE, Capability.QUOTE}))) == frozenset()
    )
    missing = {Capability.PARTNER_PAYOUTS: "payouts", Capability.PARTNER_STATS: "stats"}
    assert capabilities_lacking(PE_INFO, missing) == {Capability.PARTNER_PAYOUTS: "payouts"}


# -- payout guard ----------------------------------------------------------------------------------


class _Cabinet:
    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def request_payout(self, method_id: str, account: str) -> str:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return str(answer)


async def test_one_request_per_key(services: Services) -> None:
    repo = PayoutRequestRepository(services.db)
    cabinet = _Cabinet("55")
    first = await request_payout(repo, cabinet, 1, "pe", "key-1", "2", "acc")  # type: ignore[arg-type]
    again = await request_payout(repo, cabinet, 1, "pe", "key-1", "2", "acc")  # type: ignore[arg-type]
    assert (first.outcome, first.payout_id) == (Outcome.CREATED, "55")
    assert (again.outcome, again.payout_id, again.state) == (Outcome.ALREADY, "55", PayoutState.DONE)
    assert cabinet.calls == 1
    other_chat = await request_payout(repo, cabinet, 2, "pe", "key-1", "2", "acc")  # type: ignore[arg-type]
    assert other_chat.outcome is Outcome.ALREADY and other_chat.payout_id is None and cabinet.calls == 1


async def test_failed_may_retry_but_lost_answer_never_resends(services: Services) -> None:
    repo = PayoutRequestRepository(services.db)
    cabinet = _Cabinet(CredentialsRejected(method="add_partner_payout"), "56", ExchangerTimeout("slow"))
    with pytest.raises(CredentialsRejected):
        await request_payout(repo, cabinet, 1, "pe", "key-2", "1", "acc")  # type: ignore[arg-type]
    retried = await request_payout(repo, cabinet, 1, "pe", "key-2", "1", "acc")  # type: ignore[arg-type]
    assert retried.payout_id == "56"
    lost = await request_payout(repo, cabinet, 1, "pe", "key-3", "1", "acc")  # type: ignore[arg-type]
    assert lost.outcome is Outcome.UNKNOWN
    assert (await request_payout(repo, cabinet, 1, "pe", "key-3", "1", "acc")).state is PayoutState.UNKNOWN  # type: ignore[arg-type]
    assert cabinet.calls == 3


async def test_refusal_is_recorded(services: Services) -> None:
    repo = PayoutRequestRepository(services.db)
    refused = await request_payout(
        repo,
        _Cabinet(PayoutRefused("<span>Account is empty</span>")),
        1,
        "pe",
        "key-4",
        "1",
        "",  # type: ignore[arg-type]
    )
    assert refused.outcome is Outcome.REFUSED and refusal_reason(refused.refusal).value == "account"
    assert (await repo.get(1, "key-4")).state is PayoutState.REFUSED
    assert refusal_reason("Something new").value == "other"
