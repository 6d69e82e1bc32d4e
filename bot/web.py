"""The bot's own HTTP server (HTTP_HOST:HTTP_PORT): health and exchanger status callbacks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.config import StartupError
from bot.notifications.callbacks import OrderCallbacks, add_callback_route
from bot.notifications.statuses import OrderStatusService
from bot.services import Services

if TYPE_CHECKING:
    from bot.notifications.runtime import Notifications

SERVICES_KEY = web.AppKey("services", Services)


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    await services.db.fetchone("SELECT 1")
    return web.json_response({"status": "ok"})


def build_web_app(services: Services, notifications: Notifications | None = None) -> web.Application:
    """``notifications``: the running notification machinery (``notifications_running``); without it
    callbacks are still recorded and queued, and the outbox is sent by whichever sender runs."""
    app = web.Application()
    app[SERVICES_KEY] = services
    app.router.add_get("/health", health)
    if notifications is not None:
        add_callback_route(app, notifications.callbacks)
    else:
        callbacks = OrderCallbacks(services, OrderStatusService(services))
        add_callback_route(app, callbacks)

        async def close_callbacks(_: web.Application) -> None:
            await callbacks.aclose()

        app.on_cleanup.append(close_callbacks)
    return app


async def start_web_server(services: Services, notifications: Notifications | None = None) -> web.AppRunner:
    runner = web.AppRunner(build_web_app(services, notifications), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, services.settings.http_host, services.settings.http_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        where = f"{services.settings.http_host}:{services.settings.http_port}"
        raise StartupError(f"cannot listen on HTTP_HOST:HTTP_PORT {where} ({exc.strerror})") from None
    return runner
