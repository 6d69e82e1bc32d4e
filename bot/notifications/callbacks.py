"""The exchanger's status callbacks: ``POST /callbacks/order/{token}`` on the bot's HTTP server.

PremiumExchanger POSTs ``bid_id`` and ``status`` once per status change, unsigned and never retried.
So each order gets its own unguessable token in its ``callback_url``; a request with an unknown
token gets a 404 with an empty body, and a known one is only a hint: the answer is 200 at once and
the order is re-read with ``bid_info`` in the background (the posted status is not trusted), one read
at a time per order, then recorded through :class:`OrderStatusService`.

The token is ``OrderPlacer.callback_token(api_id)`` (an HMAC of the api_id: the same for every
attempt with that api_id), sent as ``callback_url_for(PUBLIC_URL, token)`` in create_bid and stored
with the order by ``bids.attach``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.exchanger.errors import ExchangerError
from bot.notifications.statuses import OrderStatusService

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

CALLBACK_PATH = "/callbacks/order/{token}"
_MAX_TOKEN_LENGTH = 128


def callback_url_for(public_url: str | None, token: str) -> str | None:
    """The order's callback_url, or None when PUBLIC_URL is not set (the tracker then polls)."""
    if not public_url:
        return None
    return public_url.rstrip("/") + CALLBACK_PATH.format(token=token)


class OrderCallbacks:
    def __init__(self, services: Services, statuses: OrderStatusService) -> None:
        self.services = services
        self.statuses = statuses
        self._running: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()

    async def handle(self, request: web.Request) -> web.Response:
        token = request.match_info.get("token", "")
        bid = None
        if 16 <= len(token) <= _MAX_TOKEN_LENGTH:
            bid = await self.services.bids.get_by_callback_token(token)
        if bid is None or bid.bid_id is None:
            return web.Response(status=404)
        if not bid.is_final:
            self.schedule(bid.bid_id)
        return web.Response(status=200)

    def schedule(self, bid_id: int) -> None:
        """Re-read the order soon; a callback arriving during a read asks for one more read after it."""
        current = self._running.get(bid_id)
        if current is not None and not current.done():
            self._again.add(bid_id)
            return
        task = asyncio.get_running_loop().create_task(self._refresh(bid_id), name=f"order-callback-{bid_id}")
        self._running[bid_id] = task
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for bid_id, running in list(self._running.items()):
            if running is task:
                del self._running[bid_id]

    async def _refresh(self, bid_id: int) -> None:
        while True:
            self._again.discard(bid_id)
            try:
                await self.statuses.refresh(bid_id)
            except ExchangerError as exc:
                log.warning("order %s: re-read after a callback failed (%s); polling catches up", bid_id, exc)
            except Exception:
                log.exception("order %s: handling a status callback failed", bid_id)
            if bid_id not in self._again:
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
