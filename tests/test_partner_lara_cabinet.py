"""The partner cabinet on Lara-script (issue 8) through the production Dispatcher and the embedded
sandbox: /stats breakdowns from the visits' parameters, the completion share, no "pending" rewards
where a not-completed exchange may have failed, the CSV's params column, /link names the site keeps,
and the referral link to check on /partner."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from aiogram import Bot

from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import Services, open_services
from bot.platforms.larascript.sandbox import LaraSandbox
from bot.platforms.larascript.sandbox.keys import DEMO
from handlers.partner.commands import partner_greeting
from offline.bot_client import BotClient
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession
from tests.conftest import make_settings


@pytest.fixture
async def lara(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path, None, exchanger_platform="larascript")
    async with open_services(settings, sandbox_step_seconds=None) as services:
        yield services


@pytest.fixture
def sb(lara: Services) -> LaraSandbox:
    sandbox = lara.platform.sandbox  # type: ignore[attr-defined]
    assert isinstance(sandbox, LaraSandbox)
    return sandbox


@pytest.fixture
async def partner(lara: Services) -> BotClient:
    bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
    client = BotClient(build_dispatcher(lara), bot, user_id=730001, first_name="Lara")
    await client.send("/login")
    await client.send(DEMO.key)
    await client.send(DEMO.rid)
    return client


def week() -> tuple[int, int]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((today - timedelta(days=6)).timestamp()), int((today + timedelta(days=1)).timestamp()) - 1


def plain(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d{3})", "", text).replace("\u00a0", " ")


def bucket_line(text: str, value: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith(f"• {value}: ")]
    assert lines, f"no line for {value!r} in:\n{text}"
    return lines[0]


async def test_stats_break_exchanges_down_by_tags_and_pair(partner: BotClient, sb: LaraSandbox) -> None:
    start, end = week()
    rows = sb.created_between(start, end)
    reply = await partner.send("/stats")  # 7 days
    text = plain(reply.text)
    assert "<b>By utm_source</b>" in text and "<b>By currency pair</b>" in text
    tagged = [r for r in rows if isinstance(r.params, dict) and r.params.get("utm_source") == "telegram"]
    done = [r for r in tagged if r.is_completed]
    assert tagged, "the sandbox tags some exchanges utm_source=telegram"
    assert f": {len(tagged)} referred, {len(done)} completed" in bucket_line(text, "telegram")
    pairs = Counter(f"{r.currency_in} → {r.currency_out}" for r in rows)
    pair, count = min(pairs.items(), key=lambda item: (-item[1], item[0]))  # listed first
    assert f": {count} referred," in bucket_line(text, pair)
    share = Decimal(sum(r.is_completed for r in rows) * 100) / Decimal(len(rows))
    assert f"{share.quantize(Decimal('0.01'))}%" in text  # completed ÷ referred
    assert "pending" not in text and "Clicks" not in text and "visitors" not in text
    assert "created in the period" in text
    assert len(text) <= 4096


async def test_csv_has_the_visit_params(partner: BotClient, sb: LaraSandbox) -> None:
    start, end = week()
    truth = {r.key: r for r in sb.created_between(start, end)}
    await partner.send("/pexchanges")
    await partner.click("📄 Export CSV")
    export = await partner.click("7 days")
    document = export.sent[-1].file
    assert document is not None
    rows = list(csv.DictReader(io.StringIO(document.content.decode("utf-8"))))
    plain_rows = [
        row
        for row in rows
        if isinstance(truth[row["id"]].params, dict)
        and all(isinstance(v, str) for v in truth[row["id"]].params.values())
        and "rid" not in truth[row["id"]].params
    ]
    assert plain_rows
    for row in plain_rows:
        assert dict(parse_qsl(row["params"], keep_blank_values=True)) == truth[row["id"]].params
    assert any(row["params"] == "" for row in rows if truth[row["id"]].params in ([], {}, None))


async def test_link_refuses_a_name_the_site_would_change(partner: BotClient) -> None:
    await partner.send("/link")
    await partner.click("➕ Other parameter")
    refused = await partner.send("sub.id=42")
    assert "sub.id" in refused.text and "Latin letters" in refused.text
    built = await partner.send("sub_id=42")
    assert "sub_id=42" in built.text and f"rid={DEMO.rid}" in built.text


async def test_partner_screen_shows_the_link_to_check(partner: BotClient, lara: Services) -> None:
    reply = await partner.send("/partner")
    assert f"{lara.platform.site_url.rstrip('/')}/?rid={DEMO.rid}" in reply.text
    assert "wrong partner ID" in reply.text


def test_the_greeting_promises_only_what_the_platform_serves(lara: Services) -> None:
    """For /start of a partner-only deployment (handlers/start.py calls it once wired)."""
    from bot.platforms.iexexchanger import INFO as IEX_INFO

    with lara.i18n.context(), lara.i18n.use_locale("en"):
        on_lara = partner_greeting(lara.platform.info)
        on_iex = partner_greeting(IEX_INFO)
    assert "balance" not in on_lara and "payouts" not in on_lara and "earned" in on_lara
    assert "balance" in on_iex and "payouts" in on_iex


async def test_the_chart_names_no_clicks(partner: BotClient) -> None:
    await partner.send("/stats")
    drawn = await partner.click("📈 Chart")
    photo = drawn.sent[-1]
    assert photo.file is not None and photo.file.filename.endswith(".png")
    assert "Exchanges and accrued rewards per day" in photo.text and "Clicks" not in photo.text
