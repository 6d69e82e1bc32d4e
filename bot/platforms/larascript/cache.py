"""The page cache: a partner's whole referral-exchange list, read once and refreshed from the newest end.

Lara has no filters, so every figure of any period needs the whole list. Reading it page after page on
every screen would cost ``total / 200`` calls each time; instead, per key (the SHA-256 of the site and
the key, never the key itself):

- the first read walks every page (a *full walk*) and keeps the rows by id;
- within ``min_interval`` of the last read, nothing is requested;
- after it, a *refresh* reads only the newest end: from the first page while the list is newest-first
  (until a page holds rows already known and none of them changed), or from the last page read while
  it is oldest-first. The order is told from the last full walk's ``created_at``; when it is neither,
  nothing is refreshed until the next full walk;
- every ``full_interval`` a full walk replaces the rows (completions of older exchanges, deleted ones).

One walk at a time per key (a lock): concurrent screens share it. A walk that fails changes nothing;
the last complete rows are served (their ``read_at`` says how old; no new attempt for
``min_interval``) for ``stale_limit`` seconds, then the error goes up. A rejected key forgets its
rows at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import SecretStr

from bot.domain.errors import CredentialsRejected, ExchangerError
from bot.platforms.larascript.transport import Transport
from bot.platforms.larascript.walk import first_url, walk
from bot.platforms.larascript.wire import ReferralExchange

__all__ = ["ListOrder", "PageCache", "Snapshot", "key_id"]

log = logging.getLogger("bot.platforms.larascript")


class ListOrder(StrEnum):
    NEWEST_FIRST = "desc"
    OLDEST_FIRST = "asc"
    UNKNOWN = "unknown"


@dataclass
class Snapshot:
    rows: dict[str, ReferralExchange]
    walked_at: float  # the last full walk
    read_at: float  # the last successful read (full or refresh): "as of"
    order: ListOrder
    head_url: str  # where a walk starts (with or without the page size, as the site accepted)
    tail_url: str  # the last page requested
    # Since the previous read: ids seen for the first time, and ids that turned completed.
    new_ids: list[str] = field(default_factory=list)
    completed_ids: list[str] = field(default_factory=list)
    stale_error: ExchangerError | None = None  # the failure of the last attempt, when served stale
    failed_at: float | None = None  # when that attempt failed


def key_id(site_url: str, key: str) -> str:
    return hashlib.sha256(f"{site_url}\0{key}".encode()).hexdigest()


def _order(created: list[int]) -> ListOrder:
    if all(a >= b for a, b in itertools.pairwise(created)):
        return ListOrder.NEWEST_FIRST
    if all(a <= b for a, b in itertools.pairwise(created)):
        return ListOrder.OLDEST_FIRST
    return ListOrder.UNKNOWN


class PageCache:
    def __init__(
        self,
        transport: Transport,
        *,
        min_interval: float = 60.0,
        full_interval: float = 1800.0,
        stale_limit: float = 86400.0,
        max_keys: int = 1000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.min_interval = min_interval
        self.full_interval = full_interval
        self.stale_limit = stale_limit
        self.max_keys = max_keys
        self.clock = clock
        self.counts: Counter[str] = Counter()  # "full", "refresh", "cached", "stale" (tests, benchmark)
        self._snapshots: OrderedDict[str, Snapshot] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"PageCache({self.transport.site_url!r}, keys={len(self._snapshots)})"

    def forget(self, key: SecretStr) -> None:
        ident = key_id(self.transport.site_url, key.get_secret_value())
        self._snapshots.pop(ident, None)

    def peek(self, key: SecretStr) -> Snapshot | None:
        return self._snapshots.get(key_id(self.transport.site_url, key.get_secret_value()))

    async def read(self, key: SecretStr) -> Snapshot:
        """The key's rows, refreshed as the intervals say."""
        ident = key_id(self.transport.site_url, key.get_secret_value())
        lock = self._locks.setdefault(ident, asyncio.Lock())
        async with lock:
            snapshot = self._snapshots.get(ident)
            now = self.clock()
            if snapshot is not None and (
                now - snapshot.read_at < self.min_interval
                or (snapshot.order is ListOrder.UNKNOWN and now - snapshot.walked_at < self.full_interval)
            ):
                self.counts["cached"] += 1
                return snapshot
            if (
                snapshot is not None
                and snapshot.failed_at is not None
                and now - snapshot.failed_at < self.min_interval
                and now - snapshot.read_at < self.stale_limit
            ):
                self.counts["stale"] += 1  # it failed a moment ago: don't hammer a site in trouble
                return snapshot
            try:
                if snapshot is None or now - snapshot.walked_at >= self.full_interval:
                    fresh = await self._full_walk(key, snapshot, now)
                else:
                    fresh = await self._refresh(key, snapshot, now)
            except CredentialsRejected:
                self._snapshots.pop(ident, None)
                raise
            except ExchangerError as exc:
                if snapshot is None or now - snapshot.read_at >= self.stale_limit:
                    raise
                log.warning(
                    "referral exchanges: refresh failed (%s); serving the last rows", type(exc).__name__
                )
                self.counts["stale"] += 1
                snapshot.stale_error, snapshot.failed_at = exc, now
                return snapshot
            self._snapshots[ident] = fresh
            self._snapshots.move_to_end(ident)
            while len(self._snapshots) > self.max_keys:
                evicted, _snapshot = self._snapshots.popitem(last=False)
                lock_of = self._locks.get(evicted)
                if lock_of is not None and not lock_of.locked():
                    del self._locks[evicted]
            return fresh

    async def _full_walk(self, key: SecretStr, previous: Snapshot | None, now: float) -> Snapshot:
        self.counts["full"] += 1
        rows: dict[str, ReferralExchange] = {}
        created: list[int] = []
        head = tail = ""
        async with aclosing(walk(self.transport, key)) as pages:
            async for visit in pages:
                head = head or visit.url
                tail = visit.url
                for item in visit.page.items:
                    if item.id not in rows and item.created_at is not None:
                        created.append(item.created_at)
                    rows[item.id] = item
        snapshot = Snapshot(rows, now, now, _order(created), head or first_url(self.transport.site_url), tail)
        if previous is not None:
            _note_changes(snapshot, previous.rows, rows.values())
        return snapshot

    async def _refresh(self, key: SecretStr, previous: Snapshot, now: float) -> Snapshot:
        self.counts["refresh"] += 1
        rows = dict(previous.rows)
        seen: list[ReferralExchange] = []
        newest_first = previous.order is ListOrder.NEWEST_FIRST
        start = previous.head_url if newest_first else previous.tail_url
        tail = previous.tail_url
        async with aclosing(walk(self.transport, key, start)) as pages:
            async for visit in pages:
                if not newest_first:
                    tail = visit.url
                known = changed = 0
                for item in visit.page.items:
                    old = rows.get(item.id)
                    if old is not None:
                        known += 1
                        changed += old.fingerprint() != item.fingerprint()
                    rows[item.id] = item
                    seen.append(item)
                if newest_first and known and not changed:
                    break  # the rest is older and was read before
        snapshot = Snapshot(rows, previous.walked_at, now, previous.order, previous.head_url, tail)
        _note_changes(snapshot, previous.rows, seen)
        return snapshot


def _note_changes(
    snapshot: Snapshot, before: dict[str, ReferralExchange], read: Iterable[ReferralExchange]
) -> None:
    for item in read:
        old = before.get(item.id)
        if old is None:
            if item.id not in snapshot.new_ids:
                snapshot.new_ids.append(item.id)
                if item.is_completed:
                    snapshot.completed_ids.append(item.id)
        elif item.is_completed and not old.is_completed and item.id not in snapshot.completed_ids:
            snapshot.completed_ids.append(item.id)
