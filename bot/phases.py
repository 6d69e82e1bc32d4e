"""Order phases in words a customer understands (msgids; translate with the chat's locale).

Two msgids carry an "order phase:" prefix so their translations can agree with «заявка» without
clashing with the partner cabinet's words for an exchange."""

from __future__ import annotations

from bot.domain.models import OrderPhase
from bot.i18n import N_

PHASE_WORDS: dict[OrderPhase, str] = {
    OrderPhase.AWAITING_PAYMENT: N_("waiting for your payment"),
    OrderPhase.CONFIRMING_PAYMENT: N_("payment is being confirmed"),
    OrderPhase.PROCESSING: N_("being processed"),
    OrderPhase.NEEDS_DECISION: N_("needs your decision"),
    OrderPhase.DONE: N_("order phase: completed"),
    OrderPhase.CANCELLED: N_("cancelled or expired"),
    OrderPhase.FAILED: N_("order phase: failed"),
}

# Phases always shown in our words only: a site's own title for them ("The order is deleted", "Refusal
# of payment") reads as something else than the cancellation it is.
PLAIN_PHASES = frozenset({OrderPhase.CANCELLED})
