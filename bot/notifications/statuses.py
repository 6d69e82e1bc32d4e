"""Recording order status changes: the one place that decides whether a chat is told.

Every observation of an order's status goes through :class:`OrderStatusService`, whoever made it
(an exchanger callback, the status tracker, the order card's Refresh button)::

    statuses = OrderStatusService(services)            # cheap; Notifications.statuses is the shared one
    order = await statuses.refresh(bid_id, exchanger=exchanger, notify=False)   # bid_info + record
    changed = await statuses.record(bid_id, order.status, order.status_title, notify=False)

``record`` stores the status (``BidRepository.update_status``) and, when the status code really
changed, ``notify`` is true and the chat has not been told about this status yet, puts ONE
notification into the outbox and sets ``notified_status``, all in one transaction: two observations
of the same change (a callback and the tracker, a duplicate callback) give one notification. Pass
``notify=False`` when the user is looking at the order already (the order card's Refresh), so no push
repeats what the card shows.

A stale observation never wins: a final status is never replaced by a non-final one, and a read that
started before another read already recorded for the same order is ignored (``read_seq``: take one
with :meth:`OrderStatusService.begin_read` just before asking the exchanger; ``refresh`` does this).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.exchanger.base import ExchangerPlatform
from bot.exchanger.models import Order, is_final_status
from bot.notifications.outbox import OutboxRepository
from bot.notifications.titles import StatusTitles

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

ORDER_STATUS_KIND = "order_status"


class OrderStatusService:
    def __init__(
        self,
        services: Services,
        *,
        titles: StatusTitles | None = None,
        outbox: OutboxRepository | None = None,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.services = services
        self.titles = titles or StatusTitles()
        self.outbox = outbox or OutboxRepository(services.db)
        self.on_enqueued = on_enqueued
        self._read_seq = 0
        # Per order: read_seq of the newest observation recorded, to reject reads that started earlier.
        self._applied: dict[int, int] = {}

    def begin_read(self) -> int:
        """A ticket for a status read about to be made; pass it to :meth:`record` as ``read_seq``."""
        self._read_seq += 1
        return self._read_seq

    async def record(
        self,
        bid_id: int,
        status: str,
        status_title: str | None,
        *,
        notify: bool = True,
        read_seq: int | None = None,
        title_lang: str | None = None,
    ) -> bool:
        """Record order ``bid_id``'s (the exchanger's id) status; True when the status code changed.

        ``title_lang`` is the API-LANG the title came in (None: the bot client's default).
        """
        bid_id = int(bid_id)
        status = status.strip()
        if not status:
            return False
        self.titles.learn(title_lang, status, status_title)
        db, bids = self.services.db, self.services.bids
        enqueued = False
        async with db.transaction():
            seq = self.begin_read() if read_seq is None else read_seq
            if seq < self._applied.get(bid_id, 0):
                log.debug("order %s: ignoring a stale read of status %s", bid_id, status)
                return False
            bid = await bids.get_by_bid_id(bid_id)
            if bid is None:
                return False
            if bid.is_final and not is_final_status(status):
                log.info("order %s: final status %s kept over %s", bid_id, bid.status, status)
                return False
            self._applied[bid_id] = seq
            if not await bids.update_status(bid_id, status, status_title):
                return False
            # A fresh change restarts the tracker's clock for direct checks of this order.
            await bids.schedule_check(bid_id, None, None)
            if (
                notify
                and status != bid.notified_status
                and await self.services.chat_settings.is_active(bid.chat_id)
            ):
                payload = {
                    "bid_id": bid_id,
                    "status": status,
                    "status_title": status_title,
                    "title_lang": title_lang,
                }
                await self.outbox.enqueue(bid.chat_id, ORDER_STATUS_KIND, payload)
                enqueued = True
            await bids.mark_notified(bid_id, status)
        if is_final_status(status):
            self._applied.pop(bid_id, None)
        log.info("order %s: status %s%s", bid_id, status, " (notification queued)" if enqueued else "")
        if enqueued and self.on_enqueued is not None:
            self.on_enqueued()
        return True

    async def refresh(
        self, bid_id: int, *, exchanger: ExchangerPlatform | None = None, notify: bool = True
    ) -> Order:
        """Read the order with ``bid_info`` (through ``exchanger``, e.g. one scoped to the chat's
        language; the bot's client by default), record its status and return it. Exchanger errors
        propagate; nothing is recorded then."""
        client = exchanger or self.services.exchanger
        seq = self.begin_read()
        order = await client.get_order(bid_id)
        await self.record(
            int(order.id),
            order.status,
            order.status_title or None,
            notify=notify,
            read_seq=seq,
            title_lang=getattr(client, "lang", None),
        )
        return order
