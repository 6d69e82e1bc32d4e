"""`exchanger-bot run | chat | sandbox [--platform NAME]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app.config import ConfigError, Settings, StartupError, load_settings
from bot.logs import setup_logging
from bot.platforms.registry import PLATFORMS
from bot.storage.crypto import SecretBoxError
from bot.storage.migrations import MigrationError

if TYPE_CHECKING:
    from bot.app.wiring import Services

log = logging.getLogger("exchanger-bot")


async def self_check(services: Services) -> None:
    """One call that proves the exchange answers and the bot's key works, logged in plain words."""
    try:
        check = await services.platform.self_check()
    except Exception as exc:  # the bot still starts: the exchange may come back
        log.warning("self-check: the exchange could not be asked (%s)", type(exc).__name__)
        return
    (log.info if check.ok else log.warning)("self-check: %s", check.message)


async def run_telegram(settings: Settings) -> None:
    from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher, set_commands
    from bot.app.web import start_web_server
    from bot.app.wiring import open_services
    from bot.notifications import notifications_running

    assert settings.bot_token is not None
    async with open_services(settings) as services:
        await self_check(services)
        dp = build_dispatcher(services)
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        bot = Bot(settings.bot_token.get_secret_value(), session=session, default=BOT_DEFAULTS)
        async with notifications_running(services, bot) as notifications:
            dp["order_statuses"] = notifications.statuses
            runner = await start_web_server(services, notifications)
            try:
                await set_commands(bot, services.i18n, services.platform.info, services.settings.admin_ids)
                await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types())
            finally:
                await runner.cleanup()


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def terminal_chat_settings(settings: Settings) -> Settings:
    """On an embedded sandbox the chat serves the bot's HTTP server on a free loopback port and gives
    that as PUBLIC_URL, so the sandbox's pushes (webhooks, callbacks) reach the bot as they would in
    production. A real exchanger could not reach this machine: no URL, the status tracker polls."""
    if not settings.uses_sandbox:
        return settings.model_copy(update={"public_url": None})
    port = _free_loopback_port()
    return settings.model_copy(
        update={"public_url": f"http://127.0.0.1:{port}", "http_host": "127.0.0.1", "http_port": port}
    )


@asynccontextmanager
async def terminal_bot(
    settings: Settings, *, sandbox_step_seconds: float | None = 10.0
) -> AsyncIterator[tuple[Services, Dispatcher, Bot]]:
    """The real Dispatcher on a fake Telegram session, with notifications and (on a sandbox) the web
    server running, for the terminal chat (and tests that drive it)."""
    from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher, set_commands
    from bot.app.web import start_web_server
    from bot.app.wiring import open_services
    from bot.notifications import notifications_running
    from offline.fake_session import FAKE_TOKEN, FakeTelegramSession

    settings = terminal_chat_settings(settings)
    async with open_services(settings, sandbox_step_seconds=sandbox_step_seconds) as services:
        dp = build_dispatcher(services)
        bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
        await set_commands(bot, services.i18n, services.platform.info, services.settings.admin_ids)
        await dp.emit_startup(bot=bot)
        try:
            # The chat prints notifications as they come.
            async with notifications_running(services, bot) as notifications:
                dp["order_statuses"] = notifications.statuses
                runner = await start_web_server(services, notifications) if settings.public_url else None
                try:
                    yield services, dp, bot
                finally:
                    if runner is not None:
                        await runner.cleanup()
        finally:
            await dp.emit_shutdown(bot=bot)


async def run_terminal_chat(settings: Settings) -> None:
    from offline.demo import controls_for
    from offline.terminal_chat import TerminalChat

    async with terminal_bot(settings) as (services, dp, bot):
        controls = controls_for(services.platform)
        await TerminalChat(dp, bot, language_code=settings.default_language, controls=controls).run()


async def run_sandbox(
    platform: str, host: str, port: int, step_seconds: float | None, webhook_url: str | None = None
) -> None:
    import importlib
    import inspect

    sandbox = importlib.import_module(PLATFORMS[platform] + ".sandbox")
    options: dict[str, str] = {}
    if webhook_url:
        if "webhook_url" not in inspect.signature(sandbox.serve_forever).parameters:
            raise StartupError(f"the {platform} sandbox sends no webhooks (--webhook-url)")
        options["webhook_url"] = webhook_url
    await sandbox.serve_forever(host, port, step_seconds, **options)


def _default_platform() -> str:
    name = os.environ.get("EXCHANGER_PLATFORM", "").strip().lower()
    return name if name in PLATFORMS else "premiumexchanger"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exchanger-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot on Telegram (the offline chat when BOT_TOKEN is unset)")
    sub.add_parser("chat", help="talk to the bot in this terminal, with no Telegram")
    sandbox = sub.add_parser("sandbox", help="serve a platform's demo exchanger API")
    sandbox.add_argument(
        "--platform",
        choices=sorted(PLATFORMS),
        default=_default_platform(),
        help="the platform to imitate (default: EXCHANGER_PLATFORM, else premiumexchanger)",
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081)
    sandbox.add_argument(
        "--step-seconds",
        type=float,
        default=10.0,
        help="seconds between status changes of a paid order (0: manual)",
    )
    sandbox.add_argument(
        "--webhook-url",
        default=None,
        help="where a platform that pushes signed webhooks sends them (e.g. http://127.0.0.1:8080/webhooks/0trace)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "sandbox":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        step = args.step_seconds if args.step_seconds and args.step_seconds > 0 else None
        try:
            asyncio.run(run_sandbox(args.platform, args.host, args.port, step, args.webhook_url))
        except KeyboardInterrupt:
            pass
        except StartupError as exc:
            print(f"Cannot start: {exc}", file=sys.stderr)
            return 1
        return 0

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level if command == "run" and settings.bot_token else "WARNING")

    try:
        if command == "run" and settings.bot_token is not None:
            asyncio.run(run_telegram(settings))
        else:
            if command == "run":
                print("BOT_TOKEN is not set: starting the offline terminal chat (set it to go on Telegram).")
            asyncio.run(run_terminal_chat(settings))
    except KeyboardInterrupt:
        pass
    except (StartupError, SecretBoxError, MigrationError) as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
