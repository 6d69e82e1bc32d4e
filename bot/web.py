"""The bot's own HTTP server (HTTP_HOST:HTTP_PORT): health now, exchanger status callbacks next."""

from __future__ import annotations

from aiohttp import web

from bot.config import StartupError
from bot.services import Services

SERVICES_KEY = web.AppKey("services", Services)


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    await services.db.fetchone("SELECT 1")
    return web.json_response({"status": "ok"})


def build_web_app(services: Services) -> web.Application:
    app = web.Application()
    app[SERVICES_KEY] = services
    app.router.add_get("/health", health)
    return app


async def start_web_server(services: Services) -> web.AppRunner:
    runner = web.AppRunner(build_web_app(services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, services.settings.http_host, services.settings.http_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        where = f"{services.settings.http_host}:{services.settings.http_port}"
        raise StartupError(f"cannot listen on HTTP_HOST:HTTP_PORT {where} ({exc.strerror})") from None
    return runner
