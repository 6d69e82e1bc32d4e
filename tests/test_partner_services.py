"""bot/partner services on their own: periods, deep-link payloads, referral links, CSV, payout guard."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.exchanger.errors import ApiDisabled, ExchangerTimeout, PayoutRefused
from bot.exchanger.models import PartnerClick, PartnerExchange, PartnerPayout
from bot.partner.deeplink import decode_payload, encode_payload
from bot.partner.export import exchanges_csv, mask_account, payouts_csv
from bot.partner.links import LinkDraft, LinkInputError, campaign_tag, parse_custom_param, referral_link
from bot.partner.payouts import Outcome, refusal_reason, request_payout
from bot.partner.periods import PeriodError, PeriodKind, parse_range, preset
from bot.partner.stats import aggregate
from bot.services import Services
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
    for partner, tag in [(7, ""), (7, "spring"), (999999999999, "x" * 30)]:
        payload = encode_payload(KEY, partner, tag)
        assert len(payload) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", payload)
        assert decode_payload(KEY, payload) == (partner, tag)


def test_every_changed_character_is_detected() -> None:
    payload = encode_payload(KEY, 7, "spring")
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
    for partner, tag in [(0, ""), ("7a", ""), (7, "Spring"), (7, "a-b"), (7, "x" * 31)]:
        with pytest.raises(ValueError):
            encode_payload(KEY, partner, tag)


def test_campaign_tag() -> None:
    assert campaign_tag("Spring-Sale 2026!") == "spring_sale2026"
    assert campaign_tag(None) == ""
    assert re.fullmatch(r"c[0-9a-f]{6}", campaign_tag("весна"))
    assert len(campaign_tag("x" * 80)) == 30


# -- referral links --------------------------------------------------------------------------------


def test_referral_link_encodes_and_protects_rid() -> None:
    link = referral_link(
        "https://ex.example/exchange_a_to_b/?rid=1&utm_source=old&lang=ru",
        "7",
        {"utm_source": "tg chan", "utm_campaign": "a&b=c/ü"},
        [("rid", "99"), ("sub", "1 2")],
    )
    assert link == (
        "https://ex.example/exchange_a_to_b/?rid=7&lang=ru&utm_source=tg+chan&utm_campaign=a%26b%3Dc%2F%C3%BC&sub=1+2"
    )
    assert referral_link("https://ex.example", "7") == "https://ex.example/?rid=7"


def test_custom_params_and_draft() -> None:
    assert parse_custom_param(" sub_id = a b ") == ("sub_id", "a b")
    cases = [("rid=1", "reserved"), ("RID=1", "reserved"), ("utm_term=x", "utm"), ("novalue", "format")]
    cases += [("bad name=1", "format"), ("x=", "empty")]
    for text, reason in cases:
        with pytest.raises(LinkInputError) as caught:
            parse_custom_param(text)
        assert caught.value.reason == reason
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


def _exchange(id_: int, time: int, status: str, reward: str, accrued: bool) -> PartnerExchange:
    return PartnerExchange(
        id=id_, time=time, status=status, succeeded=status == "success", accrued=accrued,
        partner_reward=Decimal(reward), give_amount=Decimal("10.50"), give_currency_code="RUB",
        get_amount=Decimal("0.00012000"), get_currency_code="BTC", date="2026-01-14 03:00:00",
    )  # fmt: skip


def test_aggregate_counts_only_the_period() -> None:
    period = preset(PeriodKind.WEEK, TODAY)
    inside, outside = period.start_time + 10, period.start_time - 10
    clicks = [
        PartnerClick(id=1, time=inside, user_hash="a", query_string="rid=7&utm_source=tg&utm_campaign=x"),
        PartnerClick(id=2, time=inside, user_hash="a", query_string="?rid=7&utm_source=tg&utm_campaign=x"),
        PartnerClick(id=3, time=inside, user_hash="b", query_string="rid=7"),
        PartnerClick(id=4, time=outside, user_hash="c", query_string="rid=7"),
    ]
    exchanges = [
        _exchange(1, inside, "success", "0.10", True),
        _exchange(2, inside, "new", "0.20", False),
        _exchange(3, inside, "cancel", "0.40", False),
        _exchange(4, outside, "success", "1.00", True),
    ]
    stats = aggregate(period, clicks, exchanges)
    assert (stats.clicks, stats.visitors, stats.exchanges, stats.completed) == (3, 2, 3, 1)
    assert (stats.accrued, stats.pending) == (Decimal("0.10"), Decimal("0.20"))
    assert stats.conversion == Decimal("33.33")
    assert stats.top_sources == [(("tg", "x"), 2), (("", ""), 1)]
    assert sum(day.clicks for day in stats.per_day.values()) == 3 and len(stats.per_day) == 7


def test_csv_keeps_amounts_as_written_and_escapes() -> None:
    content = exchanges_csv([_exchange(5, 1768446000, "success", "0.010", True)])
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert rows[0][:3] == ["id", "time_unix", "time_utc"]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["amount_give"], row["amount_get"], row["partner_reward"]) == ("10.50", "0.00012000", "0.010")
    payout = PartnerPayout(
        id=1, time=1, account='TQn9,"quoted"LSE', pay_amount=Decimal("1E+1"), status="paid"
    )
    rows = list(csv.reader(io.StringIO(payouts_csv([payout]).decode("utf-8"))))
    assert rows[1][6] == 'TQn9****"LSE' and rows[1][7] == "1E+1"


def test_mask_account() -> None:
    assert mask_account("2200700123456789") == "2200****6789"
    assert mask_account("P1048576") == "P1****76"
    assert mask_account("abc") == "***"


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
    first = await request_payout(repo, cabinet, 1, "key-1", "2", "acc")  # type: ignore[arg-type]
    again = await request_payout(repo, cabinet, 1, "key-1", "2", "acc")  # type: ignore[arg-type]
    assert (first.outcome, first.payout_id) == (Outcome.CREATED, "55")
    assert (again.outcome, again.payout_id, again.state) == (Outcome.ALREADY, "55", PayoutState.DONE)
    assert cabinet.calls == 1
    other_chat = await request_payout(repo, cabinet, 2, "key-1", "2", "acc")  # type: ignore[arg-type]
    assert other_chat.outcome is Outcome.ALREADY and other_chat.payout_id is None and cabinet.calls == 1


async def test_failed_may_retry_but_lost_answer_never_resends(services: Services) -> None:
    repo = PayoutRequestRepository(services.db)
    cabinet = _Cabinet(ApiDisabled(method="add_partner_payout"), "56", ExchangerTimeout("slow"))
    with pytest.raises(ApiDisabled):
        await request_payout(repo, cabinet, 1, "key-2", "1", "acc")  # type: ignore[arg-type]
    retried = await request_payout(repo, cabinet, 1, "key-2", "1", "acc")  # type: ignore[arg-type]
    assert retried.payout_id == "56"
    lost = await request_payout(repo, cabinet, 1, "key-3", "1", "acc")  # type: ignore[arg-type]
    assert lost.outcome is Outcome.UNKNOWN
    assert (await request_payout(repo, cabinet, 1, "key-3", "1", "acc")).state is PayoutState.UNKNOWN  # type: ignore[arg-type]
    assert cabinet.calls == 3


async def test_refusal_is_recorded(services: Services) -> None:
    repo = PayoutRequestRepository(services.db)
    refused = await request_payout(
        repo,
        _Cabinet(PayoutRefused("<span>Account is empty</span>")),
        1,
        "key-4",
        "1",
        "",  # type: ignore[arg-type]
    )
    assert refused.outcome is Outcome.REFUSED and refusal_reason(refused.refusal).value == "account"
    assert (await repo.get(1, "key-4")).state is PayoutState.REFUSED
    assert refusal_reason("Something new").value == "other"
