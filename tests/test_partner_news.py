"""Partner news (bot/partner/watch.py) against the platform sandboxes: the watcher's poll queues one
outbox notification per news item, once, across restarts (a new watcher on the same database); the
partner can turn it off; a rejected key stops polling and is told once; iEX signed payout pushes take
the same path and are not told twice when polling finds the same change; /login registers the push
URL where PUBLIC_URL is set and /logout removes it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot

from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import Services, open_services
from bot.notifications.runtime import NotificationConfig, build_notifications
from bot.partner.news_messages import NEWS_KIND
from bot.partner.watch import PartnerWatcher, on_partner_push
from bot.platforms.iexexchanger.sandbox.keys import FULL, PARTNER_CLIENT
from bot.platforms.larascript.sandbox import LaraSandbox
from bot.platforms.larascript.sandbox.keys import DEMO
from bot.storage.outbox import OutboxRepository
from offline.bot_client import BotClient
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession
from tests.conftest import make_settings

FAST = NotificationConfig(per_chat_interval=0.0, outbox_recheck=0.05)
LARA_CHAT = 750001
IEX_CHAT = 750002


def new_client(services: Services, user_id: int) -> BotClient:
    bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
    return BotClient(build_dispatcher(services), bot, user_id=user_id)


async def news_rows(services: Services, chat_id: int) -> list[dict]:
    rows = await services.db.fetchall(
        "SELECT payload FROM outbox WHERE chat_id = ? AND kind = ? ORDER BY id", (chat_id, NEWS_KIND)
    )
    return [json.loads(row["payload"]) for row in rows]


async def sent_texts(services: Services, client: BotClient) -> list[str]:
    """Deliver the outbox through the real sender to the chat's fake session."""
    notifications = build_notifications(services, client.bot, FAST)
    await notifications.sender.drain()
    session = client.bot.session
    assert isinstance(session, FakeTelegramSession)
    return [m.text for m in session.chat_messages(client.chat.id)]


# -- Lara-script: completions ----------------------------------------------------------------------


@pytest.fixture
async def lara(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path, None, exchanger_platform="larascript")
    async with open_services(settings, sandbox_step_seconds=None) as services:
        services.platform.cache.min_interval = 0  # type: ignore[attr-defined]  # every poll reads
        yield services


@pytest.fixture
def sb(lara: Services) -> LaraSandbox:
    return lara.platform.sandbox  # type: ignore[attr-defined]


@pytest.fixture
async def lara_partner(lara: Services) -> BotClient:
    client = new_client(lara, LARA_CHAT)
    await client.send("/login")
    await client.send(DEMO.key)
    await client.send(DEMO.rid)
    assert await lara.partner_credentials.load(LARA_CHAT, "larascript") is not None
    return client


def complete_open(sb: LaraSandbox, count: int, at: int) -> list[str]:
    rows = [r for r in sb.ordered(DEMO.key)[:150] if not r.is_completed and r.id is not None][:count]
    for n, row in enumerate(rows):
        sb.book.complete(DEMO.key, row.key, at + n)
    return [r.key for r in rows]


