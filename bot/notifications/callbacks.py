"""Per-order status callbacks: ``POST /callbacks/order/{token}`` on the bot's HTTP server.

For platforms with ``Capability.PUSH_CALLBACK``: the exchange POSTs to a per-order URL on every
status change, unsigned and never retried. So each order gets its own unguessable token in its URL;
a request with an unknown token gets a 404 with an empty body, and a known one is only a hint: the
answer is 200 at once and the order is re-read in the background (whatever was posted is not
trusted), then recorded through :class:`OrderStatusService`.

Whoever holds an order's URL can post to it as often as they like, so callbacks are coalesced: at
most one read per order every ``min_interval`` seconds. A callback within that time of the last read
asks for one more read when the time is up (it may announce a change the last read did not see yet);
any number of them meanwhile still cost that one read.

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
from bot.notifications.clock import Clock, SystemClock
from bot.notifications.statuses import OrderStatusService

if TYPE_CHECKING:
    from bot.app.wiring import Services

log = logging.getLogger(__name__)

_MAX_TOKEN_LENGTH = 128
MIN_READ_INTERVAL = 5.0
_REMEMBERED = 10_000  # orders whose last read time is kept


class OrderCallbacks:
    def __init__(
        self,
        services: Services,
        statuses: OrderStatusService,
        *,
        min_interval: float = MIN_READ_INTERVAL,
        clock: Clock | None = None,
    ) -> None:
        self.services = services
        self.statuses = statuses
        self.min_interval = min_interval
        self.clock = clock or SystemClock()
        self._running: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()
        self._last_read: dict[int, float] = {}  # order → when its last callback read started

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
        """Re-read the order soon: at once, or ``min_interval`` after its last read; a callback arriving
        while one is waiting or under way asks for one more read after it."""
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
            last = self._last_read.get(local_id)
            if last is not None and (wait := last + self.min_interval - self.clock.monotonic()) > 0:
                await self.clock.sleep(wait)
            self._again.discard(local_id)
            self._remember_read(local_id)
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

    def _remember_read(self, local_id: int) -> None:
        self._last_read.pop(local_id, None)
        self._last_read[local_id] = self.clock.monotonic()
        if len(self._last_read) > _REMEMBERED:  # the oldest first: long past their interval
            del self._last_read[next(iter(self._last_read))]

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
