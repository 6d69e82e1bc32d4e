"""Signed pushes from the platform (``WebhookReceiver``), once verified: each real event handled once.

``bot.app.web`` mounts the receiver at ``POST {PUBLIC_URL}{receiver.path}`` (``…/<token>`` when the
platform signs per partner), verifies the raw request and hands the events to :class:`PushInbox`:

- an event whose ``dedupe_key`` was handled before (``push_events``, per platform) is dropped; the
  key is stored once the event is handled, and the answer (2xx) comes after both;
- an order event (``PushEvent.observation``) is recorded through :class:`OrderStatusService` (the
  final and rank guards apply: a late push never moves an order back); an order created by an
  answer that never reached us is adopted when the push names its idempotency key and carries it,
  and the reservation is older than ``adopt_after`` seconds (a younger one may still be being
  placed: its customer is about to see it);
- a partner event (``kind`` such as ``"payout_paid"``) goes to the handler registered for that kind
  with :meth:`PushInbox.on` (unhandled kinds are acknowledged and logged).

A handler that fails leaves the key unstored and makes the request fail (5xx), so the platform's
retry is handled in full.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.notifications.adoption import adopt_and_announce
from bot.notifications.statuses import OrderStatusService
from bot.platforms.base import PushEvent, WebhookReceiver

if TYPE_CHECKING:
    from bot.app.wiring import Services
    from bot.storage.repositories import LinkedCredentials

log = logging.getLogger(__name__)

# The key of ``LinkedCredentials.extra`` holding the secret a per-partner push registration signs with.
PUSH_SECRET_EXTRA = "webhook_secret"
SEEN_RETENTION_SECONDS = 30 * 24 * 3600
_PRUNE_EVERY = 3600

PartnerPushHandler = Callable[[PushEvent, "LinkedCredentials | None"], Awaitable[None]]


def push_url_for(public_url: str | None, receiver: WebhookReceiver, token: str | None = None) -> str | None:
    """Where the platform should push (``token``: the partner's, when it signs per partner); None
    without PUBLIC_URL."""
    if not public_url:
        return None
    url = public_url.rstrip("/") + receiver.path
    return f"{url}/{token}" if receiver.per_partner_token and token else url


class PushInbox:
    def __init__(self, services: Services, statuses: OrderStatusService) -> None:
        self.services = services
        self.statuses = statuses
        self.name = services.platform.info.name
        self._handlers: dict[str, PartnerPushHandler] = {}
        self.adopt_after = 120
        self._pruned_at: int | None = None

    def on(self, kind: str, handler: PartnerPushHandler) -> None:
        """Handle partner events of ``kind``: ``handler(event, linked)`` (``linked``: the partner whose
        per-partner URL it came to, if any)."""
        self._handlers[kind] = handler

    async def accept(self, events: list[PushEvent], partner: LinkedCredentials | None = None) -> None:
        """Handle verified events; raises whatever a handler raised (then nothing of it is kept)."""
        await self._prune()
        for event in events:
            if await self._seen(event.dedupe_key):
                log.info("push %s: already handled; dropped", event.dedupe_key)
                continue
            # Handling is idempotent (a status already recorded changes nothing), so a crash between
            # handling and remembering costs a second handling of the redelivery, never a lost event.
            await self._handle(event, partner)
            await self._remember(event.dedupe_key)

    async def _handle(self, event: PushEvent, partner: LinkedCredentials | None) -> None:
        if event.observation is not None:
            await self._observed(event)
            return
        handler = self._handlers.get(event.kind)
        if handler is None:
            log.info("push %s: no handler for %r; acknowledged", event.dedupe_key, event.kind)
            return
        await handler(event, partner)

    async def _observed(self, event: PushEvent) -> None:
        seen = event.observation
        assert seen is not None
        orders = self.services.orders
        stored = await orders.get_by_order_id(self.name, seen.order_id)
        if stored is None and seen.idempotency_key and seen.order is not None:
            reserved = await orders.get_by_key(self.name, seen.idempotency_key)
            young = reserved is not None and reserved.created_at > self.services.db.now() - self.adopt_after
            if reserved is not None and reserved.order_id is None and not young:
                await adopt_and_announce(self.services, self.statuses, seen.idempotency_key, seen.order)
                log.info("order %s: found by a push after a lost answer", seen.order_id)
                return
        if stored is None:
            log.info("push for order %s, which is not the bot's: ignored", seen.order_id)
            return
        await self.statuses.record(stored.id, seen.status)

    async def _seen(self, key: str) -> bool:
        return bool(
            await self.services.db.fetchval(
                "SELECT 1 FROM push_events WHERE platform = ? AND dedupe_key = ?", (self.name, key)
            )
        )

    async def _remember(self, key: str) -> None:
        await self.services.db.execute(
            "INSERT INTO push_events (platform, dedupe_key, received_at) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, dedupe_key) DO NOTHING",
            (self.name, key, self.services.db.now()),
        )

    async def _prune(self) -> None:
        db = self.services.db
        now = db.now()
        if self._pruned_at is not None and now - self._pruned_at < _PRUNE_EVERY:
            return
        self._pruned_at = now
        await db.execute(
            "DELETE FROM push_events WHERE platform = ? AND received_at < ?",
            (self.name, now - SEEN_RETENTION_SECONDS),
        )
