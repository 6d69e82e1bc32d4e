"""iEXExchanger's wire rows (:mod:`.models`) → the bot's neutral models (:mod:`bot.domain.models`).

Amounts keep the currency they came with (upper-cased codes, never converted). A bonus counts as earned
only when ``bonus_status`` says accrued, or — without a ``bonus_status`` — when the exchange completed:
held, reversed and open bonuses are never earnings. Status words are open-ended: an unknown one keeps its
own code, is not final and has rank 0.
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain import models as neutral
from bot.domain.models import OrderPhase, OrderStatus, PayoutStatus
from bot.platforms.iexexchanger.models import (
    PartnerExchangeRow,
    PartnerProfile,
    PayoutRow,
    ReferralRow,
    Statistics,
)

__all__ = [
    "PHASE_CODES",
    "exchange_status",
    "partner_exchange",
    "partner_payout",
    "partner_referral",
    "partner_stats",
    "partner_summary",
    "payout_status",
    "payout_status_code",
]

# status word → (phase, rank). Ranks only ever grow along an order's life.
_EXCHANGE_STATUSES: dict[str, tuple[OrderPhase, int]] = {
    "created": (OrderPhase.AWAITING_PAYMENT, 10),
    "new": (OrderPhase.AWAITING_PAYMENT, 10),
    "pending": (OrderPhase.AWAITING_PAYMENT, 10),
    "awaiting_payment": (OrderPhase.AWAITING_PAYMENT, 10),
    "paid": (OrderPhase.CONFIRMING_PAYMENT, 20),
    "payment_received": (OrderPhase.CONFIRMING_PAYMENT, 20),
    "processing": (OrderPhase.PROCESSING, 30),
    "in_progress": (OrderPhase.PROCESSING, 30),
    "hold": (OrderPhase.PROCESSING, 30),
    "verify": (OrderPhase.PROCESSING, 30),
    "verification": (OrderPhase.NEEDS_DECISION, 35),
    "manual_review": (OrderPhase.NEEDS_DECISION, 35),
    "completed": (OrderPhase.DONE, 100),
    "success": (OrderPhase.DONE, 100),
    "done": (OrderPhase.DONE, 100),
    "cancelled": (OrderPhase.CANCELLED, 100),
    "canceled": (OrderPhase.CANCELLED, 100),
    "cancel": (OrderPhase.CANCELLED, 100),
    "rejected": (OrderPhase.CANCELLED, 100),
    "expired": (OrderPhase.CANCELLED, 100),
    "refunded": (OrderPhase.CANCELLED, 100),
    "error": (OrderPhase.FAILED, 100),
    "failed": (OrderPhase.FAILED, 100),
}
# The codes the server filter takes for each phase (``filter[status]`` takes one value per request).
PHASE_CODES: dict[OrderPhase, tuple[str, ...]] = {}
for _code, (_phase, _) in _EXCHANGE_STATUSES.items():
    PHASE_CODES.setdefault(_phase, ())
    PHASE_CODES[_phase] += (_code,)

_ACCRUED = frozenset({"accrued", "credited", "available", "settled", "paid", "success"})
_NOT_EARNED = frozenset({"hold", "held", "pending", "reversed", "cancelled", "canceled", "rejected", "none"})

_PAYOUT_STATUSES: dict[str, PayoutStatus] = {
    "pending": PayoutStatus.PENDING,
    "new": PayoutStatus.PENDING,
    "processing": PayoutStatus.PENDING,
    "paid": PayoutStatus.PAID,
    "completed": PayoutStatus.PAID,
    "rejected": PayoutStatus.REFUSED,
    "declined": PayoutStatus.REFUSED,
    "refused": PayoutStatus.REFUSED,
    "cancelled": PayoutStatus.CANCELLED,
    "canceled": PayoutStatus.CANCELLED,
}
# PayoutStatus → the documented ``filter[status]`` value.
_PAYOUT_FILTER: dict[PayoutStatus, str] = {
    PayoutStatus.PENDING: "pending",
    PayoutStatus.PAID: "paid",
    PayoutStatus.REFUSED: "rejected",
}


def exchange_status(code: str) -> OrderStatus:
    code = code.strip().lower()
    phase, rank = _EXCHANGE_STATUSES.get(code, (OrderPhase.PROCESSING, 0))
    # No title: the v3 word is a code ("verify", "cancel"), shown to people as its phase's words.
    return OrderStatus(code=code or "unknown", phase=phase, rank=rank)


def payout_status(code: str) -> PayoutStatus:
    return _PAYOUT_STATUSES.get(code.strip().lower(), PayoutStatus.UNKNOWN)


def payout_status_code(status: PayoutStatus | str) -> str:
    """The ``filter[status]`` value for a neutral status (or a platform word passed as is)."""
    if isinstance(status, PayoutStatus):
        try:
            return _PAYOUT_FILTER[status]
        except KeyError:
            raise ValueError(f"payouts can't be filtered by {status.value}") from None
    return status.strip().lower()


def partner_summary(profile: PartnerProfile, partner_id: str) -> neutral.PartnerSummary:
    return neutral.PartnerSummary(
        partner_id=partner_id,
        balance=profile.balance,
        balance_currency=profile.currency,
        status=profile.status,
        referral_count=profile.referrals_count,
        reward_percent=profile.percent,
    )


def partner_stats(stats: Statistics, *, period: str) -> neutral.PartnerStats:
    return neutral.PartnerStats(
        period=stats.period or period,
        start=stats.date_from,
        end=stats.date_to,
        currency=stats.currency,
        clicks=stats.clicks,
        registrations=stats.registrations,
        exchanges=stats.exchanges,
        completed_exchanges=stats.completed_exchanges,
        accruals=stats.accruals,
        series=[
            neutral.PartnerStatsPoint(
                date=p.date,
                clicks=p.clicks,
                registrations=p.registrations,
                exchanges=p.exchanges,
                completed_exchanges=p.completed_exchanges,
                accruals=p.accruals,
            )
            for p in stats.series
        ],
    )


def partner_referral(row: ReferralRow) -> neutral.PartnerReferral:
    return neutral.PartnerReferral(
        id=row.id,
        time=row.created_at,
        client_id=row.client_id,
        email=row.email,
        name=row.name,
        exchanges=row.exchanges_count,
        date=row.created_text,
    )


def is_accrued(row: PartnerExchangeRow) -> bool:
    if row.bonus_status:
        return row.bonus_status in _ACCRUED and row.bonus_status not in _NOT_EARNED
    return exchange_status(row.status).phase is OrderPhase.DONE


def partner_exchange(row: PartnerExchangeRow, *, fallback_currency: str = "") -> neutral.PartnerExchange:
    """``fallback_currency``: the partner balance's currency, the best guess for a bonus that names none."""
    status = exchange_status(row.status)
    return neutral.PartnerExchange(
        id=row.id,
        time=row.created_at or 0,
        status=status,
        give_currency_code=row.currency_give,
        get_currency_code=row.currency_receive,
        give_amount=row.amount_give,
        get_amount=row.amount_receive,
        succeeded=status.phase is OrderPhase.DONE,
        accrued=is_accrued(row),
        reward=row.bonus if row.bonus is not None else Decimal(0),
        reward_currency=row.bonus_currency or (fallback_currency if row.bonus is not None else ""),
        visitor=row.client_id or "",
        date=row.created_text,
        give_title=row.title_give,
        get_title=row.title_receive,
        number=row.order_public_id or row.order_id or "",
        completed_time=row.completed_at,
    )


def partner_payout(row: PayoutRow) -> neutral.PartnerPayout:
    """``account`` is the full wallet: the core masks it on screen and in CSVs."""
    return neutral.PartnerPayout(
        id=row.id,
        time=row.created_at or 0,
        method=row.payment_system,
        account=row.wallet,
        amount=row.amount,
        currency_code=row.currency,
        status=payout_status(row.status),
        date=row.created_text,
        number=row.public_id,
        status_code=row.status,
        tx_id=row.tx_id,
        paid_time=row.paid_at,
        note=row.comment,
    )
