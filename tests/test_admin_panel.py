"""/admin through the production Dispatcher: health in words, the last exchanger errors, open orders,
the queue, and a broadcast through the notification queue, in both languages. Non-admins see none of it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import SetMyCommands
from aiogram.types import BotCommandScopeChat, BotCommandScopeDefault

from bot.admin.broadcast import KEPT, Broadcasts
from bot.app.config import Settings
from bot.app.dispatcher import build_dispatcher, set_commands
from bot.app.health import HealthMonitor
from bot.app.wiring import Services
from bot.notifications import TEXT_KIND
from bot.notifications.runtime import build_notifications
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.storage.outbox import BROADCAST_KIND
from tests.conftest import make_settings
from tests.test_notifications import FakeClock, session_of
from tests.test_notifications_delivery import NOTE

ADMIN = 424201


@pytest.fixture
def settings(tmp_path: Path, sandbox: SandboxExchanger) -> Settings:
    return make_settings(tmp_path, sandbox.url, admin_ids=frozenset({ADMIN}))


@pytest.fixture
def dp(services: Services) -> Dispatcher:
    dispatcher = build_dispatcher(services)
    dispatcher["health"] = HealthMonitor(services)
    return dispatcher


async def test_non_admins_see_nothing_of_it(make_client, services: Services, bot: Bot) -> None:
    for language in ("en", "ru"):
        client = make_client(user_id=5000 + len(language), language_code=language)
        unknown = await client.send("/nosuchcommand")
        admin = await client.send("/admin")
        assert admin.text == unknown.text and "Operator" not in admin.text and "оператора" not in admin.text
        forged = await client.click_data("adp:bc:0", client.last)
        answer = forged.callback_answer.text if forged.callback_answer else ""
        assert "no longer active" in answer or "больше не действует" in answer
        assert not forged.sent
    await set_commands(bot, services.i18n, services.platform.info, services.settings.admin_ids)
    menus = [r for r in bot.session.requests if isinstance(r, SetMyCommands)]
    everyone = [r for r in menus if isinstance(r.scope, BotCommandScopeDefault)]
    admins = [r for r in menus if isinstance(r.scope, BotCommandScopeChat)]
    assert everyone and all("admin" not in [c.command for c in r.commands] for r in everyone)
    assert admins and all(r.scope.chat_id == ADMIN for r in admins)
    assert all("admin" in [c.command for c in r.commands] for r in admins)
    assert {r.language_code for r in admins} >= {"en", "ru"}


async def test_panel_shows_health_errors_orders_and_queue(
    make_client, sandbox: SandboxExchanger, services: Services
) -> None:
    customer = make_client(user_id=5101)
    sandbox.faults.next("get_direction_currencies", "http502")
    sandbox.faults.next("get_direction_currencies", "http502")
    sandbox.faults.next("get_direction_currencies", "http502")
    await customer.send("/exchange")
    admin = make_client(user_id=ADMIN, language_code="en")
    panel = await admin.send("/admin")
    text = panel.text
    assert "🛠 <b>Operator panel</b>" in text
    assert "<b>Health:</b>" in text and "💾 Database: fine" in text and "🔔 Notifications" in text
    assert "Open orders: <b>0</b>" in text and "Notifications waiting to be sent: <b>0</b>" in text
    assert "<b>Last exchange errors</b>" in text and "HTTP 502" in text and "UTC" in text
    assert services.settings.exchanger_api_key.get_secret_value() not in text
    more = await admin.click("🧾 More errors")
    assert "HTTP 502" in more.text
    back = await admin.click("⬅️ Panel")
    assert "Operator panel" in back.text

    ru = make_client(user_id=ADMIN, language_code="ru")
    panel = await ru.send("/admin")
    assert "🛠 <b>Панель оператора</b>" in panel.text and "💾 База данных: в порядке" in panel.text
    assert "Открытых заявок: <b>0</b>" in panel.text and "Последние ошибки обменника" in panel.text


async def test_broadcast_preview_confirm_progress_skips_blocked_chats(
    make_client, services: Services, bot: Bot
) -> None:
    customers = [make_client(user_id=5200 + i, language_code="en") for i in range(4)]
    for client in customers:
        await client.send("/start")
    await customers[3].block_bot()
    group = make_client(user_id=5210, chat_id=-5210, chat_type="group")
    await group.send("/start")
    admin = make_client(user_id=ADMIN, language_code="en")
    await admin.send("/admin")
    ask = await admin.click("📣 Broadcast")
    assert "at most 4096 characters" in ask.text

    too_long = await admin.send("x" * 4097)
    assert "too long: 4097 characters" in too_long.text
    preview = await admin.send("Maintenance tonight & <tomorrow>")
    assert [m.text for m in preview.sent][1] == "Maintenance tonight &amp; &lt;tomorrow&gt;"
    # the three active customers and the admin; not the one who blocked the bot, nor the group
    assert "Chats to receive it: 4." in preview.text
    sent = await admin.click("✅ Send (chats: 4)")
    assert "📣 Broadcast #1" in sent.text and "Chats: 4 · sent: 0 · waiting: 4 · skipped: 0" in sent.text
    again = await admin.click_data("adp:send:0", admin.last)
    assert "no longer active" in (again.callback_answer.text or "")
    assert await services.db.fetchval("SELECT COUNT(*) FROM outbox WHERE kind = 'broadcast'") == 4

    await customers[2].block_bot()  # after queueing: skipped when sent
    notifications = build_notifications(services, bot)
    await notifications.sender.drain()
    for client in customers[:2]:
        assert client.last.text == "Maintenance tonight &amp; &lt;tomorrow&gt;"
    assert all("Maintenance" not in m.text for m in customers[2].messages + customers[3].messages)
    assert all("Maintenance" not in m.text for m in group.messages)
    progress = await admin.click("🔄 Progress", sent.last)
    assert "Chats: 4 · sent: 3 · waiting: 0 · skipped: 1" in progress.text and "✅ Finished." in progress.text


async def test_broadcast_can_be_stopped_in_russian(make_client, services: Services, bot: Bot) -> None:
    for i in range(3):
        await make_client(user_id=5300 + i).send("/start")
    admin = make_client(user_id=ADMIN, language_code="ru")
    await admin.send("/admin")
    ask = await admin.click("📣 Рассылка")
    assert "не длиннее 4096 символов" in ask.text
    preview = await admin.send("<b>Новости</b>")
    assert "Получателей: 4." in preview.text
    sent = await admin.click("✅ Отправить (чатов: 4)")
    assert "Рассылка №1" in sent.text
    stopped = await admin.click("⛔ Остановить рассылку", sent.last)
    assert "⛔ Остановлено" in stopped.text and "отправлено: 0" in stopped.text
    assert await services.db.fetchval("SELECT COUNT(*) FROM outbox WHERE kind = 'broadcast'") == 0
    notifications = build_notifications(services, bot)
    await notifications.sender.drain()
    assert all("Новости" not in m.text for m in admin.messages[-1:])
    forged = await admin.click_data(f"adp:stop:{2**70}", admin.last)
    assert "больше не действует" in (forged.callback_answer.text or "")


async def audience_of(make_client, count: int, first: int) -> list[int]:
    chats = [first + i for i in range(count)]
    for chat in chats:
        await make_client(user_id=chat, language_code="en").send("/start")
    return chats


def sent_messages(bot: Bot, since: int = 0) -> list[tuple[int, str]]:
    requests = session_of(bot).requests[since:]
    return [(r.chat_id, r.text) for r in requests if type(r).__name__ == "SendMessage"]  # type: ignore[attr-defined]


async def test_order_news_goes_ahead_of_a_queued_broadcast(make_client, services: Services, bot: Bot) -> None:
    chats = await audience_of(make_client, 6, 5400)
    before = len(session_of(bot).requests)
    broadcasts = Broadcasts(services.db, services.chat_settings)
    await broadcasts.start("Maintenance tonight")
    notifications = build_notifications(services, bot, clock=FakeClock())
    # queued after the broadcast, for a chat that also has a broadcast row waiting
    await notifications.notify(chats[3], TEXT_KIND, {"msgid": NOTE, "params": {"id": 7, "status": "paid"}})
    await notifications.sender.drain()
    sent = sent_messages(bot, before)
    assert sent[0] == (chats[3], "🔔 Order #7: paid")
    assert sorted(sent[1:]) == [(chat, "Maintenance tonight") for chat in chats]


async def test_a_row_with_nothing_to_send_is_skipped_not_failed(
    services: Services, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    notifications = build_notifications(services, bot, clock=FakeClock())
    await notifications.notify(5500, BROADCAST_KIND, {"broadcast": 99})  # a broadcast that is gone
    with caplog.at_level(logging.INFO, logger="bot.notifications.sender"):
        await notifications.sender.drain()
    assert sent_messages(bot) == []
    assert await services.db.fetchval("SELECT COUNT(*) FROM outbox") == 0
    metrics = services.metrics.render()
    assert b'bot_notifications_total{outcome="skipped"} 1.0' in metrics
    assert b'bot_notifications_total{outcome="failed"} 0.0' in metrics
    assert [r.levelno for r in caplog.records if "nothing to send" in r.getMessage()] == [logging.INFO]


async def test_broadcast_progress_survives_pruning_and_old_broadcasts_are_forgotten(
    make_client, services: Services, bot: Bot
) -> None:
    chats = await audience_of(make_client, 3, 5600)
    broadcasts = Broadcasts(services.db, services.chat_settings)
    notifications = build_notifications(services, bot, clock=FakeClock())
    first = await broadcasts.start("News #1")
    assert first.total == len(chats)
    for n in range(2, KEPT + 2):  # #1 is still waiting while these are queued: it is kept
        await broadcasts.start(f"News #{n}")
    assert await broadcasts.progress(first.broadcast_id) is not None
    await notifications.sender.drain()
    await notifications.outbox.prune_sent(older_than=-1)  # every sent row is "old" now
    for broadcast_id in range(1, KEPT + 2):
        progress = await broadcasts.progress(broadcast_id)
        assert progress is not None and (progress.sent, progress.waiting, progress.skipped) == (3, 0, 0)

    latest = await broadcasts.start("News #7")
    assert latest.broadcast_id == KEPT + 2
    assert [await broadcasts.progress(n) is None for n in range(1, KEPT + 3)] == [True, True] + [False] * KEPT
    assert await services.db.fetchval("SELECT COUNT(*) FROM meta WHERE name GLOB 'broadcast.[0-9]*'") == KEPT
    payloads = await services.db.fetchall("SELECT DISTINCT payload FROM outbox WHERE kind = 'broadcast'")
    assert sorted(json.loads(row[0])["broadcast"] for row in payloads) == list(range(3, KEPT + 3))
