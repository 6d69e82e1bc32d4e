"""The partner bot on iEXExchanger, end to end: the real dispatcher with real Updates through the fake
Telegram session, the adapter on the embedded sandbox. Checks what the adapter guarantees (key linked
with its HMAC secret, secrets deleted from the chat, figures equal to the sandbox's data); the wording is
the handlers'."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot

from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import Services, open_services
from bot.domain.money import format_amount
from bot.platforms.iexexchanger.adapter import IexPlatform
from bot.platforms.iexexchanger.sandbox.keys import HMAC
from offline.bot_client import BotClient
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession
from tests.conftest import make_settings


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path, None, exchanger_platform="iexexchanger")
    async with open_services(settings) as opened:
        yield opened


@pytest.fixture
def client(services: Services) -> BotClient:
    bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
    return BotClient(build_dispatcher(services), bot)


async def test_link_an_hmac_key_and_read_the_balance(services: Services, client: BotClient) -> None:
    platform = services.platform
    assert isinstance(platform, IexPlatform) and platform.sandbox is not None
    await client.send("/login")
    token_reply = await client.send(HMAC.token)
    secret_reply = await client.send(HMAC.hmac_secret or "")
    assert any(HMAC.token in m.text for m in token_reply.deleted)
    assert any((HMAC.hmac_secret or "") in m.text for m in secret_reply.deleted)
    assert "Gz" in secret_reply.text
    shown = "\n".join(m.text for m in client.messages)
    assert HMAC.token not in shown and (HMAC.hmac_secret or "") not in shown
    reply = await client.send("/partner")
    balance = platform.sandbox.account("hmac").balance
    assert format_amount(balance, "USDT") in reply.text and "USDT" in reply.text
