"""The bot's own HTTP server (HTTP_HOST:HTTP_PORT): health, and the platform's pushes.

- ``GET /health``: ok / degraded (200) or failing (503), with reasons (``bot.app.health``);
- ``POST <path of TELEGRAM_WEBHOOK_URL>`` in webhook mode (``bot.app.webhook``);
- ``POST /callbacks/order/<token>`` where the platform has ``Capability.PUSH_CALLBACK`` (unsigned
  per-order callbacks, see ``bot.notifications.callbacks``);
- ``POST {receiver.path}`` (``/webhooks/<platform>``), or ``{receiver.path}/<token>`` when the platform
  signs per partner, where the platform has a ``WebhookReceiver`` (``platform.webhooks``): the raw
  request is verified (a ``PushRejected`` is answered with its 4xx and an empty body), the events are
  stored and handled (``bot.notifications.pushes``), then the answer is 200.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web

from bot.app.config import StartupError
from bot.app.health import HealthMonitor
from bot.app.wiring import Services
from bot.domain.capabilities import Capability
from bot.notifications.callbacks import OrderCallbacks, add_callback_route
from bot.notifications.pushes import PUSH_SECRET_EXTRA, PushInbox
from bot.notifications.statuses import OrderStatusService
from bot.observability.web import metrics_handler
from bot.platforms.base import PushRejected, WebhookReceiver

if TYPE_CHECKING:
    from bot.app.webhook import TelegramWebhook
    from bot.notifications.runtime import Notifications

log = logging.getLogger(__name__)

SERVICES_KEY = web.AppKey("services", Services)
HEALTH_KEY = web.AppKey("health", HealthMonitor)
PUSH_INBOX_KEY = web.AppKey("push_inbox", PushInbox)
_MAX_TOKEN_LENGTH = 128


async def health(request: web.Request) -> web.Response:
    # Public and unauthenticated: generic reasons, cached (the operator's detail is in /admin).
    report = await request.app[HEALTH_KEY].public_report()
    return web.json_response(report.as_json(), status=report.http_status)


class WebhookEndpoint:
    """One platform's signed pushes: verify, then store and handle, then 2xx."""

    def __init__(self, services: Services, receiver: WebhookReceiver, inbox: PushInbox) -> None:
        self.services = services
        self.receiver = receiver
        self.inbox = inbox

    async def handle(self, request: web.Request) -> web.Response:
        token = request.match_info.get("token")
        partner = None
        options: dict[str, str] = {}
        if token is not None:
            if not (token.isascii() and token.replace("-", "").replace("_", "").isalnum()):
                return web.Response(status=404)
            if len(token) > _MAX_TOKEN_LENGTH:
                return web.Response(status=404)
            options["token"] = token
            name = self.services.platform.info.name
            partner = await self.services.partner_credentials.get_by_push_token(name, token)
            secret = partner.extra.get(PUSH_SECRET_EXTRA) if partner is not None else None
            if secret:
                options["secret"] = secret
        body = await request.read()
        try:
            events = self.receiver.verify(request.headers, body, now=time.time(), **options)
        except PushRejected as exc:
            status = exc.status if 400 <= exc.status < 500 else 400
            log.warning("push to %s refused (%s): %s", self.receiver.path, status, exc)
            return web.Response(status=status)
        try:
            await self.inbox.accept(events, partner)
        except Exception:
            log.exception("push to %s: handling failed; the platform may retry", self.receiver.path)
            return web.Response(status=500)
        return web.Response(status=200)


def add_webhook_route(
    app: web.Application, services: Services, receiver: WebhookReceiver, inbox: PushInbox
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(services, receiver, inbox)
    path = receiver.path.rstrip("/")
    app.router.add_post(f"{path}/{{token}}" if receiver.per_partner_token else path, endpoint.handle)
    app[PUSH_INBOX_KEY] = inbox
    return endpoint


def build_web_app(
    services: Services,
    notifications: Notifications | None = None,
    *,
    monitor: HealthMonitor | None = None,
    telegram_webhook: TelegramWebhook | None = None,
) -> web.Application:
    """``notifications``: the running notification machinery (``notifications_running``); without it
    pushes are still recorded and queued, and the outbox is sent by whichever sender runs.
    ``monitor``: what /health reports (by default the database, the exchanger and the outbox).
    ``telegram_webhook``: webhook mode, its route on this server."""
    app = web.Application()
    app[SERVICES_KEY] = services
    app[HEALTH_KEY] = monitor or HealthMonitor(services, notifications=notifications)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics_handler(services))
    if telegram_webhook is not None:
        telegram_webhook.add_route(app)
    platform = services.platform
    statuses = notifications.statuses if notifications is not None else OrderStatusService(services)
    if platform.info.serves(Capability.PUSH_CALLBACK):
        if notifications is not None:
            add_callback_route(app, notifications.callbacks)
        else:
            callbacks = OrderCallbacks(services, statuses)
            add_callback_route(app, callbacks)

            async def close_callbacks(_: web.Application) -> None:
                await callbacks.aclose()

            app.on_cleanup.append(close_callbacks)
    receiver = platform.webhooks
    if receiver is not None:
        inbox = notifications.pushes if notifications is not None else PushInbox(services, statuses)
        add_webhook_route(app, services, receiver, inbox)
    return app


async def start_web_server(
    services: Services,
    notifications: Notifications | None = None,
    *,
    monitor: HealthMonitor | None = None,
    telegram_webhook: TelegramWebhook | None = None,
    shutdown_timeout: float = 5.0,
) -> web.AppRunner:
    """``shutdown_timeout``: how long ``runner.cleanup()`` lets requests under way finish."""
    app = build_web_app(services, notifications, monitor=monitor, telegram_webhook=telegram_webhook)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, services.settings.http_host, services.settings.http_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        where = f"{services.settings.http_host}:{services.settings.http_port}"
        raise StartupError(f"cannot listen on HTTP_HOST:HTTP_PORT {where} ({exc.strerror})") from None
    return runner
