"""SandboxExchanger: the embedded PremiumExchanger look-alike, its lifecycle and test controls.

    sb = SandboxExchanger(step_seconds=None)      # None: bids move only through advance()/set_status()
    url = await sb.start()                        # "http://127.0.0.1:PORT"; API under /api/userapi/v1/
    sb.advance(bid_id); sb.set_status(bid_id, "verify"); sb.faults.next("create_bid", "delay", seconds=5)
    await sb.drain_callbacks(); sb.callbacks     # [{"url", "form", "ok", ...}, ...]
    await sb.stop()

Once a bid has been paid (pay_bid, the merchant page, advance or set_status to a non-initial,
non-final status) and step_seconds is set, it advances one step every step_seconds until final.
Every status change but the creation `new` POSTs the bid's callback_url (see callbacks.py).
"""

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable

from aiohttp import web

from bot.sandbox.app import make_app
from bot.sandbox.bids import FINAL, Bid, BidStore
from bot.sandbox.callbacks import CallbackSender
from bot.sandbox.faults import FaultQueue
from bot.sandbox.keys import KEYS, DemoKey
from bot.sandbox.partner import PartnerBook

_WAITING = frozenset({"new", "techpay", "coldnew"})


class SandboxExchanger:
    def __init__(
        self,
        step_seconds: float | None = 5.0,
        seed: int = 1,
        now: Callable[[], float] = time.time,
        *,
        callback_timeout: float = 20.0,
        keys: dict[str, DemoKey] | None = None,
    ) -> None:
        self.step_seconds = step_seconds
        self.seed = seed
        self.now = now
        self.keys = dict(KEYS if keys is None else keys)
        self.maintenance = False
        self.requests: Counter[str] = Counter()  # API calls received, by method (tests, benchmark)
        self.faults = FaultQueue()
        self.url = ""
        self.store = BidStore(now, seed, self._on_status_change)
        self.partners = PartnerBook(k.user_id for k in self.keys.values())
        self._sender = CallbackSender(callback_timeout)
        self._runner: web.AppRunner | None = None
        self._auto: dict[int, asyncio.Task] = {}
        self._started = False

    @property
    def bids(self) -> dict[int, Bid]:
        return self.store.bids

    @property
    def callbacks(self) -> list[dict]:
        return self._sender.records

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._runner is not None:
            return self.url
        if not self._started:
            for key in self.keys.values():
                if key.login == "partner":
                    self.partners.generate(key.user_id, int(self.now()), self.seed)
            self._started = True
        self._sender.start()
        runner = web.AppRunner(make_app(self), shutdown_timeout=0.5, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else ("[::1]" if host == "::" else host)
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        self.url = f"http://{shown}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        tasks = list(self._auto.values())
        self._auto.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._sender.stop()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def advance(self, bid_id: int) -> str:
        """Move a bid one step along its path now; returns the new status (unchanged if final)."""
        return self.store.advance(self.store.bids[bid_id])

    def set_status(self, bid_id: int, status: str) -> None:
        self.store.set_status(self.store.bids[bid_id], status)

    async def drain_callbacks(self, max_wait: float = 10.0) -> None:
        """Wait until every callback queued so far has been attempted (recorded in `callbacks`)."""
        await self._sender.drain(max_wait)

    def _on_status_change(self, bid: Bid) -> None:
        if bid.callback_url:
            self._sender.send(bid.callback_url, {"bid_id": str(bid.id), "status": bid.status})
        if (
            self.step_seconds is not None
            and self._runner is not None
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


async def serve_forever(host: str, port: int, step_seconds: float | None) -> None:
    """Run a sandbox until cancelled, printing its URL and the demo key pairs (`exchanger-bot sandbox`)."""
    sb = SandboxExchanger(step_seconds=step_seconds)
    url = await sb.start(host, port)
    try:
        print(f"Sandbox exchanger running at {url}", flush=True)
        print(f"API endpoint: {url}/api/userapi/v1/<method>  (headers API-LOGIN, API-KEY)", flush=True)
        steps = "manual only" if step_seconds is None else f"every {step_seconds:g} s after payment"
        print(f"Paid orders advance: {steps}", flush=True)
        print("Demo API key pairs:", flush=True)
        for key in sb.keys.values():
            print(f"  login {key.login:<11} key {key.key:<36} user {key.user_id:<3} {key.note}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        await asyncio.Event().wait()
    finally:
        await sb.stop()
