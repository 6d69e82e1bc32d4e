"""Polling fallback: finds status changes of open orders that no push reported.

Where the platform has an order feed (``Capability.ORDER_FEED``), each cycle costs a bounded number of
calls however many orders are open: the feed lists every order of the bot's key that changed since
the cursor, matched to our open orders by id. The cursor is the platform's newest change time seen
and is kept in the ``meta`` table (per platform), so the tracker resumes after a restart. On the very
first start it is the oldest open order's last change by our clock, less ``FIRST_WINDOW_ALLOWANCE``:
a platform's clock may be a local time read as UTC, hours behind ours.

On top of that (and instead of it, on platforms without a feed) orders unchanged for ``check_after``
seconds are read one by one, at most ``checks_per_cycle`` per cycle, and a status code whose title
was never seen costs one read (titles are then known, see ``titles.py``).

The loop ticks every ``min_interval`` seconds but only reads the database: the exchange is asked
when orders are open and the poll interval has passed. The interval doubles after every cycle with no
change, up to ``max_interval``, and drops back when something changes or a new order appears.
Orders in a final status are no longer open, so they cost nothing.

Reservations whose create never got a clear answer are followed here until the exchange can no
longer commit them (``Placement.commit_horizon_seconds``), whatever the customer did meanwhile (a new
``/exchange``, ``/cancel``, a restart of the bot): an order carrying such a key in the feed is adopted
(:mod:`.adoption`: attached, and the customer told it was created after all), and at most one
reservation older than ``settle_after`` seconds per cycle is looked up through the platform's
placement: adopted when found; when not, looked up again ``settle_after`` later, and forgotten only
by a lookup made after the horizon. A reservation younger than ``adopt_after`` seconds is left
alone: its create call may still be under way, and the customer is about to see the order card
(announcing it too would say the same thing twice).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.domain.errors import ExchangerError, OrderNotFound
from bot.domain.models import OrderObservation, OrderRef
from bot.exchange.ordering import ref_of
from bot.notifications.adoption import adopt_and_announce
from bot.notifications.clock import Clock, SystemClock
from bot.notifications.statuses import OrderStatusService
from bot.platforms.base import OrderUnreachable

if TYPE_CHECKING:
    from bot.app.wiring import Services
    from bot.storage.repositories import StoredOrder

log = logging.getLogger(__name__)

CURSOR_KEY = "status_tracker.cursor.{platform}"
FIRST_WINDOW_ALLOWANCE = 14 * 3600  # the farthest time zone west of UTC


class StatusTracker:
    def __init__(
        self,
        services: Services,
        statuses: OrderStatusService,
        *,
        clock: Clock | None = None,
        min_interval: float = 5.0,
        max_interval: float = 60.0,
        checks_per_cycle: int = 1,
        check_after: int = 3600,
        settle_after: int = 600,
        adopt_after: int = 120,
    ) -> None:
        self.services = services
        self.statuses = statuses
        self.platform = services.platform
        self.name = services.platform.info.name
        self.clock = clock or SystemClock()
        self.min_interval = min_interval
        self.settle_after = settle_after
        self.adopt_after = adopt_after
        self.max_interval = max_interval
        self.checks_per_cycle = checks_per_cycle
        self.check_after = check_after
        self.interval = min_interval
        self.last_changes = 0  # status changes recorded by the last poll_once
        self.last_calls = 0
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Return from :meth:`run` once the cycle under way (if any) is done."""
        self._stopping.set()

    async def run(self) -> None:
        known: set[int] = set()
        next_poll = 0.0
        while not self._stopping.is_set():
            try:
                open_ids = {o.id for o in await self.services.orders.open_orders(self.name)}
                if open_ids - known:
                    self.interval = self.min_interval
                    next_poll = min(next_poll, self.clock.monotonic() + self.min_interval)
                known = open_ids
                pending = await self._pending()
                if (open_ids or pending) and self.clock.monotonic() >= next_poll:
                    await self.poll_once()
                    if self.last_changes:
                        self.interval = self.min_interval
                    else:
                        self.interval = min(self.interval * 2, self.max_interval)
                    next_poll = self.clock.monotonic() + self.interval
                self.services.metrics.tracker_cycle_done()  # bot_tracker_lag_seconds
            except asyncio.CancelledError:
                raise
            except ExchangerError as exc:
                log.warning("status poll failed: %s", exc)
                self.interval = min(self.interval * 2, self.max_interval)
                next_poll = self.clock.monotonic() + self.interval
            except Exception:
                log.exception("status poll failed")
                self.interval = min(self.interval * 2, self.max_interval)
                next_poll = self.clock.monotonic() + self.interval
            await self._pause(self.min_interval)

    async def _pause(self, seconds: float) -> None:
        """Sleep on the clock, or less when :meth:`stop` is called."""
        stopped = asyncio.ensure_future(self._stopping.wait())
        timer = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait({stopped, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stopped, timer):
                task.cancel()
            await asyncio.gather(stopped, timer, return_exceptions=True)

    async def poll_once(self) -> int:
        """One cycle; returns how many exchange calls it made (0 when no order is open)."""
        self.last_changes = 0
        self.last_calls = 0
        orders = self.services.orders
        open_orders = {o.order_id: o for o in await orders.open_orders(self.name) if o.order_id}
        pending = {o.idempotency_key: o for o in await self._pending()}
        if not open_orders and not pending:
            return 0
        now = self.services.db.now()
        if self.platform.feed is not None:
            adoptable = {k: o for k, o in pending.items() if o.created_at <= now - self.adopt_after}
            await self._follow_feed(open_orders, pending, adoptable)

        due = [
            o
            for o in pending.values()
            if o.created_at <= now - self.settle_after and (o.next_check_at or 0) <= now
        ]
        if due:
            await self._settle(min(due, key=lambda o: (o.next_check_at or 0, o.id)), now)
        for stored in await orders.due_for_check(self.name, now, self.check_after, self.checks_per_cycle):
            await self._check(stored)
            await orders.schedule_check(stored.id, now, now + self.check_after)
        return self.last_calls

    async def _follow_feed(
        self,
        open_orders: dict[str, StoredOrder],
        pending: dict[str, StoredOrder],
        adoptable: dict[str, StoredOrder],
    ) -> None:
        """``pending``: every reservation waiting for an answer (they widen the first window);
        ``adoptable``: those old enough to be attached when the feed shows their order."""
        assert self.platform.feed is not None
        stored_cursor = cursor = await self._load_cursor()
        if cursor is None:
            oldest = min(
                [o.status_changed_at or o.created_at for o in open_orders.values()]
                + [o.created_at for o in pending.values()]
            )
            cursor = max(oldest - FIRST_WINDOW_ALLOWANCE, 1)
        seq = self.statuses.begin_read()
        page = await self.platform.feed.changed_since(cursor)
        self.last_calls += 1
        looked_up: set[str] = set()
        for seen in page.observations:
            if seen.idempotency_key and seen.idempotency_key in adoptable:
                key = adoptable.pop(seen.idempotency_key).idempotency_key
                pending.pop(key, None)
                await self._adopt(key, seen)
                continue
            stored = open_orders.get(seen.order_id)
            if stored is None or seen.status.code == stored.status_code:
                continue
            status = seen.status
            if not status.title:
                title = self.statuses.titles.get(None, status.code)
                if title is None and status.code not in looked_up:
                    looked_up.add(status.code)
                    if await self._check(stored):  # learns the title on the way
                        continue
                    title = self.statuses.titles.get(None, status.code)
                status = status.model_copy(update={"title": title or ""})
            if await self.statuses.record(stored.id, status, read_seq=seq):
                self.last_changes += 1
        if stored_cursor is None or page.cursor > cursor:
            await self._save_cursor(max(page.cursor, cursor))

    async def _pending(self) -> list[StoredOrder]:
        if self.platform.placement is None:
            return []
        ordering = self.services.ordering
        return await self.services.orders.pending_reservations(self.name, since=ordering.recent())

    async def _adopt(self, key: str, seen: OrderObservation) -> None:
        """An order created by an answer we never got: attach it and tell the customer."""
        order = seen.order
        if order is None:
            self.last_calls += 1
            order = await self.platform.customer().read_order(OrderRef(id=seen.order_id))
        if await adopt_and_announce(self.services, self.statuses, key, order) is not None:
            log.info("order %s: found by its key after a lost answer", order.id)
            self.last_changes += 1

    async def _settle(self, reservation: StoredOrder, now: int) -> None:
        placement = self.platform.placement
        assert placement is not None
        ordering = self.services.ordering
        key = reservation.idempotency_key
        # Due again later whatever this lookup gives (a failure included), and once past the horizon.
        horizon = reservation.created_at + placement.commit_horizon_seconds
        again = now + self.settle_after if now >= horizon else min(now + self.settle_after, horizon)
        await self.services.orders.schedule_check(reservation.id, now, max(again, now + 1))
        self.last_calls += 1
        try:
            order = await ordering.find(reservation)
        except OrderUnreachable as exc:
            if await adopt_and_announce(self.services, self.statuses, key, exc.order, unreachable=True):
                self.last_changes += 1
            return
        if order is None:
            if await ordering.forget_if_past_horizon(reservation):
                log.info("reservation %s: the exchange has no such order; dropped", reservation.id)
            return
        if await adopt_and_announce(self.services, self.statuses, key, order) is not None:
            self.last_changes += 1

    async def _check(self, stored: StoredOrder) -> bool:
        """Read one order and record it; True when its status changed."""
        try:
            seq = self.statuses.begin_read()
            self.last_calls += 1
            order = await self.platform.customer().read_order(ref_of(stored))
        except OrderNotFound:
            log.info("order %s: the exchange does not show it (keeping the last known status)", stored.id)
            return False
        changed = await self.statuses.record(stored.id, order.status, read_seq=seq)
        if changed:
            self.last_changes += 1
        return changed

    async def _load_cursor(self) -> int | None:
        value = await self.services.db.get_meta(CURSOR_KEY.format(platform=self.name))
        return None if value is None else int(value)

    async def _save_cursor(self, value: int) -> None:
        await self.services.db.set_meta(CURSOR_KEY.format(platform=self.name), str(value))
