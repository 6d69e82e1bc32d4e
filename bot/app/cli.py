"""`exchanger-bot run | chat | sandbox [--platform NAME]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app.config import ConfigError, Settings, StartupError, load_settings
from bot.app.stop_budget import MARGIN as STOP_MARGIN
from bot.app.stop_budget import StopBudget
from bot.app.telegram_limits import TelegramLimits
from bot.app.updates import CONFIRM_TIMEOUT, TokenRevoked
from bot.logs import setup_logging
from bot.platforms.registry import PLATFORMS
from bot.storage.crypto import SecretBoxError
from bot.storage.migrations import MigrationError
from bot.storage.writer_lock import DatabaseInUse, DatabaseNotWritable

if TYPE_CHECKING:
    from bot.app.wiring import Services
    from bot.notifications.runtime import Notifications

log = logging.getLogger("exchanger-bot")
STAGE_CAP = 5.0  # seconds, for a stop stage that asks Telegram or stops the HTTP server


async def self_check(services: Services) -> None:
    """One call that proves the exchange answers and the bot's key works, logged in plain words."""
    try:
        check = await services.platform.self_check()
    except Exception as exc:  # the bot still starts: the exchange may come back
        log.warning("self-check: the exchange could not be asked (%s)", type(exc).__name__)
        return
    (log.info if check.ok else log.warning)("self-check: %s", check.message)


def _telegram_bot(settings: Settings) -> Bot:
    from bot.app.dispatcher import BOT_DEFAULTS

    assert settings.bot_token is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(TelegramLimits())
    return Bot(settings.bot_token.get_secret_value(), session=session, default=BOT_DEFAULTS)


