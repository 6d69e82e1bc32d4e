"""Telegram webhook mode (``TELEGRAM_WEBHOOK_URL`` set): Telegram POSTs each update to the bot's own
HTTP server instead of the bot polling ``getUpdates``.

The webhook is registered with a secret token made afresh at every start and kept only in memory;
Telegram sends it back in ``X-Telegram-Bot-Api-Secret-Token`` and a request without it is refused
(401) before its body is read. An accepted update is handed to the :class:`UpdateFeeder` and answered
200 at once (Telegram waits for no handler). While the bot stops, updates are answered 503: Telegram
delivers them again later, to the next start.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramServerError
from aiogram.types import Update
from aiohttp import web

from bot.app.config import StartupError
from bot.app.updates import UpdateFeeder

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Paths the bot's server uses for other things.
RESERVED_PATHS = ("/health", "/metrics")
RESERVED_PREFIXES = ("/callbacks/", "/webhooks/")
CALL_TIMEOUT = 5.0  # seconds, for each Bot API call made while stopping


def webhook_path(url: str) -> str:
    path = urlsplit(url).path.rstrip("/") or "/"
    if path in RESERVED_PATHS or path.startswith(RESERVED_PREFIXES):
        raise StartupError(f"TELEGRAM_WEBHOOK_URL: the path {path} is used by the bot for something else")
    return path


class TelegramWebhook:
    def __init__(self, url: str, bot: Bot, feeder: UpdateFeeder) -> None:
        self.url = url
        self.path = webhook_path(url)
        self.bot = bot
        self.feeder = feeder
        # Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and -.
        self._secret = secrets.token_urlsafe(32)

    def __repr__(self) -> str:
        return f"<TelegramWebhook path={self.path!r}>"

    def add_route(self, app: web.Application) -> None:
        app.router.add_post(self.path, self.handle)

    async def register(self, allowed_updates: list[str]) -> None:
        try:
            await self.bot.set_webhook(
                self.url,
                secret_token=self._secret,
                allowed_updates=allowed_updates,
                drop_pending_updates=False,
            )
        except (TelegramNetworkError, TelegramServerError):
            raise  # Telegram out of reach, not refusing: the caller says so
        except TelegramAPIError as exc:
            raise StartupError(f"Telegram refused TELEGRAM_WEBHOOK_URL ({exc.message})") from None
        self.feeder.intake.running = True
        log.info("Telegram delivers updates to the webhook %s", self.url)

    async def unregister(self, *, delete: bool, call_timeout: float = CALL_TIMEOUT) -> None:
        """Stop taking updates; with ``delete``, delete the webhook if it is still this one (another
        process may have set its own meanwhile: that one stays). Each Bot API call waits ``call_timeout``."""
        self.feeder.intake.running = False
        if not delete:
            log.info("webhook kept: Telegram holds updates for the next start")
            return
        try:
            info = await asyncio.wait_for(self.bot.get_webhook_info(), call_timeout)
            if info.url != self.url:
                log.warning("webhook not deleted: Telegram's webhook now points elsewhere (another process?)")
                return
            await asyncio.wait_for(self.bot.delete_webhook(drop_pending_updates=False), call_timeout)
        except Exception as exc:  # stopping anyway; the next start sets it again
            log.warning("could not delete the webhook (%s)", type(exc).__name__)
        else:
            log.info("webhook deleted")

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        # A header is any bytes: whatever is not ASCII is not the secret (and can't be compared as it).
        secret = self._secret.encode("ascii")
        if not given.isascii() or not hmac.compare_digest(given.encode("ascii"), secret):
            log.warning("webhook request without the right secret token refused")
            return web.Response(status=401)
        if not self.feeder.accepting:
            return web.Response(status=503)  # Telegram retries; the next start takes it
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except ValueError:  # not JSON, not UTF-8, or not an Update (ValidationError)
            log.warning("webhook request with a body that is not an update refused")
            return web.Response(status=400)
        if not self.feeder.feed(update):
            return web.Response(status=503)
        return web.Response(status=200)
