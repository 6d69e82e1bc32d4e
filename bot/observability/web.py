"""``GET /metrics``: the Prometheus text exposition of one bot's :class:`~.metrics.Metrics`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.observability.metrics import CONTENT_TYPE
from bot.storage.outbox import OutboxRepository

if TYPE_CHECKING:
    from bot.app.wiring import Services

__all__ = ["metrics_handler"]

log = logging.getLogger(__name__)


def metrics_handler(services: Services) -> Callable[[web.Request], Awaitable[web.Response]]:
    outbox = OutboxRepository(services.db)

    async def metrics(request: web.Request) -> web.Response:
        try:
            pending: int | None = await outbox.pending_count()
        except Exception as exc:  # a closed or locked database must not hide every other metric
            log.warning("metrics: outbox depth not read (%s)", type(exc).__name__)
            pending = None
        body = services.metrics.render(outbox_pending=pending)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return metrics
