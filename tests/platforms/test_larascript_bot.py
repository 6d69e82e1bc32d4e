"""A Lara-script deployment end to end: the production Dispatcher on EXCHANGER_PLATFORM=larascript with
the embedded sandbox (no EXCHANGER_URL), driven through the fake Telegram session.

The figures of /partner, /stats (30 days: more than one page of 200) and the CSV export are compared
with the sandbox's own rows. Texts are the partner helper's: only numbers and amounts are matched.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from aiogram import Bot

from bot.app.config import Settings
from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import Services, open_services
from bot.platforms.larascript.sandbox import LaraSandbox
from bot.platforms.larascript.sandbox.keys import DEMO
from offline.bot_client import BotClient
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession

SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture
async def lara_services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=tmp_path / "bot.sqlite3",
        exchanger_platform="larascript",
        exchanger_url=None,
        secret_key=SECRET,
        http_port=0,
    )
    async with open_services(settings, sandbox_step_seconds=None) as services:
        yield services


@pytest.fixture
def sb(lara_services: Services) -> LaraSandbox:
    sandbox = lara_services.platform.sandbox  # type: ignore[attr-defined]
    assert isinstance(sandbox, LaraSandbox)
    return sandbox


@pytest.fixture
def client(lara_services: Services) -> BotClient:
    bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
    return BotClient(build_dispatcher(lara_services), bot, user_id=800008, first_name="Lara")


@pytest.fixture
async def partner(client: BotClient, lara_services: Services) -> BotClient:
    await client.send("/login")
    key_reply = await client.send(DEMO.key)
    assert key_reply.deleted, "the message with the key is deleted at once"
    linked = await client.send(f"{lara_services.platform.site_url}/?rid={DEMO.rid}&utm_source=tg")
    assert DEMO.rid in linked.text and DEMO.key not in linked.text
    return client


def bounds(days_back: int) -> tuple[int, int]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=days_back)
    return int(start.timestamp()), int((today + timedelta(days=1)).timestamp()) - 1


def shown(text: str) -> str:
    """Numbers as the bot groups them in English (``1,000.50``) made plain."""
    return re.sub(r"(?<=\d),(?=\d{3})", "", text).replace("\u00a0", " ")


async def test_partner_screen_matches_the_sandbox(partner: BotClient, sb: LaraSandbox) -> None:
    reply = await partner.send("/partner")
    text = shown(reply.text)
    rows = sb.counted(DEMO.key)
    completed = [r for r in rows if r.is_completed]
    assert f"<b>{len(rows)}</b>" in text and f"<b>{len(completed)}</b>" in text
    earned: dict[str, Decimal] = {}
    for r in completed:
        earned[r.reward_currency] = earned.get(r.reward_currency, Decimal(0)) + Decimal(r.reward)
    assert f"{earned['USDT']:.2f} USDT" in text and f"{earned['RUB']:.2f} RUB" in text
    assert f"{earned['BTC'].normalize()} BTC" in text
    for word in ("Balance", "Minimum payout", "Withdraw", "Clicks", "Payouts"):
        assert word not in reply.text  # nothing the API does not have, not even as zero


async def test_stats_of_30_days_match_the_sandbox(partner: BotClient, sb: LaraSandbox) -> None:
    start, end = bounds(29)
    rows = sb.created_between(start, end)
    assert len(rows) > 200, "the period must span several pages of 200"
    await partner.send("/stats")
    reply = await partner.click("30 days")
    text = shown(reply.text)
    assert f"<b>{len(rows)}</b>" in text
    assert f"<b>{sum(r.is_completed for r in rows)}</b>" in text
    usdt = sum(
        (Decimal(r.reward) for r in rows if r.is_completed and r.reward_currency == "USDT"), Decimal(0)
    )
    assert f"{usdt:.2f} USDT" in text
    assert "Clicks" not in reply.text and "visitors" not in reply.text


async def test_csv_of_30_days_has_the_amounts_as_sent(partner: BotClient, sb: LaraSandbox) -> None:
    start, end = bounds(29)
    truth = {r.key: r for r in sb.created_between(start, end)}
    await partner.send("/pexchanges")
    await partner.click("📄 Export CSV")
    export = await partner.click("30 days")
    document = export.sent[-1].file
    assert document is not None and document.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(document.content.decode("utf-8"))))
    assert len(rows) == len(truth) > 200
    for row in rows:
        wire = truth[row["id"]]
        assert row["partner_reward"] == wire.reward and row["reward_currency"] == wire.reward_currency
        assert (row["give_currency"], row["get_currency"]) == (wire.currency_in, wire.currency_out)
        assert row["completed"] == ("1" if wire.is_completed else "0")
        assert int(row["time_unix"]) == wire.created_at
        if isinstance(wire.amount, str) and not wire.amount.startswith("__NUM__") and wire.amount != "n/a":
            assert row["amount"] == wire.amount


async def test_a_wrong_key_is_refused_and_nothing_is_stored(
    client: BotClient, lara_services: Services
) -> None:
    await client.send("/login")
    await client.send("wrong-key-000000000000")
    reply = await client.send(DEMO.rid)
    assert "wrong-key" not in reply.text
    assert await lara_services.partner_credentials.load(client.chat.id, "larascript") is None
