"""ZeroTraceSandbox: the embedded 0trace look-alike, its lifecycle and test controls.

    sb = ZeroTraceSandbox(step_seconds=None, webhook_url="http://127.0.0.1:8080/webhooks/0trace")
    url = await sb.start()                     # "http://127.0.0.1:PORT"; API under /api/v1/
    sb.advance(order_id); sb.deposit(order_id, Decimal("0.5")); sb.expire(order_id)
    sb.faults.next("create", "drop"); sb.maintenance = True; sb.budget = 100
    await sb.drain_webhooks(); sb.webhooks.records
    await sb.stop()

With ``step_seconds`` set, a deposited order moves on by itself (PENDING → EXCHANGE → DONE one step
every ``step_seconds``, and EMERGENCY → EXCHANGE → DONE once "continue" is chosen), and unpaid orders
expire when their deposit window closes. ``None``: orders move only through the controls.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from aiohttp import web

from bot.platforms.zerotrace.info import WEBHOOK_PATH
from bot.platforms.zerotrace.sandbox.app import make_app
from bot.platforms.zerotrace.sandbox.state import ZeroTraceState


class ZeroTraceSandbox(ZeroTraceState):
    """The state, served over HTTP until stopped."""

    _runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._runner is not None:
            return self.url
        self.webhooks.start()
        runner = web.AppRunner(make_app(self), shutdown_timeout=0.5, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        self.running = True
        bound = runner.addresses[0][1]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.url = f"http://{shown}:{bound}"
        if self.step_seconds is not None:
            self._expiry = asyncio.create_task(self._expire_loop())
        return self.url

    async def stop(self) -> None:
        self.running = False
        tasks = [*self._auto.values(), *self.background, *([self._expiry] if self._expiry else [])]
        self._auto.clear()
        self._expiry = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.webhooks.stop()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


async def serve_forever(
    host: str, port: int, step_seconds: float | None, webhook_url: str | None = None
) -> None:
    """Run a sandbox until cancelled, printing its URL and demo keys (``exchanger-bot sandbox``).
    Webhooks go to ``webhook_url``, else to ``$PUBLIC_URL/webhooks/0trace`` when PUBLIC_URL is set."""
    if webhook_url is None and os.environ.get("PUBLIC_URL"):
        webhook_url = os.environ["PUBLIC_URL"].rstrip("/") + WEBHOOK_PATH
    sb = ZeroTraceSandbox(step_seconds=step_seconds, webhook_url=webhook_url)
    url = await sb.start(host, port)
    try:
        print(f"0trace sandbox running at {url}", flush=True)
        print(f"API: {url}/api/v1/<endpoint>  (X-API-KEY, X-API-SIGN, X-API-NONCE)", flush=True)
        print(f"Demo: POST {url}/sandbox/deposit {{\"id\": ..., \"amount\"?: ...}}; GET {url}/sandbox/orders",
              flush=True)  # fmt: skip
        steps = "manual only" if step_seconds is None else f"every {step_seconds:g} s after a deposit"
        print(f"Deposited orders advance: {steps}", flush=True)
        print(f"Webhooks: {webhook_url or 'none (set PUBLIC_URL)'}", flush=True)
        for partner in sb.partners.values():
            print(f"  apiKey {partner.key}  apiSecret {partner.secret}", flush=True)
            print(f"    webhookSecret {partner.webhook_secret}  ({partner.note})", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        await asyncio.Event().wait()
    finally:
        await sb.stop()
