"""Webhook mode: the real `run_telegram` registers its webhook with a fresh secret at the Bot API
emulator, takes real updates on its own HTTP server only with that secret, and removes or keeps the
webhook when it stops."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app.cli import StopSignals, run_telegram
from bot.app.config import StartupError
from bot.app.updates import TokenRevoked
from bot.app.webhook import SECRET_HEADER, webhook_path
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from tests.bot_process import BOT_TOKEN, free_port
from tests.conftest import make_settings
from tests.telegram_emulator import TelegramEmulator

HOOK = "https://bot.example.com/tg/hook"
CHAT = 777


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    emulator = TelegramEmulator()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


class RunningBot:
    def __init__(
        self, tmp_path: Path, sandbox: SandboxExchanger, emulator: TelegramEmulator, **settings: object
    ) -> None:
        self.port = free_port()
        self.settings = make_settings(
            tmp_path,
            sandbox.url,
            bot_token=BOT_TOKEN,
            telegram_api_url=emulator.url,
            http_host="127.0.0.1",
            http_port=self.port,
            **settings,
        )
        self.stop = StopSignals()
        self.task: asyncio.Task[None] | None = None

    @property
    def hook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tg/hook"

    async def __aenter__(self) -> RunningBot:
        self.task = asyncio.create_task(run_telegram(self.settings, self.stop))
        return self

    async def stopped(self) -> None:
        assert self.task is not None
        self.stop.requested.set()
        await asyncio.wait_for(self.task, 60)

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        if not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


async def registered(emulator: TelegramEmulator, before: int = 0) -> dict[str, str]:
    await emulator.wait_for(lambda: emulator.count("setWebhook") > before, 60, "setWebhook")
    hook = [params for method, params in emulator.calls if method == "setWebhook"][-1]
    return hook


async def test_webhook_takes_updates_only_with_the_secret_and_is_deleted_on_stop(
    tmp_path: Path, sandbox: SandboxExchanger, emulator: TelegramEmulator
) -> None:
    async with RunningBot(tmp_path, sandbox, emulator, telegram_webhook_url=HOOK) as bot:
        hook = await registered(emulator)
        assert hook["url"] == HOOK
        secret = hook["secret_token"]
        assert len(secret) >= 32
        allowed = set(json.loads(hook["allowed_updates"]))
        assert {"message", "callback_query"} <= allowed
        assert hook.get("drop_pending_updates") in (None, "false", "False")

        async with httpx.AsyncClient(timeout=30) as http:
            refused = emulator.text_update(CHAT, "/start")
            no_secret = await http.post(bot.hook_url, json=refused)
            wrong = await http.post(bot.hook_url, json=refused, headers={SECRET_HEADER: secret[:-1] + "x"})
            assert (no_secret.status_code, wrong.status_code) == (401, 401)
            # A header is bytes: non-ASCII ones (not UTF-8 either) are refused like any wrong secret.
            hostile = await http.post(
                bot.hook_url, json=refused, headers={SECRET_HEADER: b"\xff\xfe" + secret.encode()[2:]}
            )
            assert hostile.status_code == 401

            garbage = await http.post(bot.hook_url, content=b"{not json", headers={SECRET_HEADER: secret})
            assert garbage.status_code == 400

            taken = await http.post(
                bot.hook_url, json=emulator.text_update(CHAT, "/help"), headers={SECRET_HEADER: secret}
            )
            assert taken.status_code == 200
            await emulator.wait_for(lambda: any("/language" in t for t in emulator.texts(CHAT)), 30, "/help")
            # The refused /start was never processed (it came first, so it would have been answered).
            assert not any("Hello" in t for t in emulator.texts(CHAT))
            assert len(emulator.texts(CHAT)) == 1

            health = await http.get(f"http://127.0.0.1:{bot.port}/health")
            body = health.json()
            assert body["checks"]["updates"]["status"] == "ok", body
        assert emulator.count("getUpdates") == 0  # no polling beside the webhook

        await bot.stopped()
    assert emulator.count("deleteWebhook") == 1 and emulator.webhook is None


async def test_kept_webhook_gets_a_fresh_secret_each_start(
    tmp_path: Path, sandbox: SandboxExchanger, emulator: TelegramEmulator
) -> None:
    async with RunningBot(
        tmp_path, sandbox, emulator, telegram_webhook_url=HOOK, telegram_webhook_delete_on_shutdown=False
    ) as first:
        old = (await registered(emulator))["secret_token"]
        await first.stopped()
    assert emulator.count("deleteWebhook") == 0 and emulator.webhook is not None

    async with RunningBot(tmp_path, sandbox, emulator, telegram_webhook_url=HOOK) as second:
        new = (await registered(emulator, before=1))["secret_token"]
        assert new != old
        async with httpx.AsyncClient(timeout=30) as http:
            update = emulator.text_update(CHAT, "/help")
            stale = await http.post(second.hook_url, json=update, headers={SECRET_HEADER: old})
            assert stale.status_code == 401
        await second.stopped()


async def test_polling_start_removes_a_webhook_left_behind(
    tmp_path: Path, sandbox: SandboxExchanger, emulator: TelegramEmulator
) -> None:
    emulator.webhook = {"url": HOOK}  # left by an earlier run in webhook mode that kept it
    async with RunningBot(tmp_path, sandbox, emulator) as bot:
        emulator.push_text(CHAT, "/help")
        await emulator.wait_for(lambda: any("/language" in t for t in emulator.texts(CHAT)), 60, "/help")
        assert emulator.count("setWebhook") == 0
        await bot.stopped()


async def test_webhook_replaced_by_another_process_is_left_to_it(
    tmp_path: Path, sandbox: SandboxExchanger, emulator: TelegramEmulator
) -> None:
    async with RunningBot(tmp_path, sandbox, emulator, telegram_webhook_url=HOOK) as bot:
        await registered(emulator)
        other = {"url": "https://other.example.com/hook"}
        emulator.webhook = other  # another instance set its own webhook meanwhile
        await bot.stopped()
    assert emulator.count("getWebhookInfo") >= 1
    assert emulator.count("deleteWebhook") == 0 and emulator.webhook is other


async def test_a_bot_api_that_hangs_on_stop_does_not_hold_the_stop(
    tmp_path: Path, sandbox: SandboxExchanger, emulator: TelegramEmulator
) -> None:
    """deleteWebhook never answers: the stop gives up on it within its budget and finishes."""
    async with RunningBot(
        tmp_path, sandbox, emulator, telegram_webhook_url=HOOK, shutdown_grace_seconds=0.5
    ) as bot:
        await registered(emulator)
        emulator.hold("deleteWebhook")
        try:
            await bot.stopped()  # before the stop budget: forever
        finally:
            emulator.release("deleteWebhook")
    assert emulator.attempts.get("deleteWebhook") == 1 and emulator.count("deleteWebhook") == 0


async def test_another_process_polling_the_token_fails_health_and_is_logged_once(
    tmp_path: Path, sandbox: SandboxExchanger, emulator: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with RunningBot(tmp_path, sandbox, emulator) as bot:
        await emulator.wait_for(lambda: emulator.count("getUpdates") > 0, 60, "polling")
        health = f"http://127.0.0.1:{bot.port}/health"
        emulator.polled_elsewhere = True
        refused = emulator.attempts.get("getUpdates", 0)
        async with httpx.AsyncClient(timeout=30) as http:

            async def updates_check() -> dict[str, str]:
                return (await http.get(health)).json()["checks"]["updates"]

            await emulator.wait_for(lambda: emulator.attempts["getUpdates"] >= refused + 3, 60, "retries")
            check = await updates_check()
            assert check["status"] == "failing"
            assert check["reason"] == "another process is polling this bot token"
            conflicts = [r for r in caplog.records if "409 Conflict" in r.getMessage()]
            assert len(conflicts) == 1, conflicts

            emulator.polled_elsewhere = False  # the other process stopped
            emulator.push_text(CHAT, "/help")
            await emulator.wait_for(lambda: any("/language" in t for t in emulator.texts(CHAT)), 60, "/help")
            for _ in range(100):  # /health keeps its report for a moment
                if (await updates_check())["status"] == "ok":
                    break
                await asyncio.sleep(0.1)
            assert (await updates_check())["status"] == "ok"
        await bot.stopped()


async def test_token_revoked_while_running_stops_the_bot(
    tmp_path: Path, sandbox: SandboxExchanger, emulator: TelegramEmulator
) -> None:
    async with RunningBot(tmp_path, sandbox, emulator) as bot:
        await emulator.wait_for(lambda: emulator.count("getUpdates") > 0, 60, "polling")
        emulator.token_revoked = True
        assert bot.task is not None
        with pytest.raises(TokenRevoked, match="BOT_TOKEN"):
            await asyncio.wait_for(bot.task, 60)


@pytest.mark.parametrize("url", ["https://x.example/health", "https://x.example/callbacks/order/1"])
def test_webhook_path_may_not_take_the_servers_other_routes(url: str) -> None:
    with pytest.raises(StartupError, match="TELEGRAM_WEBHOOK_URL"):
        webhook_path(url)
    assert webhook_path("https://x.example") == "/"
