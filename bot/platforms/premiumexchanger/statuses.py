"""PremiumExchanger status codes → :class:`~bot.domain.models.OrderStatus` (phase and rank).

Invariants:
- only ``success``, ``cancel``, ``delete`` and ``error`` are final, and they have the highest rank;
- an unknown code (sites add their own) is PROCESSING, not final;
- ranks grow along the flow: waiting for payment < payment being confirmed < processing < final.
  Every processing code shares one rank, unknown codes included: sites move between them in either
  direction (``verify`` ↔ ``amlwait``, ``payouterror`` → ``coldsuccess``) and insert their own.
"""

from __future__ import annotations

from bot.domain.models import OrderPhase, OrderStatus

__all__ = ["FINAL_CODES", "is_final_code", "status_of"]

_FINAL_RANK = 100
_PROCESSING_RANK = 40

_PROCESSING_CODES = (
    "realpay", "verify", "amlwait", "amlerror", "merchwait", "mercherror", "coldsuccess",
    "partpayout", "payouterror", "scrpayerror",
)  # fmt: skip

# code → (phase, rank)
_TABLE: dict[str, tuple[OrderPhase, int]] = {
    "coldnew": (OrderPhase.AWAITING_PAYMENT, 10),
    "new": (OrderPhase.AWAITING_PAYMENT, 20),
    "techpay": (OrderPhase.AWAITING_PAYMENT, 21),
    "payed": (OrderPhase.CONFIRMING_PAYMENT, 30),
    "coldpay": (OrderPhase.CONFIRMING_PAYMENT, 30),
    "partpay": (OrderPhase.CONFIRMING_PAYMENT, 30),
    **dict.fromkeys(_PROCESSING_CODES, (OrderPhase.PROCESSING, _PROCESSING_RANK)),
    "success": (OrderPhase.DONE, _FINAL_RANK),
    "cancel": (OrderPhase.CANCELLED, _FINAL_RANK),
    "delete": (OrderPhase.CANCELLED, _FINAL_RANK),
    "error": (OrderPhase.FAILED, _FINAL_RANK),
}

FINAL_CODES = frozenset(code for code, (_, rank) in _TABLE.items() if rank == _FINAL_RANK)


def _normal(code: str | None) -> str:
    return (code or "").strip().lower()


def is_final_code(code: str | None) -> bool:
    """True for success, cancel, delete and error; unknown codes are not final."""
    return _normal(code) in FINAL_CODES


def status_of(code: str | None, title: str = "") -> OrderStatus:
    """The neutral status of a PremiumExchanger code; ``title`` is the site's (localized) title."""
    phase, rank = _TABLE.get(_normal(code), (OrderPhase.PROCESSING, _PROCESSING_RANK))
    return OrderStatus(code=(code or "").strip() or "unknown", phase=phase, title=title or "", rank=rank)
