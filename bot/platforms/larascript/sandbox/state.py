"""The Lara-script sandbox's state and test controls, apart from serving it (server.py) and
answering (app.py), which both read and change it."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from collections.abc import Callable

from bot.platforms.larascript.sandbox.data import PartnerBook, Row
from bot.platforms.larascript.sandbox.faults import FaultQueue
from bot.platforms.larascript.sandbox.keys import DEMO, KEYS, SECOND, DemoKey

__all__ = ["LaraState"]

DEMO_ROWS = 900
SECOND_ROWS = 8


class LaraState:
    def __init__(
        self,
        step_seconds: float | None = 10.0,
        seed: int = 1,
        now: Callable[[], float] = time.time,
        *,
        demo_rows: int = DEMO_ROWS,
        keys: dict[str, DemoKey] | None = None,
    ) -> None:
        self.step_seconds = step_seconds
        self.now = now
        self.keys = dict(KEYS if keys is None else keys)
        self.book = PartnerBook(seed)
        self.faults = FaultQueue()
        self.requests: list[str] = []
        self.order = "desc"
        self.size_param: str | None = "perPage"
        self.max_per_page = 200
        self.link_base: str | None = None
        self.next_keeps_size = False
        self.endless = False
        self.throttle_limit: int | None = None
        self.url = ""
        self._hits: dict[str, deque[float]] = {}
        self._ordered: dict[str, tuple[tuple, list[Row]]] = {}
        self.running = False  # served over HTTP
        self._ticker: asyncio.Task | None = None
        stamp = int(now())
        for demo in self.keys.values():
            self.book.open(demo.key, demo.rid)
        if DEMO.key in self.keys:
            self.book.generate(DEMO.key, DEMO.rid, demo_rows, stamp)
        if SECOND.key in self.keys:
            self.book.generate(SECOND.key, SECOND.rid, SECOND_ROWS, stamp, days=20, quirks=False)

    def ordered(self, key: str) -> list[Row]:
        """The key's rows as the server lists them."""
        stamp = (key, self.order, self.book.version)
        cached = self._ordered.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        rows = list(self.book.accounts[key].rows) if key in self.book.accounts else []
        rows.sort(key=_listing_key)
        if self.order == "desc":
            rows.reverse()
        elif self.order == "scrambled":  # in no order a client could rely on (stable between pages)
            rows.sort(key=lambda r: hashlib.sha256(str(r.id).encode()).digest())
        self._ordered[key] = (stamp, rows)
        return rows

    def throttle(self, key: str) -> int:
        """Seconds to wait when ``key`` is over ``throttle_limit`` requests a minute; 0 otherwise."""
        if self.throttle_limit is None:
            return 0
        now = self.now()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - 60:
            hits.popleft()
        if len(hits) >= self.throttle_limit:
            return max(1, int(hits[0] + 60 - now) + 1)
        hits.append(now)
        return 0

    # -- truth for tests: what a correct client shows ----------------------------------------------

    def counted(self, key: str = DEMO.key) -> list[Row]:
        return self.book.counted(key)

    def created_between(self, start: int, end: int, key: str = DEMO.key) -> list[Row]:
        return [r for r in self.counted(key) if r.created_at is not None and start <= r.created_at <= end]

    # -- lifecycle ------------------------------------------------------------------------------------

    def tick(self) -> Row:
        """One step of life: a new referred exchange, or the oldest open recent one completes."""
        now = int(self.now())
        open_rows = [
            r
            for r in self.counted(DEMO.key)
            if not r.is_completed and r.created_at and r.created_at > now - 86400
        ]
        if open_rows and self.book.rng.random() < 0.6:
            return self.book.complete(DEMO.key, open_rows[0].key, now)
        return self.book.add(DEMO.key, created_at=now, completed=False)

    async def _tick_forever(self, step: float) -> None:
        while True:
            await asyncio.sleep(step)
            self.tick()


def _listing_key(row: Row) -> tuple[int, int]:
    number = row.id if isinstance(row.id, int) else int(row.id) if row.id and row.id.isdigit() else 0
    return row.created_at or 0, number
