"""Shared fixtures: a sandbox exchanger on loopback, the bot's services on a temp SQLite file,
and the production Dispatcher driven through the fake Telegram session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher

from bot.app.config import Settings
from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import Services, open_services
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import DEMO
from offline.bot_client import BotClient
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxExchanger]:
    exchanger = SandboxExchanger(step_seconds=None, callback_timeout=2.0)
    await exchanger.start("127.0.0.1", 0)
    try:
        yield exchanger
    finally:
        await exchanger.stop()


def make_settings(tmp_path: Path, exchanger_url: str | None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_path": tmp_path / "bot.sqlite3",
        "exchanger_url": exchanger_url,
        "exchanger_api_login": DEMO.login if exchanger_url else None,
        "exchanger_api_key": DEMO.key if exchanger_url else None,
        "secret_key": TEST_SECRET_KEY,
        "http_port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, sandbox: SandboxExchanger) -> Settings:
    return make_settings(tmp_path, sandbox.url)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings) as opened:
        yield opened


@pytest.fixture
def bot() -> Bot:
    return Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)


@pytest.fixture
def dp(services: Services) -> Dispatcher:
    return build_dispatcher(services)


@pytest.fixture
def make_client(dp: Dispatcher, bot: Bot) -> Callable[..., BotClient]:
    def factory(**kwargs: object) -> BotClient:
        return BotClient(dp, bot, **kwargs)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def client(make_client: Callable[..., BotClient]) -> BotClient:
    return make_client()
