"""Tolerant parsing of iEXExchanger answers in the shapes the documentation leaves open (recorded/
iexexchanger/): envelope → site rows → neutral models, with nothing failing and money never via float."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain import errors
from bot.domain.models import OrderPhase, PayoutStatus
from bot.platforms.iexexchanger import mapping, wire
from bot.platforms.iexexchanger.envelope import decode, error_for
from bot.platforms.iexexchanger.models import PartnerExchangeRow, PartnerProfile, PayoutRow, Statistics

RECORDED = Path(__file__).parent / "recorded" / "iexexchanger"


def envelope_of(name: str, status: int = 200):
    return decode(status, (RECORDED / name).read_bytes(), {}, method="GET /x", secrets=())


def test_a_wrapped_summary_with_float_noise_and_lower_case_currency() -> None:
    profile = PartnerProfile.from_wire(envelope_of("summary_wrapped_numbers.json").result)
    summary = mapping.partner_summary(profile, profile.referral_hash or "")
    assert summary.partner_id == "Gznn" and summary.balance_currency == "RUB"
    assert summary.balance == Decimal("1190.36000061035") and isinstance(summary.balance, Decimal)
    assert summary.reward_percent == Decimal("0.5") and summary.referral_count == 2
    assert profile.created_at == 1776022810


def test_exchange_rows_of_every_shape() -> None:
    result = envelope_of("exchanges_items_mixed.json").result
    rows = [PartnerExchangeRow.from_wire(r) for r in wire.rows_of(result, ("exchanges",))]
    assert rows[-1] is None  # no id: dropped by the reader
    full, odd, held = (mapping.partner_exchange(r, fallback_currency="USDT") for r in rows[:3] if r)
    assert full.give_amount == Decimal("30.7607") and full.give_currency_code == "TON"
    assert full.reward == Decimal("1.32") and full.reward_currency == "USDT" and full.accrued
    assert full.time == 1782052974 and full.completed_time == 1782054234 and full.number == "EX-001347"
    assert (
        odd.status.code == "on_hold_review"
        and odd.status.phase is OrderPhase.PROCESSING
        and not odd.status.is_final
    )
    assert (
        odd.time == 0
        and odd.date == "11 мая 2024 09:42"
        and not odd.accrued
        and odd.reward_currency == "USDT"
    )
    assert held.succeeded and not held.accrued and held.reward == 0 and held.reward_currency == ""
    assert held.time == 1782108000


def test_payout_rows_of_every_shape() -> None:
    rows = [PayoutRow.from_wire(r) for r in wire.rows_of(envelope_of("payouts_bare_strings.json").result)]
    paid, rejected, unknown = (mapping.partner_payout(r) for r in rows if r)
    assert paid.status is PayoutStatus.PAID and paid.tx_id and paid.paid_time == 1781586012
    assert paid.amount == Decimal("80.72") and paid.number == "PO-000210"
    assert rejected.status is PayoutStatus.REFUSED and rejected.note == "Wrong card"
    assert rejected.currency_code == "RUB" and rejected.amount == 12 and rejected.time == 1781670600
    assert unknown.status is PayoutStatus.UNKNOWN and unknown.status_code == "processing_by_bank"
    assert unknown.amount is None and unknown.tx_id is None


def test_statistics_without_a_window() -> None:
    stats = mapping.partner_stats(
        Statistics.from_wire(envelope_of("statistics_no_window.json").result), period="week"
    )
    assert stats.period == "week" and stats.start is None and stats.end is None
    assert stats.clicks == 160 and stats.accruals == Decimal("31.07") and stats.currency == "USDT"
    assert stats.completed_exchanges is None and stats.series == []


def test_an_error_without_top_level_code_or_error_code() -> None:
    envelope = envelope_of("error_validation_no_code.json", status=422)
    error = error_for(envelope, method="GET /x")
    assert isinstance(error, errors.ValidationFailed) and "per_page" in error.field_errors


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"<html>502</html>", 502),
        (b'{"state": "0"}', 200),
        (b"[]", 200),
        (b'{"state": 0, "resu', 200),
        (b"", 200),
    ],
)
def test_anything_but_an_envelope_is_a_transport_failure(body: bytes, status: int) -> None:
    with pytest.raises(errors.UnexpectedResponse) as info:
        decode(status, body, {}, method="GET /x", secrets=())
    assert info.value.transient


def test_times_money_and_ids() -> None:
    assert wire.parse_time("2026-06-23T10:00:00Z")[0] == wire.parse_time("2026-06-23T13:00:00+03:00")[0]
    assert wire.parse_time("2026-06-23T10:00:00.5+00:00")[0] == 1782208800
    assert wire.parse_time("вчера") == (None, "вчера") and wire.parse_time(None) == (None, "")
    assert (
        wire.money("1 190.36") == Decimal("1190.36")
        and wire.money("abc") is None
        and wire.money(True) is None
    )
    assert wire.to_id(12) == "12" and wire.to_id(" 7 ") == "7" and wire.to_id(True) is None