async def test_completions_are_told_once_across_a_restart(
    lara: Services, sb: LaraSandbox, lara_partner: BotClient
) -> None:
    watcher = PartnerWatcher(lara)
    assert await watcher.poll_once() == 0, "linking a key never floods the chat with history"
    now = int(time.time())
    first, second = complete_open(sb, 2, now + 5)
    assert await watcher.poll_once() == 2
    assert await watcher.poll_once() == 0
    restarted = PartnerWatcher(lara)  # a new process on the same database
    assert await restarted.poll_once() == 0
    (third,) = complete_open(sb, 1, now + 20)
    assert await restarted.poll_once() == 1

    rows = await news_rows(lara, LARA_CHAT)
    assert [r["exchange_id"] for r in rows] == [first, second, third]
    truth = sb.book.find(DEMO.key, first)
    assert rows[0]["news"] == "exchange_completed" and rows[0]["reward"] == format(
        truth.reward_decimal(), "f"
    )
    assert rows[0]["reward_currency"] == truth.reward_currency
    assert (rows[0]["give"], rows[0]["get"]) == (truth.currency_in, truth.currency_out)

    texts = await sent_texts(lara, lara_partner)
    told = [t for t in texts if t.startswith("🎉 A referred exchange completed")]
    assert len(told) == 3
    assert f"{truth.currency_in} → {truth.currency_out}" in told[0] and truth.reward_currency in told[0]
    campaign = (truth.params or {}).get("utm_campaign") if isinstance(truth.params, dict) else None
    if campaign and isinstance(campaign, str) and "<" not in campaign and len(campaign) < 60:
        assert f"Campaign: {campaign}" in told[0]
    assert await OutboxRepository(lara.db).pending_count(LARA_CHAT) == 0


async def test_a_partner_can_turn_the_news_off_and_on(
    lara: Services, sb: LaraSandbox, lara_partner: BotClient
) -> None:
    watcher = PartnerWatcher(lara)
    await watcher.poll_once()
    await lara_partner.send("/partner")
    await lara_partner.click("🔔 Notifications: on")
    assert "🔕 Notifications: off" in lara_partner.last.button_labels()
    now = int(time.time())
    complete_open(sb, 1, now + 5)
    assert await watcher.poll_once() == 0
    await lara_partner.click("🔕 Notifications: off")
    assert "🔔 Notifications: on" in lara_partner.last.button_labels()
    assert await watcher.poll_once() == 0, "what happened while off is not told afterwards"
    complete_open(sb, 1, now + 30)
    assert await watcher.poll_once() == 1


async def test_a_rejected_key_stops_polling_and_is_told_once(lara: Services, sb: LaraSandbox) -> None:
    client = new_client(lara, LARA_CHAT)
    credentials = lara.platform.credentials({"key": "revoked-key-0000000000", "rid": DEMO.rid})
    await lara.partner_credentials.save(LARA_CHAT, credentials, DEMO.rid)
    watcher = PartnerWatcher(lara)
    assert await watcher.poll_once() == 0
    calls = len(sb.requests)
    assert await watcher.poll_once() == 0
    assert len(sb.requests) == calls, "a rejected key is not polled again"
    texts = await sent_texts(lara, client)
    assert len([t for t in texts if "no longer accepts your linked partner key" in t]) == 1
    # Linked again: watched again, from now on.
    await client.send("/login")
    await client.send(DEMO.key)
    await client.send(DEMO.rid)
    assert await watcher.poll_once() == 0
    complete_open(sb, 1, int(time.time()) + 5)
    assert await watcher.poll_once() == 1


# -- iEXExchanger: payouts -------------------------------------------------------------------------


def iex_settings(tmp_path: Path, public_url: str | None):
    return make_settings(tmp_path, None, exchanger_platform="iexexchanger", public_url=public_url)


