"""The sandbox's state and test controls, apart from serving it (server.py) and answering (app.py,
methods.py), which both read and change it: see server.py for the switches."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from bot.platforms.premiumexchanger.sandbox.bids import FINAL, Bid, BidStore
from bot.platforms.premiumexchanger.sandbox.callbacks import CallbackSender
from bot.platforms.premiumexchanger.sandbox.faults import FaultQueue
from bot.platforms.premiumexchanger.sandbox.keys import KEYS, DemoKey
from bot.platforms.premiumexchanger.sandbox.partner import PartnerBook

_WAITING = frozenset({"new", "techpay", "coldnew"})


class SandboxState:
    def __init__(
        self,
        step_seconds: float | None = 5.0,
        seed: int = 1,
        now: Callable[[], float] = time.time,
        *,
        callback_timeout: float = 20.0,
        keys: dict[str, DemoKey] | None = None,
        utc_offset: int = 0,
    ) -> None:
        self.step_seconds = step_seconds
        self.seed = seed
        self.now = now
        self.keys = dict(KEYS if keys is None else keys)
        self.maintenance = False
        self.maintenance_text: str | None = None
        self.utc_offset = utc_offset  # the site's zone: `time` = local time read as UTC
        self.closed_directions: set[int] = set()
        self.reserves: dict[int, Decimal] = {}  # currency id -> reserve reported instead of the catalogue's
        self.ignore_offset: set[str] = set()
        self.clicks_without_id = False
        self.require_hash = False
        self.partner_program = True  # the affiliate module
        self.requests: Counter[str] = Counter()  # API calls received, by method (tests, benchmark)
        self.last_form: dict[str, dict[str, str]] = {}  # the form fields of each method's latest call
        self.faults = FaultQueue()
        self.url = ""
        self.store = BidStore(now, seed, self._on_status_change)
        self.partners = PartnerBook(k.user_id for k in self.keys.values())
        self._sender = CallbackSender(callback_timeout)
        self.running = False  # served: paid bids advance on their own
        self._auto: dict[int, asyncio.Task] = {}
        self._late: set[asyncio.Task] = set()  # calls committed after their answer was dropped
        self.late_commits: list[dict] = []  # what each late commit answered (tests)
        self._started = False

    @property
    def bids(self) -> dict[int, Bid]:
        return self.store.bids

    @property
    def callbacks(self) -> list[dict]:
        return self._sender.records

    def advance(self, bid_id: int) -> str:
        """Move a bid one step along its path now; returns the new status (unchanged if final)."""
        return self.store.advance(self.store.bids[bid_id])

    def set_status(self, bid_id: int, status: str) -> None:
        self.store.set_status(self.store.bids[bid_id], status)

    def commit_later(self, seconds: float, run: Callable[[], dict]) -> None:
        """The `late_commit` fault: process a call whose client already lost the answer, `seconds` on."""

        async def commit() -> None:
            await asyncio.sleep(seconds)
            self.late_commits.append(run())

        task = asyncio.get_running_loop().create_task(commit())
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    async def wait_late_commits(self) -> None:
        """Until every late commit queued so far has been processed (tests)."""
        while self._late:
            await asyncio.gather(*list(self._late), return_exceptions=True)

    async def drain_callbacks(self, max_wait: float = 10.0) -> None:
        """Wait until every callback queued so far has been attempted (recorded in `callbacks`)."""
        await self._sender.drain(max_wait)

    def _on_status_change(self, bid: Bid) -> None:
        if bid.callback_url:
            self._sender.send(bid.callback_url, {"bid_id": str(bid.id), "status": bid.status})
        if (
            self.step_seconds is not None
            and self.running
            and bid.status not in _WAITING
            and bid.status not in FINAL
            and bid.id not in self._auto
        ):
            self._auto[bid.id] = asyncio.get_running_loop().create_task(self._auto_advance(bid))

    async def _auto_advance(self, bid: Bid) -> None:
        assert self.step_seconds is not None
        try:
            while bid.status not in FINAL and bid.status not in _WAITING:
                await asyncio.sleep(self.step_seconds)
                if bid.status in FINAL or bid.status in _WAITING:
                    break
                self.store.advance(bid)
        finally:
            if self._auto.get(bid.id) is asyncio.current_task():
                del self._auto[bid.id]
