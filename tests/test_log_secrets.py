"""No credential part reaches the log at LOG_LEVEL=DEBUG, and partner logins are kept encrypted.

The logging is the production set-up (bot.logs.setup_logging("DEBUG")); the records are read before
the redactor's masking, so a secret counts as leaked wherever a logger wrote it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiogram import Bot

from bot.app.dispatcher import build_dispatcher
from bot.app.wiring import open_services
from bot.logs import setup_logging
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import KEYS, DemoKey
from offline.bot_client import BotClient
from tests.conftest import make_settings
from tests.test_exchange_flow import fill_102, only_bid, stored_bid

# A partner key whose login is distinctive enough to be found anywhere it leaks.
LEAKY = DemoKey("lg-7f3a9c2e-login", "ky-5d1e8b4a-0000-secret-key-0123", 7, None)


@pytest.fixture
async def sandbox() -> Iterator[SandboxExchanger]:
    exchanger = SandboxExchanger(step_seconds=None, callback_timeout=2.0, keys={**KEYS, LEAKY.login: LEAKY})
    await exchanger.start("127.0.0.1", 0)
    try:
        yield exchanger
    finally:
        await exchanger.stop()


@pytest.fixture
def debug_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("aiosqlite", "httpcore", "hpack", "httpx")}
    setup_logging("DEBUG")
    root.addHandler(caplog.handler)  # setup_logging replaced the root's handlers
    try:
        yield caplog
    finally:
        root.handlers[:], root.level = saved
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


async def test_debug_log_carries_no_login_key_or_callback_token(
    tmp_path: Path, sandbox: SandboxExchanger, bot: Bot, debug_logging: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, sandbox.url, public_url="https://bot.example.com")
    async with open_services(settings) as services:
        client = BotClient(build_dispatcher(services), bot, user_id=5151)
        await client.send("/login")
        await client.send(LEAKY.login)
        assert "Key linked" in (await client.send(LEAKY.key)).text
        await fill_102(client)
        await client.click("✅ Confirm")
        stored = await stored_bid(services, only_bid(sandbox))
        await client.send("/orders")
        await services.db.connection.execute("PRAGMA wal_checkpoint(FULL)")
    assert stored.push_token and len(stored.push_token) >= 16

    text = logged(debug_logging)
    assert len(debug_logging.records) > 20, "DEBUG logging ran"
    assert any(r.levelno == logging.DEBUG for r in debug_logging.records)
    for secret in (LEAKY.login, LEAKY.key, stored.push_token):
        assert secret not in text, secret
    # aiosqlite is kept at INFO: no statement or its parameters in the log
    sql = [r for r in debug_logging.records if r.name.startswith("aiosqlite") and r.levelno < logging.INFO]
    assert not sql

    # the login and the key are stored sealed: neither is anywhere in the database's bytes
    database = Path(settings.database_path)
    files = list(database.parent.glob(database.name + "*"))
    assert files
    for path in files:
        content = path.read_bytes()
        for secret in (LEAKY.login, LEAKY.key):
            assert secret.encode() not in content, (secret, path.name)
            assert re.escape(secret).encode() not in content
