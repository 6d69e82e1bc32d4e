"""LaraSandbox: the embedded Lara-script look-alike, its lifecycle and test controls.

    sb = LaraSandbox(step_seconds=None)           # None: nothing changes by itself
    url = await sb.start()                        # "http://127.0.0.1:PORT"
    sb.book.add(DEMO.key, created_at=...); sb.book.complete(DEMO.key, "1611005", at=...)
    sb.faults.next("http429", seconds=1); sb.faults.next("offsite", page=2)
    sb.requests                                   # every path+query received
    await sb.stop()

Switches: ``order`` ("desc" newest first, "asc", "scrambled"), ``size_param`` ("perPage",
"per_page" or None: ignored), ``max_per_page``, ``link_base`` (the address ``next_page`` links are
written on), ``next_keeps_size``, ``endless`` (pages past the last repeat it), ``throttle_limit``
(requests per key per minute before a 429).

With ``step_seconds`` set, every step the demo partner gets a new referred exchange or one of their
open ones completes, so a poller has something to tell.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from bot.platforms.larascript.sandbox.app import ENDPOINT, make_app
from bot.platforms.larascript.sandbox.keys import DEMO
from bot.platforms.larascript.sandbox.state import LaraState

__all__ = ["LaraSandbox", "serve_forever"]


class LaraSandbox(LaraState):
    """The state, served over HTTP until stopped."""

    _runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._runner is not None:
            return self.url
        runner = web.AppRunner(make_app(self), shutdown_timeout=0.5, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        self.running = True
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        self.url = f"http://{shown}:{runner.addresses[0][1]}"
        if self.step_seconds is not None and DEMO.key in self.keys:
            self._ticker = asyncio.get_running_loop().create_task(self._tick_forever(self.step_seconds))
        return self.url

    async def stop(self) -> None:
        self.running = False
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


async def serve_forever(host: str, port: int, step_seconds: float | None) -> None:
    """Run a sandbox until cancelled, printing its URL and the demo partner keys."""
    sb = LaraSandbox(step_seconds=step_seconds)
    url = await sb.start(host, port)
    try:
        print(f"Lara-script sandbox running at {url}", flush=True)
        print(f"Partner endpoint: GET {url}{ENDPOINT}  (header X-API-Key)", flush=True)
        life = "never" if step_seconds is None else f"every {step_seconds:g} s"
        print(f"New referred exchanges / completions: {life}", flush=True)
        print(
            "Demo partner keys (set EXCHANGER_URL to the address above, then /login with these):", flush=True
        )
        for demo in sb.keys.values():
            rows = len(sb.counted(demo.key))
            print(f"  key {demo.key}  rid {demo.rid:<6} {rows} exchanges  {demo.note}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        await asyncio.Event().wait()
    finally:
        await sb.stop()
