"""Recording order status changes: the one place that decides whether a chat is told.

Every observation of an order's status goes through :class:`OrderStatusService`, whoever made it
(a push, the status tracker, the order card's Refresh button)::

    statuses = OrderStatusService(services)            # cheap; Notifications.statuses is the shared one
    order = await statuses.refresh(local_id, locale="en", notify=False)   # read + record
    changed = await statuses.record(local_id, order.status, notify=False)

``record`` stores the status and, when the status code really changed, ``notify`` is true and the chat
has not been told about this status yet, puts ONE notification into the outbox and remembers it was
told, all in one transaction: two observations of the same change (a push and the tracker, a
duplicated push) give one notification. Pass ``notify=False`` when the customer is looking at the
order already (the order card's Refresh), so no push repeats what the card shows.

A stale observation never wins: a final status is never replaced by a non-final one, an order never
moves to a status of lower rank (pushes arriving out of order), and a read that started before
another read already recorded for the same order is ignored (``read_seq``: take one with
:meth:`OrderStatusService.begin_read` just before asking the exchange; ``refresh`` does this).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.domain.models import Order, OrderStatus
from bot.exchange.ordering import ref_of
from bot.notifications.titles import StatusTitles
from bot.storage.outbox import OutboxRepository

if TYPE_CHECKING:
    from bot.app.wiring import Services

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
        local_id: int,
        status: OrderStatus,
        *,
        notify: bool = True,
        read_seq: int | None = None,
        title_lang: str | None = None,
    ) -> bool:
        """Record the status of the bot's order ``local_id``; True when the status code changed.

        ``title_lang`` is the chat language the title came in (None: the platform's default).
        """
        if not status.code.strip():
            return False
        self.titles.learn(title_lang, status.code, status.title)
        db, orders = self.services.db, self.services.orders
        enqueued = False
        async with db.transaction():
            seq = self.begin_read() if read_seq is None else read_seq
            if seq < self._applied.get(local_id, 0):
                log.debug("order %s: ignoring a stale read of status %s", local_id, status.code)
                return False
            stored = await orders.get(local_id)
            if stored is None or stored.order_id is None:
                return False
            if stored.is_final and not status.is_final:
                log.info("order %s: final status %s kept over %s", local_id, stored.status_code, status.code)
                return False
            if stored.status_code is not None and status.rank < stored.status_rank:
                log.info(
                    "order %s: status %s kept over the older %s", local_id, stored.status_code, status.code
                )
                return False
            self._applied[local_id] = seq
            if not await orders.update_status(local_id, status):
                return False
            # A fresh change restarts the tracker's clock for direct checks of this order.
            await orders.schedule_check(local_id, None, None)
            if (
                notify
                and not stored.unreachable
                # A finished order's later tidying (a site deleting a cancelled order) is no news.
                and not stored.is_final
                and status.code != stored.notified_status
                and await self.services.chat_settings.is_active(stored.chat_id)
            ):
                payload = {
                    "order": local_id,
                    "status": status.code,
                    "phase": status.phase.value,
                    "status_title": status.title or None,
                    "title_lang": title_lang,
                }
                await self.outbox.enqueue(stored.chat_id, ORDER_STATUS_KIND, payload)
                enqueued = True
            await orders.mark_notified(local_id, status.code)
        if status.is_final:
            self._applied.pop(local_id, None)
        log.info("order %s: status %s%s", local_id, status.code, " (notification queued)" if enqueued else "")
        if enqueued and self.on_enqueued is not None:
            self.on_enqueued()
        return True

    async def refresh(self, local_id: int, *, locale: str | None = None, notify: bool = True) -> Order:
        """Read the order from the exchange (titles in ``locale``), record its status and return it.
        Exchange errors propagate; nothing is recorded then."""
        stored = await self.services.orders.get(local_id)
        if stored is None or stored.order_id is None:
            raise LookupError(f"order {local_id} is not attached")
        seq = self.begin_read()
        order = await self.services.platform.customer(locale).read_order(ref_of(stored))
        await self.record(local_id, order.status, notify=notify, read_seq=seq, title_lang=locale)
        return order
