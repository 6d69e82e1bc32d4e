"""IexSandbox: the embedded iEXExchanger API v3 look-alike, its lifecycle and test controls.

    sb = IexSandbox()
    url = await sb.start()                     # "http://127.0.0.1:PORT"; API under /api/v3
    sb.faults.next("/private/partner", "http502")
    sb.rate_limit = 3; sb.rate_window = 2      # X-RateLimit-* per key, 429 + Retry-After beyond
    event, deliveries = await sb.pay_payout(payout_id)   # signed partner.payout.paid to the endpoints
    await sb.stop()

Switches: ``rate_limit``/``rate_window``, ``stats_range`` (a custom statistics range is accepted),
``money_as_numbers`` (money as JSON numbers instead of strings), ``wrap_results`` (results wrapped in
one key: ``{"partner": {...}}``, ``{"payouts": [...]}``). ``requests`` records every API call
(method, path, raw query, key handle, status).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.platforms.iexexchanger.sandbox.app import make_app
from bot.platforms.iexexchanger.sandbox.keys import KEYS, describe_keys
from bot.platforms.iexexchanger.sandbox.state import IexState

__all__ = ["IexSandbox", "serve_forever"]

PAYOUT_PAID = "partner.payout.paid"


class IexSandbox(IexState):
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
        bound = runner.addresses[0][1]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.url = f"http://{shown}:{bound}"
        return self.url

    async def stop(self) -> None:
        self.running = False
        await self.webhooks.aclose()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


async def serve_forever(
    host: str, port: int, step_seconds: float | None = None, webhook_url: str | None = None
) -> None:
    """Run a sandbox until cancelled, printing its URL and the demo keys (``exchanger-bot sandbox``).
    ``step_seconds`` is unused (partner data does not move by itself). The bot registers its webhook
    URL itself through the API at /login; ``webhook_url`` registers one for the demo partner up front
    (its secret is printed: it is a demo value)."""
    sb = IexSandbox()
    url = await sb.start(host, port)
    try:
        if webhook_url:
            endpoint = sb.webhooks.create(KEYS["full"].client_id, "sandbox", webhook_url, [PAYOUT_PAID], None)
            print(
                f"Webhook {endpoint.id} for the demo partner at {webhook_url}, secret {endpoint.secret}",
                flush=True,
            )
        print(f"iEXExchanger sandbox running at {url}", flush=True)
        print(
            f"API v3: {url}/api/v3/ping, {url}/api/v3/private/partner (Authorization: Bearer <token>)",
            flush=True,
        )
        print("Demo keys (one per authentication case):", flush=True)
        for line in describe_keys(sb.keys.values()):
            print("  " + line, flush=True)
        pending = [p.id for p in sb.account().payouts if p.status == "pending"]
        print(f"Pay a payout (signed webhook): curl -X POST {url}/sandbox/payouts/<id>/pay", flush=True)
        print(f"  pending now: {pending}; a new one: curl -X POST {url}/sandbox/payouts", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        await asyncio.Event().wait()
    finally:
        await sb.stop()
