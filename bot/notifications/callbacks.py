"""Per-order status callbacks: ``POST /callbacks/order/{token}`` on the bot's HTTP server.

For platforms with ``Capability.PUSH_CALLBACK``: the exchange POSTs to a per-order URL on every
status change, unsigned and never retried. So each order gets its own unguessable token in its URL;
a request with an unknown token gets a 404 with an empty body, and a known one is only a hint: the
answer is 200 at once and the order is re-read in the background (whatever was posted is not
trusted), one read at a time per order, then recorded through :class:`OrderStatusService`.

The token is ``OrderPlacer.push_token(key)`` (an HMAC of the order's idempotency key: the same for
every attempt), sent as ``bot.exchange.ordering.callback_url_for(PUBLIC_URL, token)`` when the order is
placed (only where the platform declares the capability and PUBLIC_URL is set) and stored with it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.domain.errors import ExchangerError
from bot.exchange.ordering import CALLBACK_PATH
from bot.notifications.statuses import OrderStatusService

if TYPE_CHECKING:
    from bot.app.wiring import Services

log = logging.getLogger(__name__)

_MAX_TOKEN_LENGTH = 128


class OrderCallbacks:
    def __init__(self, services: Services, statuses: OrderStatusService) -> None:
        self.services = services
        self.statuses = statuses
        self._running: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()

    async def handle(self, request: web.Request) -> web.Response:
        token = request.match_info.get("token", "")
        stored = None
        if 16 <= len(token) <= _MAX_TOKEN_LENGTH and token.isascii() and token.isalnum():
            stored = await self.services.orders.get_by_push_token(token)
        if stored is None or stored.order_id is None or stored.platform != self.services.platform.info.name:
            return web.Response(status=404)
        if not stored.is_final:
            self.schedule(stored.id)
        return web.Response(status=200)

    def schedule(self, local_id: int) -> None:
        """Re-read the order soon; a callback arriving during a read asks for one more read after it."""
        current = self._running.get(local_id)
        if current is not None and not current.done():
            self._again.add(local_id)
            return
        task = asyncio.get_running_loop().create_task(self._refresh(local_id), name=f"order-push-{local_id}")
        self._running[local_id] = task
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for local_id, running in list(self._running.items()):
            if running is task:
                del self._running[local_id]

    async def _refresh(self, local_id: int) -> None:
        while True:
            self._again.discard(local_id)
            try:
                await self.statuses.refresh(local_id)
            except ExchangerError as exc:
                log.warning(
                    "order %s: re-read after a callback failed (%s); polling catches up", local_id, exc
                )
            except Exception:
                log.exception("order %s: handling a status callback failed", local_id)
            if local_id not in self._again:
                return

    async def wait_idle(self) -> None:
        """Until every re-read scheduled so far has finished (tests)."""
        while pending := [task for task in self._running.values() if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def aclose(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        self._again.clear()


CALLBACKS_KEY = web.AppKey("order_callbacks", OrderCallbacks)


def add_callback_route(app: web.Application, callbacks: OrderCallbacks) -> None:
    app[CALLBACKS_KEY] = callbacks
    app.router.add_post(CALLBACK_PATH, callbacks.handle)