class StopSignals:
    """SIGTERM or SIGINT: stop (``requested``); a second one: stop without waiting (``hurry``)."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.hurry = asyncio.Event()

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):  # not on Windows
                loop.add_signal_handler(sig, self._received, sig)

    def remove(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)

    def _received(self, sig: signal.Signals) -> None:
        if self.requested.is_set():
            log.warning("%s again: stopping without waiting for updates in flight", sig.name)
            self.hurry.set()
            return
        log.info("%s: stopping (updates in flight may finish first)", sig.name)
        self.requested.set()


async def run_telegram(settings: Settings, stop: StopSignals | None = None) -> None:
    """Run the bot on Telegram until SIGTERM/SIGINT (or ``stop.requested``). Stopping takes no new
    update and asks the tracker and the sender to finish their step, lets the updates in flight finish
    within SHUTDOWN_GRACE_SECONDS, removes or keeps the webhook, stops the HTTP server, and closes the
    database last; all of it within SHUTDOWN_GRACE_SECONDS + ``stop_budget.MARGIN`` (a second signal:
    about a second per stage). Whatever a SIGKILL interrupts instead is picked up on the next start
    (the outbox, order reservations)."""
    from bot.app.dispatcher import build_dispatcher
    from bot.app.wiring import open_services
    from bot.notifications import notifications_running
    from bot.observability import instrument_bot

    own_signals = stop is None
    stop = stop or StopSignals()
    if own_signals:
        stop.install()
    stop_timeout = max(settings.shutdown_grace_seconds, 1.0)
    try:
        async with open_services(settings) as services:  # closes the database last
            await self_check(services)
            dp = build_dispatcher(services)
            bot = instrument_bot(_telegram_bot(settings), services.metrics)
            try:
                with _reaching_telegram(settings):
                    await _check_token(bot)
                async with notifications_running(services, bot, stop_timeout=stop_timeout) as notifications:
                    dp["order_statuses"] = notifications.statuses
                    dp["notifications"] = notifications
                    await _serve(services, dp, bot, notifications, stop)
            finally:
                await bot.session.close()
    finally:
        if own_signals:
            stop.remove()
    log.info("stopped")


@contextlib.contextmanager
def _reaching_telegram(settings: Settings) -> Iterator[None]:
    """Telegram out of reach at start: one line saying so (a network error, not a traceback)."""
    from aiogram.exceptions import TelegramNetworkError, TelegramServerError
    from aiohttp import ClientError

    try:
        yield
    except (TelegramNetworkError, TelegramServerError, ClientError, OSError, TimeoutError) as exc:
        why = exc.message.split(":")[0] if isinstance(exc, TelegramNetworkError) else type(exc).__name__
        raise StartupError(
            f"cannot reach Telegram at TELEGRAM_API_URL {settings.telegram_api_url} ({why}); "
            "check the network (a firewall, a proxy) or TELEGRAM_API_URL"
        ) from None


async def _check_token(bot: Bot) -> None:
    from aiogram.exceptions import TelegramUnauthorizedError

    try:
        await bot.me()
    except TelegramUnauthorizedError:
        raise StartupError("Telegram refused BOT_TOKEN (Unauthorized): check it with @BotFather") from None


async def _serve(
    services: Services, dp: Dispatcher, bot: Bot, notifications: Notifications, stop: StopSignals
) -> None:
    """Take updates (polling, or the webhook) and serve the HTTP server until stopped, then drain."""
    from bot.app.dispatcher import set_commands
    from bot.app.health import HealthMonitor, IntakeState
    from bot.app.updates import Poller, UpdateFeeder
    from bot.app.web import start_web_server
    from bot.app.webhook import TelegramWebhook

    settings = services.settings
    webhook_url = settings.telegram_webhook_url
    intake = IntakeState(mode="webhook" if webhook_url else "polling", webhook_url=webhook_url or "")
    feeder = UpdateFeeder(dp, bot, intake)
    webhook = TelegramWebhook(webhook_url, bot, feeder) if webhook_url else None
    monitor = HealthMonitor(services, intake=intake, notifications=notifications, bot=bot)
    dp["health"] = monitor
    runner = await start_web_server(services, notifications, monitor=monitor, telegram_webhook=webhook)
    poller: Poller | None = None
    polling: asyncio.Task[None] | None = None
    try:
        with _reaching_telegram(settings):
            await set_commands(bot, services.i18n, services.platform.info, settings.admin_ids)
            await dp.emit_startup(bot=bot, **feeder.context)
            allowed = dp.resolve_used_update_types()
            if webhook is not None:
                await webhook.register(allowed)
            else:
                # A webhook left by an earlier run in webhook mode would refuse getUpdates.
                await bot.delete_webhook(drop_pending_updates=False)
                poller = Poller(bot, feeder, allowed)
                polling = asyncio.create_task(poller.run(), name="telegram-polling")
                log.info("polling Telegram for updates as @%s", (await bot.me()).username)
        await _until_stopped(stop, polling)
    finally:
        # The tracker and the sender finish their step while the updates in flight drain.
        notifications.request_stop()
        grace = settings.shutdown_grace_seconds
        budget = StopBudget(grace + STOP_MARGIN, stop.hurry)
        feeder.close()
        if polling is not None:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)  # what it raised is raised above
        if cancelled := await feeder.drain(budget.left(grace), stop.hurry):
            log.warning("%d update(s) cancelled after the %g s grace period", cancelled, grace)
        if poller is not None:
            await budget.run("confirming the updates taken", poller.confirm(), CONFIRM_TIMEOUT)
        if webhook is not None:
            delete = settings.telegram_webhook_delete_on_shutdown
            await budget.run("removing the webhook", webhook.unregister(delete=delete), STAGE_CAP)
        await budget.run("the dispatcher's shutdown", dp.emit_shutdown(bot=bot, **feeder.context), STAGE_CAP)
        await budget.run("stopping the HTTP server", runner.cleanup(), STAGE_CAP)
        # Whatever the budget leaves; what still runs then is cancelled (the outbox keeps it).
        await budget.run("the notification tracker and sender", notifications.wait_stopped())
        await notifications.stop(0)


async def _until_stopped(stop: StopSignals, polling: asyncio.Task[None] | None) -> None:
    """Until a stop is requested, or the polling task ends (it only ends by raising)."""
    waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(stop.requested.wait())}
    if polling is not None:
        waiters.add(polling)
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            if waiter is not polling:
                waiter.cancel()
    if polling is not None and polling.done() and not polling.cancelled():
        polling.result()  # raises what stopped it


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
    from bot.app.health import HealthMonitor
    from bot.app.web import start_web_server
    from bot.app.wiring import open_services
    from bot.notifications import notifications_running
    from offline.fake_session import FAKE_TOKEN, FakeTelegramSession

    settings = terminal_chat_settings(settings)
    async with open_services(settings, sandbox_step_seconds=sandbox_step_seconds) as services:
        dp = build_dispatcher(services)
        bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
        bot.session.middleware(TelegramLimits())
        await set_commands(bot, services.i18n, services.platform.info, services.settings.admin_ids)
        await dp.emit_startup(bot=bot)
        try:
            # The chat prints notifications as they come.
            async with notifications_running(services, bot) as notifications:
                dp["order_statuses"] = notifications.statuses
                dp["notifications"] = notifications
                dp["health"] = monitor = HealthMonitor(services, notifications=notifications)
                runner = (
                    await start_web_server(services, notifications, monitor=monitor)
                    if settings.public_url
                    else None
                )
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
    if command == "run" and settings.bot_token is None and not sys.stdin.isatty():
        # A container or service without a token: the terminal chat would read EOF and exit 0.
        print(
            "Cannot start: BOT_TOKEN is not set (get one from @BotFather); "
            "`exchanger-bot chat` runs the offline chat without it",
            file=sys.stderr,
        )
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
    except (StartupError, SecretBoxError, MigrationError, DatabaseInUse, DatabaseNotWritable) as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 1
    except TokenRevoked as exc:
        print(f"Stopped: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