@pytest.fixture
async def iex(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(iex_settings(tmp_path, None), sandbox_step_seconds=None) as services:
        yield services


@pytest.fixture
async def iex_pushed(tmp_path: Path) -> AsyncIterator[Services]:
    # PUBLIC_URL points nowhere: the sandbox's deliveries fail, and the test hands them over itself.
    settings = iex_settings(tmp_path, "http://127.0.0.1:9")
    async with open_services(settings, sandbox_step_seconds=None) as services:
        yield services


async def test_payout_changes_are_polled_and_told_once_per_change(iex: Services) -> None:
    client = new_client(iex, IEX_CHAT)
    await client.send("/login")
    await client.send(FULL.token)
    linked = await iex.partner_credentials.load(IEX_CHAT, "iexexchanger")
    assert linked is not None and not linked.push_token  # no PUBLIC_URL: nothing registered
    sandbox = iex.platform.sandbox  # type: ignore[attr-defined]
    assert sandbox.webhooks.of_client(PARTNER_CLIENT.id) == []

    watcher = PartnerWatcher(iex)
    assert await watcher.poll_once() == 0
    payout = sandbox.new_payout(PARTNER_CLIENT.id)
    assert await watcher.poll_once() == 1  # a new payout, pending
    assert await watcher.poll_once() == 0
    await sandbox.pay_payout(payout.id, deliver=False)
    assert await PartnerWatcher(iex).poll_once() == 1  # after a restart too
    rows = await news_rows(iex, IEX_CHAT)
    assert [(r["payout_id"], r["status"]) for r in rows] == [
        (str(payout.id), "pending"),
        (str(payout.id), "paid"),
    ]
    assert rows[1]["tx_id"] == payout.tx_id and rows[1]["amount"] == format(payout.amount, "f")

    texts = await sent_texts(iex, client)
    assert len([t for t in texts if t.startswith("⏳ Payout")]) == 1
    paid = [t for t in texts if t.startswith("💸 Payout")]
    assert len(paid) == 1 and payout.tx_id in paid[0]


async def test_a_signed_payout_push_is_told_once_and_logout_removes_the_url(iex_pushed: Services) -> None:
    iex = iex_pushed
    client = new_client(iex, IEX_CHAT)
    await client.send("/login")
    await client.send(FULL.token)
    linked = await iex.partner_credentials.load(IEX_CHAT, "iexexchanger")
    assert linked is not None and linked.push_token and linked.extra.get("webhook_secret")
    sandbox = iex.platform.sandbox  # type: ignore[attr-defined]
    assert [e.url for e in sandbox.webhooks.of_client(PARTNER_CLIENT.id)] == [
        f"http://127.0.0.1:9/webhooks/iexexchanger/{linked.push_token}"
    ]
    watcher = PartnerWatcher(iex)
    payout = sandbox.new_payout(PARTNER_CLIENT.id)
    assert await watcher.poll_once() == 0, "a partner whose news is pushed is not polled"

    _event, deliveries = await sandbox.pay_payout(payout.id)
    assert deliveries
    delivery = deliveries[0]
    events = iex.platform.webhooks.verify(
        delivery.headers,
        delivery.body,
        now=time.time(),
        token=linked.push_token,
        secret=linked.extra["webhook_secret"],
    )
    assert events
    for _ in range(2):  # a redelivery (or the same change found twice) is told once
        for pushed in events:
            assert await on_partner_push(iex, "iexexchanger", linked.push_token, pushed)
    assert not await on_partner_push(iex, "iexexchanger", "unknown-token", events[0])
    rows = await news_rows(iex, IEX_CHAT)
    assert [(r["payout_id"], r["status"], r["tx_id"]) for r in rows] == [
        (str(payout.id), "paid", payout.tx_id)
    ]

    texts = await sent_texts(iex, client)
    paid = [t for t in texts if t.startswith("💸 Payout")]
    assert len(paid) == 1 and payout.tx_id in paid[0]

    await client.send("/logout")
    await client.click("🚪 Yes, unlink it")
    assert sandbox.webhooks.of_client(PARTNER_CLIENT.id) == [], "/logout removes the registration"


async def test_the_running_watcher_polls_partners_and_wakes_the_sender(
    lara: Services, sb: LaraSandbox, lara_partner: BotClient
) -> None:
    """As the lead starts it: ``watcher.run()`` in a task, ``wake`` = the sender's."""
    woken = asyncio.Event()
    watcher = PartnerWatcher(lara, wake=woken.set, interval=(0.01, 0.02), tick=0.01)
    assert await watcher.poll_once() == 0  # the first poll sets the cursor
    assert not woken.is_set()
    task = asyncio.create_task(watcher.run())
    try:
        complete_open(sb, 1, int(time.time()) + 5)
        await asyncio.wait_for(woken.wait(), timeout=10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert len(await news_rows(lara, LARA_CHAT)) == 1
