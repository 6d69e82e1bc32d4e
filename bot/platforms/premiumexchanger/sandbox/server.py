"""SandboxExchanger: the embedded PremiumExchanger look-alike, its lifecycle and test controls.

    sb = SandboxExchanger(step_seconds=None)      # None: bids move only through advance()/set_status()
    url = await sb.start()                        # "http://127.0.0.1:PORT"; API under /api/userapi/v1/
    sb.advance(bid_id); sb.set_status(bid_id, "verify"); sb.faults.next("create_bid", "delay", seconds=5)
    sb.faults.next("create_bid", "late_commit", seconds=3)   # answer dropped, bid created 3 s later
    await sb.drain_callbacks(); sb.callbacks     # [{"url", "form", "ok", ...}, ...]
    await sb.stop()

Switches that reproduce what real servers do (see methods.py): `utc_offset` (seconds added to every
`time`), `closed_directions`, `ignore_offset` (method names), `clicks_without_id`, `require_hash`,
`maintenance` with `maintenance_text` (None: the localized default word), `partner_program`.

Once a bid has been paid (pay_bid, the merchant page, advance or set_status to a non-initial,
non-final status) and step_seconds is set, it advances one step every step_seconds until final.
Every status change but the creation `new` POSTs the bid's callback_url (see callbacks.py).
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from bot.platforms.premiumexchanger.sandbox.app import make_app
from bot.platforms.premiumexchanger.sandbox.state import SandboxState


class SandboxExchanger(SandboxState):
    """The state, served over HTTP on loopback (or any host) until stopped."""

    _runner: web.AppRunner | None = None

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
        self.running = True
        bound_port = runner.addresses[0][1]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else ("[::1]" if host == "::" else host)
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        self.url = f"http://{shown}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        self.running = False
        tasks = list(self._auto.values()) + list(self._late)
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
