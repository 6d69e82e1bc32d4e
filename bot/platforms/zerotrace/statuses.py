"""0trace's six statuses → :class:`~bot.domain.models.OrderStatus` (phase and rank).

NEW → PENDING → EXCHANGE → DONE; EXPIRED from anywhere live; EMERGENCY from any live status, left for
EXCHANGE (after the "continue" decision) or EXPIRED (the operator settled it). EMERGENCY and EXCHANGE
share a rank because the order can move between them either way; DONE and EXPIRED are final.
An unknown status (never documented, but the contract may grow) is PROCESSING and not final.
"""

from __future__ import annotations

from bot.domain.models import OrderPhase, OrderStatus

__all__ = ["EMERGENCY", "FINAL_CODES", "NEW", "status_of"]

NEW = "NEW"
EMERGENCY = "EMERGENCY"
_FINAL_RANK = 100

_TABLE: dict[str, tuple[OrderPhase, int]] = {
    "NEW": (OrderPhase.AWAITING_PAYMENT, 10),
    "PENDING": (OrderPhase.CONFIRMING_PAYMENT, 20),
    "EXCHANGE": (OrderPhase.PROCESSING, 30),
    "EMERGENCY": (OrderPhase.NEEDS_DECISION, 30),
    "DONE": (OrderPhase.DONE, _FINAL_RANK),
    "EXPIRED": (OrderPhase.CANCELLED, _FINAL_RANK),
}

FINAL_CODES = frozenset(code for code, (_, rank) in _TABLE.items() if rank == _FINAL_RANK)


def status_of(code: str | None) -> OrderStatus:
    """The neutral status of a 0trace status word. 0trace gives no titles, so there is none: the bot
    words each phase in the customer's language."""
    normal = (code or "").strip().upper() or "UNKNOWN"
    phase, rank = _TABLE.get(normal, (OrderPhase.PROCESSING, 30))
    return OrderStatus(code=normal, phase=phase, rank=rank)
