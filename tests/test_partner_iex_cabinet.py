"""The partner cabinet on iEXExchanger (issue 9) through the production Dispatcher and the embedded
sandbox: /stats shows the exchange's own statistics next to the figures computed from the exchanges
list, a used-up request quota is told with when to come back, and each 401/403 case at /login gets its
own sentence."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from aiogram import Bot

from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import Services, open_services
from bot.partner.periods import PeriodKind, preset, today_utc
from bot.platforms.iexexchanger.sandbox import data as sandbox_data
from bot.platforms.iexexchanger.sandbox.keys import (
    DISABLED,
    FULL,
    IP_LOCKED,
    MISSING_SCOPE,
    QUOTA,
    SWITCHED_OFF,
)
from offline.bot_client import BotClient
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession
from tests.conftest import make_settings


@pytest.fixture
async def iex(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path, None, exchanger_platform="iexexchanger")
    async with open_services(settings, sandbox_step_seconds=None) as services:
        yield services


@pytest.fixture
def make_client(iex: Services):
    dp = build_dispatcher(iex)
    bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
    return lambda user_id: BotClient(dp, bot, user_id=user_id)


def plain(text: str) -> str:
    return text.replace("\u202f", "").replace("\u00a0", " ")


async def test_stats_show_the_exchanges_own_figures(make_client, iex: Services) -> None:
    client = make_client(740001)
    await client.send("/login")
    await client.send(FULL.token)
    reply = await client.send("/stats")  # 7 days = the exchange's "week"
    text = plain(reply.text)
    sandbox = iex.platform.sandbox  # type: ignore[attr-defined]
    truth = sandbox.account("full").statistics(*sandbox_data.window_of("week", int(time.time())))
    assert "The exchange's own figures" in text and "Computed by the bot" in text
    assert f"👣 Clicks: <b>{truth['clicks']}</b>" in text
    assert f"👤 Registrations: <b>{truth['registrations']}</b>" in text
    assert f"Accrued: <b>{Decimal(truth['accruals']):.2f}" in text
    # The bot's own count from the exchanges list agrees with the exchange's.
    assert f"🔁 Exchanges referred: <b>{truth['exchanges']}</b>" in text


async def test_stats_of_another_period_ask_the_exchange_for_a_range(make_client, iex: Services) -> None:
    client = make_client(740002)
    await client.send("/login")
    await client.send(FULL.token)
    await client.send("/stats")
    sandbox = iex.platform.sandbox  # type: ignore[attr-defined]
    period = preset(PeriodKind.THIS_MONTH, today_utc())
    truth = sandbox.account("full").statistics(period.start_time, period.end_time)
    text = plain((await client.click("This month")).text)
    assert f"👣 Clicks: <b>{truth['clicks']}</b>" in text
    sandbox.stats_range = False  # an install that takes day, week or month only
    text = (await client.click("Last month")).text
    assert "for today, 7 days or 30 days only" in text and "🔁 Exchanges referred" in text


async def test_a_key_without_the_stats_scope_still_gets_the_computed_figures(make_client) -> None:
    client = make_client(740003)
    await client.send("/login")
    await client.send(MISSING_SCOPE.token)
    reply = await client.send("/stats")
    assert "🔁 Exchanges referred" in reply.text


async def test_a_used_up_quota_is_told_with_when_to_come_back(make_client, iex: Services) -> None:
    client = make_client(740004)
    await client.send("/login")
    await client.send(QUOTA.token)
    sandbox = iex.platform.sandbox  # type: ignore[attr-defined]
    sandbox.quota_used[QUOTA.key_id] = QUOTA.daily_quota
    reply = await client.send("/payouts")
    assert "used up its request quota" in reply.text and "UTC" in reply.text
    assert "🔄 Try again" in client.last.button_labels()


@pytest.mark.parametrize(
    ("key", "sentence"),
    [
        (SWITCHED_OFF, "does not accept this key"),
        (DISABLED, "API access switched off for your account"),
        (IP_LOCKED, "only works from certain IP addresses"),
    ],
)
async def test_each_refusal_at_login_has_its_own_sentence(make_client, key, sentence) -> None:
    client = make_client(740010)
    await client.send("/login")
    reply = await client.send(key.token)
    assert sentence in reply.text
    assert key.token not in reply.text
