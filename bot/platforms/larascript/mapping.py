"""Lara rows → the bot's neutral models.

``is_completed`` is all the API says about an exchange's state, so a row not completed is "not
completed" (in progress *or* failed: never "pending"), its reward not final. The amount's side is not
documented: it goes to ``PartnerExchange.amount`` with the pair, never to one side.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from bot.domain.models import OrderPhase, OrderStatus, PartnerExchange, PartnerSummary
from bot.platforms.larascript.wire import ReferralExchange

__all__ = ["COMPLETED", "NOT_COMPLETED", "partner_exchange", "sort_key", "summary"]

COMPLETED = OrderStatus(code="completed", phase=OrderPhase.DONE, title="", rank=10)
NOT_COMPLETED = OrderStatus(code="not_completed", phase=OrderPhase.PROCESSING, title="", rank=0)


def partner_exchange(row: ReferralExchange) -> PartnerExchange:
    return PartnerExchange(
        id=row.id,
        time=row.created_at or 0,  # no creation time: in all-time totals only, never in a period
        status=COMPLETED if row.is_completed else NOT_COMPLETED,
        give_currency_code=row.currency_in,
        get_currency_code=row.currency_out,
        amount=row.amount,
        succeeded=row.is_completed,
        accrued=row.is_completed,
        reward=row.reward if row.reward is not None else Decimal(0),
        reward_currency=row.reward_currency,
        completed_time=row.completed_at,
        completion_only=True,
        params=row.params,
    )


def sort_key(row: ReferralExchange) -> tuple[int, int, str]:
    """Newest first: ``created_at`` desc, then ``id`` desc (numeric ids compared as numbers)."""
    return (-(row.created_at or 0), -int(row.id) if row.id.isdigit() else 0, row.id)


def summary(rid: str, rows: Iterable[ReferralExchange], read_at: float) -> PartnerSummary:
    """All time: exchanges referred, completed, and what the completed ones earned per currency."""
    total = completed = 0
    earned: dict[str, Decimal] = {}
    for row in rows:
        total += 1
        if row.is_completed:
            completed += 1
            if row.reward is not None:  # under "" when the row names no currency (said on screen)
                earned[row.reward_currency] = earned.get(row.reward_currency, Decimal(0)) + row.reward
    return PartnerSummary(
        partner_id=rid,
        earned=dict(sorted(earned.items())),
        exchanges=total,
        completed_exchanges=completed,
        as_of=int(read_at),
    )
