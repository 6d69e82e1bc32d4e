"""The Lara-script adapter over HTTP to its sandbox: credentials, links, the key check, and the figures
the cabinet shows against the sandbox's own rows (a period spanning several pages)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.domain import errors
from bot.domain.capabilities import Capability, CredentialInputError
from bot.domain.models import OrderPhase
from bot.logs import REDACTOR
from bot.platforms.larascript import INFO
from bot.platforms.larascript.adapter import LaraPlatform
from bot.platforms.larascript.info import RID_FIELD
from bot.platforms.larascript.sandbox import LaraSandbox
from bot.platforms.larascript.sandbox.keys import DEMO, SECOND
from tests.platforms.larascript_harness import Clock, open_lara

DAY = 86400


@pytest.fixture
async def lara() -> AsyncIterator[tuple[LaraPlatform, LaraSandbox, Clock]]:
    async with open_lara() as opened:
        yield opened


def cabinet(platform: LaraPlatform, key: str = DEMO.key, rid: str = DEMO.rid):
    return platform.cabinet(platform.credentials({"key": key, "rid": rid}))


# -- what it declares --------------------------------------------------------------------------------


def test_declares_only_what_the_one_list_gives() -> None:
    assert INFO.capabilities == {
        Capability.PARTNER_SUMMARY,
        Capability.PARTNER_EXCHANGES,
        Capability.REFERRAL_LINKS,
        Capability.PARTNER_NEWS,  # completions, polled from the same list (push.completions_since)
    }
    assert not INFO.has_customer_flow
    assert [f.name for f in INFO.credential_fields] == ["key", "rid"]
    assert [f.secret for f in INFO.credential_fields] == [True, False]


async def test_no_customer_api_and_no_clicks_or_payouts(lara) -> None:
    platform, _sb, _clock = lara
    assert platform.placement is None and platform.feed is None and platform.webhooks is None
    with pytest.raises(errors.PermissionMissing):
        platform.customer("en")
    cab = cabinet(platform)
    with pytest.raises(errors.PermissionMissing):
        [c async for c in cab.clicks(0, 2**31)]
    with pytest.raises(errors.PermissionMissing):
        [p async for p in cab.payouts(0, 2**31)]
    with pytest.raises(errors.PermissionMissing):
        await cab.request_payout("1", "x")


# -- credentials ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "rid"),
    [
        ("1101", "1101"),
        ("  ab_C-9  ", "ab_C-9"),
        ("{site}/?rid=1101", "1101"),
        ("{site}/?utm_source=tg&rid=1101#top", "1101"),
        ("{site}?rid=1101", "1101"),
    ],
)
async def test_rid_typed_or_taken_from_a_pasted_link(lara, typed: str, rid: str) -> None:
    platform, _sb, _clock = lara
    value = typed.format(site=platform.site_url)
    assert RID_FIELD.accepts(value.strip())
    credentials = platform.credentials({"key": DEMO.key, "rid": value})
    assert credentials.get("rid") == rid and credentials.get("key") == DEMO.key
    assert DEMO.key not in repr(credentials) and DEMO.key not in credentials.label
    assert rid in credentials.label


def test_a_link_on_the_www_host_or_without_scheme_is_the_same_site() -> None:
    from bot.platforms.larascript.credentials import rid_from

    assert rid_from("https://www.example.com/?rid=77", "https://example.com") == "77"
    assert rid_from("example.com/?rid=77&utm_source=x", "https://www.example.com") == "77"


@pytest.mark.parametrize(
    ("value", "reason", "says"),
    [
        ("https://evil.example/?rid=1101", "other_site", "another site"),
        ("{site}/?utm_source=tg", "missing_param", "no rid"),
        ("{site}/?rid=1&rid=2", "ambiguous", "more than one"),
        ("{site}/?rid=<b>", "shape", "letters, digits"),
        ("ab cd", "shape", "letters, digits"),
        ("", "empty", "empty"),
        ("x" * 65, "shape", "letters, digits"),
    ],
)
async def test_a_bad_rid_is_refused_with_a_clear_reason(lara, value: str, reason: str, says: str) -> None:
    platform, _sb, _clock = lara
    with pytest.raises(CredentialInputError, match=says) as info:
        platform.credentials({"key": DEMO.key, "rid": value.format(site=platform.site_url)})
    assert info.value.field == "rid" and info.value.reason == reason
    assert DEMO.key not in str(info.value) and isinstance(info.value, ValueError)


async def test_a_malformed_key_is_refused_and_a_good_one_redacted(lara) -> None:
    platform, _sb, _clock = lara
    with pytest.raises(ValueError, match="key"):
        platform.credentials({"key": "short", "rid": "1"})
    with pytest.raises(ValueError, match="key"):
        platform.credentials({"key": "with space inside", "rid": "1"})
    key = "lara-test-key-for-redaction-0001"
    assert key in REDACTOR.redact(f"the key is {key}")
    platform.credentials({"key": key, "rid": "1"})
    assert key not in REDACTOR.redact(f"the key is {key}")


def test_the_field_pattern_takes_rids_and_links_only() -> None:
    assert RID_FIELD.accepts("1101") and RID_FIELD.accepts("https://site.example/?rid=1101&utm_source=x")
    assert not RID_FIELD.accepts("https://site.example/?utm_source=x")
    assert not RID_FIELD.accepts("hello world")


# -- the key check -------------------------------------------------------------------------------------


async def test_check_key_is_one_call(lara) -> None:
    platform, sb, _clock = lara
    check = await cabinet(platform).check_key()
    assert check.partner_id == DEMO.rid and check.label and not check.missing
    assert DEMO.key not in repr(check)
    assert len(sb.requests) == 1


async def test_a_wrong_key_gets_laras_own_words(lara) -> None:
    platform, sb, _clock = lara
    with pytest.raises(errors.CredentialsRejected) as info:
        await cabinet(platform, key="not-a-real-key-000000").check_key()
    assert info.value.text == "Invalid API key." and info.value.code == "4004"
    assert "not-a-real-key" not in str(info.value) + repr(info.value)
    assert len(sb.requests) == 1  # never retried


async def test_self_check(lara) -> None:
    platform, sb, _clock = lara
    assert (await platform.self_check()).ok
    sb.faults.next("http404")
    check = await platform.self_check()
    assert not check.ok and "404" in check.message


# -- the figures, against the sandbox's own rows --------------------------------------------------------


def _truth_earned(rows) -> dict[str, Decimal]:
    earned: dict[str, Decimal] = {}
    for r in rows:
        if r.is_completed:
            earned[r.reward_currency] = earned.get(r.reward_currency, Decimal(0)) + Decimal(r.reward)
    return earned


async def test_summary_matches_the_sandbox(lara) -> None:
    platform, sb, clock = lara
    summary = await cabinet(platform).summary()
    rows = sb.counted(DEMO.key)
    assert summary.partner_id == DEMO.rid and summary.balance is None and not summary.methods
    assert summary.exchanges == len(rows) == 900
    assert summary.completed_exchanges == sum(r.is_completed for r in rows)
    assert summary.earned == _truth_earned(rows) and len(summary.earned) == 3
    assert summary.as_of == int(clock.now)
    assert sb.requests[-1].startswith("/api/v1/partner/referral-exchanges?page=5")  # five pages of 200


async def test_thirty_days_across_pages_match_the_sandbox(lara) -> None:
    platform, sb, _clock = lara
    now = int(sb.now())
    start, end = now - 30 * DAY, now
    read = [e async for e in cabinet(platform).exchanges(start, end)]
    truth = sb.created_between(start, end)
    assert len(read) == len(truth) > 200  # more than one page of 200
    assert {e.id for e in read} == {r.key for r in truth}
    assert [e.time for e in read] == sorted((e.time for e in read), reverse=True)
    by_id = {r.key: r for r in truth}
    for e in read:
        row = by_id[e.id]
        assert e.succeeded == e.accrued == row.is_completed and e.completion_only
        assert e.status.phase is (OrderPhase.DONE if row.is_completed else OrderPhase.PROCESSING)
        assert e.reward == Decimal(row.reward) and e.reward_currency == row.reward_currency
        assert e.give_currency_code == row.currency_in and e.get_currency_code == row.currency_out
        assert e.give_amount is None and e.get_amount is None  # the side is not documented
        assert (e.completed_time == row.completed_at) if row.is_completed else e.completed_time is None
    earned = _truth_earned(truth)
    got: dict[str, Decimal] = {}
    for e in read:
        if e.accrued:
            got[e.reward_currency] = got.get(e.reward_currency, Decimal(0)) + e.reward
    assert got == earned


async def test_amounts_keep_the_digits_the_api_sent(lara) -> None:
    platform, sb, _clock = lara
    read = {e.id: e async for e in cabinet(platform).exchanges(0, 2**31)}
    for row in sb.counted(DEMO.key):
        if row.created_at is None:
            continue
        got = read[row.key]
        assert format(got.reward, "f") == row.reward  # "12.50000000" stays as written
        if isinstance(row.amount, str) and row.amount.startswith("__NUM__"):
            assert got.amount == Decimal(row.amount.removeprefix("__NUM__"))  # a JSON number, no float
        elif isinstance(row.amount, int):
            assert got.amount == Decimal(row.amount)
        elif row.amount == "n/a":
            assert got.amount is None  # junk: no amount, row kept
        else:
            assert format(got.amount, "f") == row.amount


async def test_odd_rows_are_tolerated(lara) -> None:
    platform, sb, _clock = lara
    read = {e.id: e async for e in cabinet(platform).exchanges(0, 2**31)}
    rows = {r.key: r for r in sb.counted(DEMO.key)}
    # string ids, 0/1 flags and missing / null / 0 completion times all came through
    assert any(isinstance(r.id, str) for r in rows.values())
    assert any(r.completed_as_int for r in rows.values())
    # the one row without created_at is in the all-time totals only
    undated = [k for k, r in rows.items() if r.created_at is None]
    assert len(undated) == 1 and undated[0] not in read and len(read) == len(rows) - 1
    # the row without an id and the item of another type are skipped
    assert "None" not in read and len(rows) == 900
    for key, row in rows.items():
        if key not in read:
            continue
        params = read[key].params
        if row.params in ([], {}, None) or row.params.__class__.__name__ == "_Missing":
            assert params == {}
        else:
            assert "rid" not in params  # the partner's own id echoed: not a dimension
            for name, value in row.params.items():
                if name == "rid":
                    continue
                expected = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
                assert params[name] == expected[:512]
    values = [v for e in read.values() for v in e.params.values()]
    assert "весна_2024" in values and "<b>promo</b>&x=1" in values and '["1","2"]' in values


async def test_the_second_partner_sees_only_their_own(lara) -> None:
    platform, sb, _clock = lara
    summary = await cabinet(platform, SECOND.key, SECOND.rid).summary()
    assert summary.exchanges == len(sb.counted(SECOND.key)) == 8 and summary.partner_id == SECOND.rid


# -- referral links ------------------------------------------------------------------------------------


async def test_links(lara) -> None:
    platform, _sb, _clock = lara
    links = platform.links
    link = links.link(
        "1101", {"utm_source": "telegram", "utm_campaign": "весна 2024", "rid": "9", "pid": "7"}
    )
    parts = urlsplit(link)
    assert link.startswith(platform.site_url + "/?rid=1101&")
    assert parse_qsl(parts.query) == [
        ("rid", "1101"), ("utm_source", "telegram"), ("utm_campaign", "весна 2024"), ("pid", "7"),
    ]  # fmt: skip
    assert "%D0%B2" in link  # URL-encoded
    assert links.link("1101", {}, page_url="https://elsewhere.example/x").startswith(platform.site_url + "/?")
    for bad in ("utm.source", "a b", "a[]", "x" * 33):
        with pytest.raises(ValueError):
            links.link("1101", {bad: "1"})
    with pytest.raises(ValueError):
        links.link("11 01", {})
