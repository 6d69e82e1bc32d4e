"""The partner cabinet on iEXExchanger (issue 9) through the production Dispatcher and the embedded
sandbox: /stats shows the exchange's own statistics next to the figures computed from the exchanges
list, a used-up request quota is told with when to come back, and each 401/403 case at /login gets its
own sentence."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from aiogram import Bot

from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import Services, open_services
from bot.partner.export import mask_account
from bot.partner.periods import PeriodKind, preset, today_utc
from bot.platforms.iexexchanger.sandbox import data as sandbox_data
from bot.platforms.iexexchanger.sandbox.keys import (
    DISABLED,
    FULL,
    IP_LOCKED,
    MISSING_SCOPE,
    PARTNER_CLIENT,
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


# -- /payouts and the CSV exports against the sandbox's own records -------------------------------------
# Checked periods: /payouts over its default period (the last 365 days, every page), the payouts CSV
# over the last 30 and 365 days, the exchanges CSV over the last 30 days (UTC days, as the bot counts).


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


async def _export(client: BotClient, list_command: str, period_label: str) -> list[dict[str, str]]:
    await client.send(list_command)
    await client.click("📄 Export CSV")
    reply = await client.click(period_label)
    [document] = [m for m in reply.sent if m.file is not None]
    assert document.file is not None
    return _csv_rows(document.file.content)


async def test_payouts_list_matches_the_sandbox_page_by_page(make_client, iex: Services) -> None:
    client = make_client(740020)
    await client.send("/login")
    await client.send(FULL.token)
    sandbox = iex.platform.sandbox  # type: ignore[attr-defined]
    period = preset(PeriodKind.YEAR, today_utc())
    truth = [p for p in sandbox.account("full").payouts if period.contains(p.created_at)]
    assert {p.status for p in truth} == {"pending", "paid", "rejected"}, "the sandbox has every status"

    reply = await client.send("/payouts")
    pages = [plain(reply.text)]
    while "Older ▶️" in client.last.button_labels():
        pages.append(plain((await client.click("Older ▶️")).text))
    assert f"· {len(truth)} in all" in pages[0]
    shown = "\n".join(pages)
    entries = shown.split("<b>#")[1:]
    assert len(entries) == len(truth), "each payout once, no more"
    words = {"pending": "⏳ pending", "paid": "✅ paid", "rejected": "❌ refused"}
    for payout in truth:
        [entry] = [e for e in entries if e.startswith(f"{payout.public_id}</b>")]
        assert words[payout.status] in entry.splitlines()[0]
        assert f"{payout.amount:.2f}" in entry.replace(" ", "")
        assert mask_account(payout.wallet) in entry
        if payout.tx_id:
            assert payout.tx_id in entry
        else:
            assert "Transaction:" not in entry
    # Newest first across pages.
    order = [e.split("</b>")[0] for e in entries]
    newest_first = sorted(truth, key=lambda p: p.created_at, reverse=True)
    assert order == [p.public_id for p in newest_first]


@pytest.mark.parametrize(("label", "kind"), [("30 days", PeriodKind.DAYS30), ("365 days", PeriodKind.YEAR)])
async def test_payouts_csv_matches_the_sandbox(
    make_client, iex: Services, label: str, kind: PeriodKind
) -> None:
    client = make_client(740021)
    await client.send("/login")
    await client.send(FULL.token)
    sandbox = iex.platform.sandbox  # type: ignore[attr-defined]
    sandbox.new_payout(PARTNER_CLIENT.id, Decimal("10.05"))  # one made just now, pending
    period = preset(kind, today_utc())
    truth = {str(p.id): p for p in sandbox.account("full").payouts if period.contains(p.created_at)}
    rows = await _export(client, "/payouts", label)
    assert sorted(r["id"] for r in rows) == sorted(truth)
    for row in rows:
        payout = truth[row["id"]]
        assert Decimal(row["pay_amount"]) == payout.amount and row["pay_currency"] == payout.currency
        assert row["status_code"] == payout.status
        assert row["tx_id"] == (payout.tx_id or "")
        assert int(row["time_unix"]) == payout.created_at
        assert row["account"] == mask_account(payout.wallet)
        assert row["paid_time_unix"] == (str(payout.paid_at) if payout.paid_at else "")


async def test_exchanges_csv_matches_the_sandbox(make_client, iex: Services) -> None:
    client = make_client(740022)
    await client.send("/login")
    await client.send(FULL.token)
    sandbox = iex.platform.sandbox  # type: ignore[attr-defined]
    period = preset(PeriodKind.DAYS30, today_utc())
    truth = {str(e.id): e for e in sandbox.account("full").exchanges if period.contains(e.created_at)}
    assert truth, "the sandbox has exchanges in the last 30 days"
    rows = await _export(client, "/pexchanges", "30 days")
    by_id = {r["id"]: r for r in rows}
    assert sorted(by_id) == sorted(truth)
    for key, row in by_id.items():
        exchange = truth[key]
        assert row["status"] == exchange.status and row["number"] == exchange.public_id
        assert Decimal(row["amount_give"]) == exchange.amount_give
        assert Decimal(row["amount_get"]) == exchange.amount_receive
        assert Decimal(row["partner_reward"]) == exchange.bonus
        assert int(row["time_unix"]) == exchange.created_at
