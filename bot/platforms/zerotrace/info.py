"""What 0trace serves, as data (:class:`~bot.domain.capabilities.PlatformInfo`).

The customer flow, the emergency decision and signed webhooks. No cancel, no "I have paid" (deposits
are seen on-chain), no order feed, no partner reporting of any kind (0trace keeps earnings, payouts
and statistics in its own cabinet), so no partner credentials to link either. The operator's
reference codes are managed by the bot's admins (``/codes``).
"""

from __future__ import annotations

from bot.domain.capabilities import Capability, PlatformInfo
from bot.domain.models import AmountSide

__all__ = ["CABINET_URL", "INFO", "NAME", "WEBHOOK_PATH"]

NAME = "0trace"
WEBHOOK_PATH = "/webhooks/0trace"
CABINET_URL = "https://0trace.io/partner/login"

INFO = PlatformInfo(
    name=NAME,
    title="0trace",
    capabilities=frozenset(
        {
            Capability.CATALOGUE,
            Capability.QUOTE,
            Capability.ORDERS,
            Capability.EMERGENCY_DECISION,
            Capability.PUSH_WEBHOOK,
            Capability.REFERENCE_CODES,
        }
    ),
    amount_sides=(AmountSide.GIVE, AmountSide.GET),
    extra={"cabinet_url": CABINET_URL, "webhook_path": WEBHOOK_PATH},
)
