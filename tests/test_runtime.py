"""Stopping and killing the real bot process: SIGTERM lets the update in flight finish (or leaves it
cleanly to recovery) and exits 0 without a traceback; SIGKILL mid-create and mid-send loses nothing
and doubles nothing after the restart."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app.stop_budget import HURRIED, StopBudget
from bot.app.wiring import Services
from bot.notifications import TEXT_KIND, notifications_running
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from tests.bot_process import BOT_TOKEN, BotProcess
from tests.telegram_emulator import TelegramEmulator

CHAT = 5001


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    emulator = TelegramEmulator()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def bot(
    tmp_path: Path, emulator: TelegramEmulator, sandbox: SandboxExchanger
) -> AsyncIterator[BotProcess]:
    process = BotProcess(tmp_path, emulator.url, sandbox.url)
    try:
        yield process
    finally:
        await process.stop()


async def started(bot: BotProcess, emulator: TelegramEmulator, **env: str) -> None:
    polls = emulator.count("getUpdates")
    await bot.start(**env)
    try:
        await emulator.wait_for(lambda: emulator.count("getUpdates") > polls, 180, "the bot to poll")
    except AssertionError:
        raise AssertionError(f"the bot did not start polling:\n{bot.log}") from None


async def shown(emulator: TelegramEmulator, text: str, within: float = 30.0) -> None:
    what = f"{text!r} (the chat shows {[t[:60] for t in emulator.texts(CHAT)]})"
    await emulator.wait_for(lambda: any(text in t for t in emulator.texts(CHAT)), within, what)


async def to_summary(emulator: TelegramEmulator) -> None:
    """Tether ERC20 -> TRC20 (no form fields), 100 USDT, up to the summary with its Confirm."""
    emulator.push_text(CHAT, "/exchange")
    await shown(emulator, "What do you give?")
    emulator.click(CHAT, "Tether ERC20 USDT")
    await shown(emulator, "What do you want to receive?")
    emulator.click(CHAT, "Tether TRC20 USDT")
    await shown(emulator, "Tether ERC20 USDT → Tether TRC20 USDT")  # the direction, asking the amount
    emulator.push_text(CHAT, "100")
    await emulator.wait_for(lambda: emulator.has_button(CHAT, "✅ Confirm"), 30, "the summary's Confirm")


def only_bid(sandbox: SandboxExchanger):
    assert len(sandbox.bids) == 1, f"expected one order at the exchanger, it has {len(sandbox.bids)}"
    return next(iter(sandbox.bids.values()))


def orders_known(bot: BotProcess) -> list[tuple[object, ...]]:
    return bot.query("SELECT order_id FROM orders WHERE order_id IS NOT NULL")


def shows(emulator: TelegramEmulator, text: str) -> int:
    return sum(text in t for t in emulator.texts(CHAT))


async def test_sigterm_mid_create_lets_the_order_finish_and_takes_no_new_update(
    bot: BotProcess, emulator: TelegramEmulator, sandbox: SandboxExchanger
) -> None:
    await started(bot, emulator)
    await to_summary(emulator)
    sandbox.faults.next("create_bid", "delay", seconds=3)  # created at once, answered 3 s later
    emulator.click(CHAT, "✅ Confirm")
    await emulator.wait_for(lambda: len(sandbox.bids) == 1, 30, "the exchanger to create the bid")

    bot.send(signal.SIGTERM)
    await bot.wait_for_log("SIGTERM")
    emulator.push_text(CHAT, "/help")  # arrives while the bot stops
    assert await bot.wait() == 0, bot.log

    bid = only_bid(sandbox)
    assert shows(emulator, f"Order #{bid.id}") >= 1  # the customer got the card before the exit
    assert orders_known(bot) == [(str(bid.id),)]
    assert "Traceback" not in bot.log and "update failed" not in bot.log, bot.log
    assert "/language" not in "".join(emulator.texts(CHAT))  # /help was not taken...
    # ...while every update handled was confirmed to Telegram, so none comes again.
    assert [u["message"]["text"] for u in emulator.unconfirmed()] == ["/help"]

    await started(bot, emulator)
    await shown(emulator, "/language")  # ...it is answered by the next start
    bot.send(signal.SIGINT)  # Ctrl-C stops the same way
    assert await bot.wait() == 0, bot.log
    assert "SIGINT" in bot.log and "Traceback" not in bot.log


async def test_sigterm_past_the_grace_period_leaves_the_create_to_recovery(
    bot: BotProcess, emulator: TelegramEmulator, sandbox: SandboxExchanger
) -> None:
    await started(bot, emulator, SHUTDOWN_GRACE_SECONDS="0.5")
    await to_summary(emulator)
    sandbox.faults.next("create_bid", "delay", seconds=10)
    emulator.click(CHAT, "✅ Confirm")
    await emulator.wait_for(lambda: len(sandbox.bids) == 1, 30, "the exchanger to create the bid")

    bot.send(signal.SIGTERM)
    assert await bot.wait() == 0, bot.log
    assert "cancelled" in bot.log
    assert "Traceback" not in bot.log and "update failed" not in bot.log, bot.log
    bid = only_bid(sandbox)
    assert orders_known(bot) == []  # the create's answer never came: only its reservation is kept

    await started(bot, emulator)
    emulator.push_text(CHAT, "/exchange")
    await shown(emulator, "created after all")
    assert shows(emulator, f"Order #{bid.id}") == 1
    assert only_bid(sandbox) is bid
    assert orders_known(bot) == [(str(bid.id),)]


async def test_sigkill_mid_create_loses_and_doubles_nothing(
    bot: BotProcess, emulator: TelegramEmulator, sandbox: SandboxExchanger
) -> None:
    await started(bot, emulator)
    await to_summary(emulator)
    sandbox.faults.next("create_bid", "delay", seconds=10)
    emulator.click(CHAT, "✅ Confirm")
    await emulator.wait_for(lambda: len(sandbox.bids) == 1, 30, "the exchanger to create the bid")

    bot.send(signal.SIGKILL)
    assert await bot.wait() == -signal.SIGKILL
    bid = only_bid(sandbox)

    await started(bot, emulator)
    emulator.push_text(CHAT, "/exchange")
    await shown(emulator, "created after all")
    await shown(emulator, "What do you give?")
    assert shows(emulator, f"Order #{bid.id}") == 1
    assert only_bid(sandbox) is bid
    assert orders_known(bot) == [(str(bid.id),)]
    bot.send(signal.SIGTERM)
    assert await bot.wait() == 0, bot.log
    assert "Traceback" not in bot.log


async def test_sigkill_mid_send_delivers_the_notification_once(
    bot: BotProcess, emulator: TelegramEmulator, sandbox: SandboxExchanger
) -> None:
    await started(bot, emulator)
    await to_summary(emulator)
    emulator.click(CHAT, "✅ Confirm")
    await emulator.wait_for(lambda: len(sandbox.bids) == 1, 30, "the exchanger to create the bid")
    bid = only_bid(sandbox)
    await shown(emulator, f"Order #{bid.id}")
    before = len(emulator.texts(CHAT))

    # The status change reaches the bot (the exchanger's callback), which queues and starts sending
    # the notification; Telegram holds the request and the bot is killed while it waits.
    emulator.hold("sendMessage")
    attempts = emulator.attempts.get("sendMessage", 0)
    sandbox.set_status(bid.id, "cancel")
    await emulator.wait_for(
        lambda: emulator.attempts.get("sendMessage", 0) > attempts, 30, "the notification to be sent"
    )
    bot.send(signal.SIGKILL)
    assert await bot.wait() == -signal.SIGKILL
    emulator.release("sendMessage")
    assert len(emulator.texts(CHAT)) == before  # the request never completed: nothing delivered

    await started(bot, emulator)
    await emulator.wait_for(lambda: len(emulator.texts(CHAT)) > before, 30, "the notification")
    notification = emulator.texts(CHAT)[before:]
    assert len(notification) == 1 and f"#{bid.id}" in notification[0], notification
    unsent = "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"
    await emulator.wait_for(lambda: bot.query(unsent) == [(0,)], 30, "the outbox to record it sent")

    # A clean stop and one more start: nothing is sent again.
    bot.send(signal.SIGTERM)
    assert await bot.wait() == 0, bot.log
    await started(bot, emulator)
    polls = emulator.count("getUpdates")
    await emulator.wait_for(lambda: emulator.count("getUpdates") > polls + 2, 30, "a few polls")
    assert emulator.texts(CHAT)[before:] == notification
    assert "Traceback" not in "".join(bot.logs)


async def test_token_revoked_while_running_stops_with_one_clear_line(
    bot: BotProcess, emulator: TelegramEmulator
) -> None:
    await started(bot, emulator)
    emulator.token_revoked = True  # revoked in @BotFather while the bot polls
    assert await bot.wait() == 1, bot.log
    assert "Traceback" not in bot.log, bot.log
    stopped = [line for line in bot.log.splitlines() if line.startswith("Stopped: ")]
    assert len(stopped) == 1 and "BOT_TOKEN" in stopped[0] and "Unauthorized" in stopped[0], bot.log


async def test_stopping_notifications_lets_the_message_being_sent_finish(
    services: Services, emulator: TelegramEmulator
) -> None:
    """In process: the sender is inside sendMessage when the machinery is told to stop; it waits for
    Telegram's answer and records the message as sent, so the next start does not send it again."""
    await services.chat_settings.set_language(CHAT, "en")
    bot = Bot(BOT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.url)))
    emulator.hold("sendMessage")
    stopping: asyncio.Task[None] | None = None
    try:
        running = notifications_running(services, bot)
        notifications = await running.__aenter__()
        await notifications.notify(CHAT, TEXT_KIND, {"msgid": "Cancel the current action"})
        await emulator.wait_for(lambda: emulator.attempts.get("sendMessage", 0) == 1, 30, "the send")
        stopping = asyncio.create_task(running.__aexit__(None, None, None))
        await asyncio.sleep(0.2)
        assert not stopping.done()  # waiting for the message under way
        emulator.release("sendMessage")
        await asyncio.wait_for(stopping, 30)
    finally:
        emulator.release("sendMessage")
        await bot.session.close()
    assert emulator.texts(CHAT) == ["Cancel the current action"]
    assert await services.db.fetchval("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0


async def test_a_second_signal_shortens_the_stage_under_way_and_the_next() -> None:
    hurry = asyncio.Event()
    budget = StopBudget(600, hurry)
    assert budget.left(30) == 30
    never = asyncio.Event()
    stage = asyncio.create_task(budget.run("a stage that hangs", never.wait(), 300))
    await asyncio.sleep(0.1)
    assert not stage.done()
    hurry.set()  # the second SIGTERM: the hanging stage gets about a second more, not 300 s
    assert await asyncio.wait_for(stage, 30) is False
    assert budget.left(30) <= HURRIED
