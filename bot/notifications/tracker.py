"""Polling fallback: finds status changes of open orders that no callback reported.

Each cycle costs a constant number of exchanger calls, however many orders are open: one
``get_exchanges`` page (500 orders) lists every order of the bot's API login whose status changed
since the cursor, and it is matched to our open orders by id. More pages only when more than 500
orders changed inside the window. The cursor is the newest change time seen (server clock) and is
kept in the ``meta`` table, so the tracker resumes after a restart; the window starts ``overlap``
seconds before it, to cover clock skew and changes committed late. On the very first start it is the
oldest open order's last change (our clock).

On top of that, at most ``checks_per_cycle`` orders unchanged for ``check_after`` seconds are read
with ``bid_info`` (an order missing from the listing, say), and a status code whose title was never
seen costs one ``bid_info`` (titles are then known, see ``titles.py``).

The loop ticks every ``min_interval`` seconds but only reads the database: the exchanger is asked
when orders are open and the poll interval has passed. The interval doubles after every cycle with no
change, up to ``max_interval``, and drops back when something changes or a new order appears.
Orders in a final status are no longer open, so they cost nothing.

Reservations whose create_bid never got a clear answer (and whose customer never came back) are
settled here too: an order carrying such an api_id in the listing is attached and announced, and
at most one reservation older than ``settle_after`` seconds per cycle is looked up by its api_id:
attached when found, forgotten when the exchanger has no such order.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.exchanger.base import MAX_PAGE_SIZE
from bot.exchanger.errors import ExchangerError, NoBid
from bot.exchanger.models import OrderRecord
from bot.notifications.clock import Clock, SystemClock
from bot.notifications.statuses import OrderStatusService

if TYPE_CHECKING:
    from bot.services import Services
    from bot.storage.repositories import Bid

log = logging.getLogger(__name__)

CURSOR_KEY = "status_tracker.cursor"
# PremiumExchanger's default page size: a server that ignores `limit` answers this many.
SERVER_DEFAULT_LIMIT = 100


class StatusTracker:
    def __init__(
        self,
        services: Services,
        statuses: OrderStatusService,
        *,
        clock: Clock | None = None,
        min_interval: float = 5.0,
        max_interval: float = 60.0,
        overlap: int = 300,
        page_size: int = MAX_PAGE_SIZE,
        checks_per_cycle: int = 1,
        check_after: int = 3600,
        settle_after: int = 600,
    ) -> None:
        self.services = services
        self.statuses = statuses
        self.clock = clock or SystemClock()
        self.min_interval = min_interval
        self.settle_after = settle_after
        self.max_interval = max_interval
        self.overlap = overlap
        self.page_size = page_size
        self.checks_per_cycle = checks_per_cycle
        self.check_after = check_after
        self.interval = min_interval
        self.last_changes = 0  # status changes recorded by the last poll_once
        self.last_calls = 0

    async def run(self) -> None:
        known: set[int] = set()
        next_poll = 0.0
        while True:
            try:
                open_ids = {b.bid_id for b in await self.services.bids.open_bids() if b.bid_id is not None}
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
            await self.clock.sleep(self.min_interval)

    async def poll_once(self) -> int:
        """One cycle; returns how many exchanger calls it made (0 when no order is open)."""
        self.last_changes = 0
        self.last_calls = 0
        open_bids = {b.bid_id: b for b in await self.services.bids.open_bids() if b.bid_id is not None}
        pending = {b.api_id: b for b in await self._pending()}
        if not open_bids and not pending:
            return 0
        stored = cursor = await self._load_cursor()
        if cursor is None:
            cursor = min(
                [b.status_changed_at or b.created_at for b in open_bids.values()]
                + [b.created_at for b in pending.values()]
            )
        exchanger = self.services.exchanger
        lang = getattr(exchanger, "lang", None)

        seq = self.statuses.begin_read()
        records, newest = await self._changed_since(max(cursor - self.overlap, 1))
        looked_up: set[str] = set()
        for record in records:
            if record.api_id and record.api_id in pending:
                await self._adopt(pending.pop(record.api_id).api_id, record.id)
                continue
            bid = open_bids.get(_int_id(record.id))
            if bid is None or record.status == bid.status:
                continue
            title = self.statuses.titles.get(lang, record.status)
            if title is None and record.status not in looked_up:
                looked_up.add(record.status)
                if await self._check(bid.bid_id):  # learns the title on the way
                    continue
                title = self.statuses.titles.get(lang, record.status)
            if await self.statuses.record(bid.bid_id, record.status, title, read_seq=seq, title_lang=lang):
                self.last_changes += 1

        now = self.services.db.now()
        stale = [b for b in pending.values() if b.created_at <= now - self.settle_after]
        if stale:
            await self._settle(stale[0].api_id, stale[0].created_at)
        for bid in await self.services.bids.due_for_check(now, self.check_after, self.checks_per_cycle):
            await self._check(bid.bid_id)
            await self.services.bids.schedule_check(bid.bid_id, now, now + self.check_after)

        if stored is None or newest > cursor:
            await self._save_cursor(max(newest, cursor))
        return self.last_calls

    async def _changed_since(self, start_time: int) -> tuple[list[OrderRecord], int]:
        """Orders whose last change is at or after ``start_time``, and the newest change time seen."""
        records: dict[str, OrderRecord] = {}
        newest = 0
        offset = 0
        while True:
            page = await self.services.exchanger.list_orders(
                start_time=start_time, limit=self.page_size, offset=offset or None
            )
            self.last_calls += 1
            for record in page:
                records.setdefault(record.id, record)
                newest = max(newest, record.time)
            if len(page) not in (self.page_size, SERVER_DEFAULT_LIMIT):
                return list(records.values()), newest
            offset += len(page)

    async def _pending(self) -> list[Bid]:
        return await self.services.bids.pending_reservations(since=self.services.order_placer.recent())

    async def _adopt(self, api_id: str, order_id: str) -> None:
        """An order created by an answer we never got: attach it and tell the customer."""
        self.last_calls += 1
        order = await self.services.exchanger.get_order(order_id)
        await self.services.order_placer.adopt(api_id, order, announce=True)
        log.info("order %s: found by api_id %s after a lost answer", order.id, api_id)
        lang = getattr(self.services.exchanger, "lang", None)
        if await self.statuses.record(
            int(order.id), order.status, order.status_title or None, title_lang=lang
        ):
            self.last_changes += 1

    async def _settle(self, api_id: str, reserved_at: int) -> None:
        self.last_calls += 1
        record = await self.services.order_placer.find(self.services.exchanger, api_id, reserved_at)
        if record is None:
            await self.services.bids.forget_reservation(api_id)
            log.info("api_id %s: the exchanger has no such order; reservation dropped", api_id)
        else:
            await self._adopt(api_id, record.id)

    async def _check(self, bid_id: int) -> bool:
        """Read one order with bid_info and record it; True when its status changed."""
        try:
            order_seq = self.statuses.begin_read()
            self.last_calls += 1
            order = await self.services.exchanger.get_order(bid_id)
        except NoBid:
            log.info("order %s: the exchanger does not show it (keeping the last known status)", bid_id)
            return False
        changed = await self.statuses.record(
            bid_id,
            order.status,
            order.status_title or None,
            read_seq=order_seq,
            title_lang=getattr(self.services.exchanger, "lang", None),
        )
        if changed:
            self.last_changes += 1
        return changed

    async def _load_cursor(self) -> int | None:
        value = await self.services.db.fetchval("SELECT value FROM meta WHERE name = ?", (CURSOR_KEY,))
        return None if value is None else int(value)

    async def _save_cursor(self, value: int) -> None:
        await self.services.db.execute(
            """
            INSERT INTO meta (name, value) VALUES (?, ?)
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """,
            (CURSOR_KEY, str(value)),
        )


def _int_id(value: str) -> int | None:
    return int(value) if value.isdigit() else None
