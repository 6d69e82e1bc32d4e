"""Sending queued notifications: Telegram's limits and errors, languages, generic notifications."""

from __future__ import annotations

import itertools

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)

from bot.app.wiring import Services
from bot.notifications import TEXT_KIND, build_notifications
from bot.notifications.sender import Delivery
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.statuses import status_of
from tests.test_notifications import CHAT, FakeClock, place_order, session_of, texts

OTHER_CHAT = 5002
NOTE = "🔔 Order #{id}: {status}"  # any msgid of the catalogue works for the generic "text" kind


def sends_to(bot: Bot, chat_id: int) -> int:
    return sum(
        1
        for request in session_of(bot).requests
        if type(request).__name__ == "SendMessage" and request.chat_id == chat_id  # type: ignore[attr-defined]
    )


async def test_per_chat_pacing_and_global_rate(services: Services, bot: Bot) -> None:
    clock = FakeClock()
    notifications = build_notifications(services, bot, clock=clock)  # production limits: 1/s per chat, 30/s
    start = clock.now
    for n in range(4):
        await notifications.notify(CHAT, TEXT_KIND, {"msgid": NOTE, "params": {"id": n, "status": "a"}})
    for n in range(2):
        await notifications.notify(OTHER_CHAT, TEXT_KIND, {"msgid": NOTE, "params": {"id": n, "status": "b"}})
    await notifications.sender.drain()

    deliveries = list(notifications.sender.deliveries)
    assert len(deliveries) == 6
    mine = [d.at for d in deliveries if d.chat_id == CHAT]
    assert [round(b - a, 6) >= 1.0 for a, b in itertools.pairwise(mine)] == [True] * 3
    everyone = [d.at for d in deliveries]
    assert all(b - a >= 1 / 30 - 1e-9 for a, b in itertools.pairwise(everyone))
    # The other chat is not held up behind this chat's backlog, and each chat keeps its order.
    assert [d.chat_id for d in deliveries[:2]] == [CHAT, OTHER_CHAT]
    assert texts(bot) == [f"🔔 Order #{n}: a" for n in range(4)]
    assert mine[-1] - start < 3.5  # paced, not slower than needed


async def test_retry_after_waits_and_delivers_once(services: Services, bot: Bot) -> None:
    clock = FakeClock()
    notifications = build_notifications(services, bot, clock=clock)
    session_of(bot).inject(
        "SendMessage",
        lambda m: TelegramRetryAfter(method=m, message="Too Many Requests: retry after 7", retry_after=7),
    )
    started = clock.now
    await notifications.notify(CHAT, TEXT_KIND, {"msgid": NOTE, "params": {"id": 1, "status": "x"}})
    await notifications.notify(OTHER_CHAT, TEXT_KIND, {"msgid": NOTE, "params": {"id": 2, "status": "y"}})
    await notifications.sender.drain()
    assert texts(bot) == ["🔔 Order #1: x"] and texts(bot, OTHER_CHAT) == ["🔔 Order #2: y"]
    assert sends_to(bot, CHAT) == 2  # the refused attempt and the retry
    # Flood control pauses every chat, not only the one that hit it.
    assert all(d.at >= started + 7 for d in notifications.sender.deliveries)
    attempts = await services.db.fetchall("SELECT attempts, sent_at FROM outbox ORDER BY id")
    assert [(row["attempts"], row["sent_at"] is not None) for row in attempts] == [(2, True), (1, True)]


async def test_blocked_user_marks_the_chat_inactive(
    services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    notifications = build_notifications(services, bot, clock=FakeClock())
    session_of(bot).inject(
        "SendMessage",
        lambda m: TelegramForbiddenError(method=m, message="Forbidden: bot was blocked by the user"),
        chat_id=CHAT,
    )
    placed = await place_order(services)
    sandbox.advance(placed.bid_id)
    await notifications.tracker.poll_once()
    await notifications.notify(CHAT, TEXT_KIND, {"msgid": NOTE, "params": {"id": 9, "status": "z"}})
    await notifications.notify(OTHER_CHAT, TEXT_KIND, {"msgid": NOTE, "params": {"id": 3, "status": "ok"}})
    await notifications.sender.drain()  # no crash

    assert not await services.chat_settings.is_active(CHAT)
    assert await notifications.outbox.pending_count() == 0
    assert sends_to(bot, CHAT) == 1 and texts(bot, CHAT) == []
    assert texts(bot, OTHER_CHAT) == ["🔔 Order #3: ok"]
    # Later changes of the chat's orders are recorded but not even queued.
    sandbox.advance(placed.bid_id)
    await notifications.tracker.poll_once()
    assert notifications.tracker.last_changes == 1
    assert await notifications.outbox.pending_count(CHAT) == 0
    await notifications.sender.drain()
    assert sends_to(bot, CHAT) == 1


async def test_bad_request_drops_one_notification(services: Services, bot: Bot) -> None:
    notifications = build_notifications(services, bot, clock=FakeClock())
    session_of(bot).inject(
        "SendMessage", lambda m: TelegramBadRequest(method=m, message="Bad Request: can't parse entities")
    )
    for n in (1, 2):
        await notifications.notify(CHAT, TEXT_KIND, {"msgid": NOTE, "params": {"id": n, "status": "s"}})
    await notifications.sender.drain()
    assert texts(bot) == ["🔔 Order #2: s"]
    assert await services.chat_settings.is_active(CHAT)


async def test_network_errors_are_retried_with_backoff(services: Services, bot: Bot) -> None:
    clock = FakeClock()
    notifications = build_notifications(services, bot, clock=clock)
    for _ in range(3):
        session_of(bot).inject("SendMessage", lambda m: TelegramNetworkError(method=m, message="timeout"))
    started = clock.now
    await notifications.notify(CHAT, TEXT_KIND, {"msgid": NOTE, "params": {"id": 1, "status": "s"}})
    await notifications.sender.drain()
    assert texts(bot) == ["🔔 Order #1: s"] and sends_to(bot, CHAT) == 4
    [delivery] = notifications.sender.deliveries
    assert delivery.at - started >= 2 + 4 + 8  # 2 s, then doubling
    assert await services.db.fetchval("SELECT attempts FROM outbox") == 4


async def test_notification_text_is_in_the_chat_language(
    services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    notifications = build_notifications(services, bot, clock=FakeClock())
    await services.chat_settings.set_language(CHAT, "ru")
    await services.chat_settings.set_language(OTHER_CHAT, "en")
    russian = await place_order(services, CHAT)
    english = await place_order(services, OTHER_CHAT)
    for placed in (russian, english):
        sandbox.advance(placed.bid_id)
        sandbox.advance(placed.bid_id)
    await notifications.tracker.poll_once()
    await notifications.sender.drain()
    for placed in (russian, english):
        for _ in range(2):
            sandbox.advance(placed.bid_id)  # verify, success
        await notifications.tracker.poll_once()
    await notifications.sender.drain()

    ru = session_of(bot).chat_messages(CHAT)
    assert [m.text.split("\n")[0] for m in ru] == [
        f"🔔 Заявка №{russian.bid_id}: Оплачена",
        f"🔔 Заявка №{russian.bid_id}: Заявка выполнена",
    ]
    assert "✅ Заявка выполнена." in ru[-1].text
    assert ru[-1].button_labels() == ["Открыть заявку"]
    en = session_of(bot).chat_messages(OTHER_CHAT)
    assert [m.text.split("\n")[0] for m in en] == [
        f"🔔 Order #{english.bid_id}: Order is paid",
        f"🔔 Order #{english.bid_id}: The order is completed",
    ]
    assert en[-1].button_labels() == ["Open order"]


async def test_generic_notifications_are_escaped_and_translated(services: Services, bot: Bot) -> None:
    notifications = build_notifications(services, bot, clock=FakeClock())
    await services.chat_settings.set_language(CHAT, "ru")
    await notifications.notify(CHAT, TEXT_KIND, {"msgid": NOTE, "params": {"id": 7, "status": "<b>&</b>"}})
    await notifications.notify(CHAT, "no-such-kind", {})  # dropped with a log line, not retried forever
    await notifications.sender.drain()
    assert texts(bot) == ["🔔 Заявка №7: &lt;b&gt;&amp;&lt;/b&gt;"]
    assert await notifications.outbox.pending_count() == 0


async def test_status_titles_from_the_server_are_escaped(services: Services, bot: Bot) -> None:
    notifications = build_notifications(services, bot, clock=FakeClock())
    placed = await place_order(services)
    notifications.statuses.titles.learn("en", "verify", "<i>Checking</i> & co")
    verify = status_of("verify", "ignored")
    assert await notifications.statuses.record(placed.local_id, verify, title_lang="xx")
    await notifications.sender.drain()
    assert texts(bot)[0].startswith(f"🔔 Order #{placed.bid_id}: &lt;i&gt;Checking&lt;/i&gt; &amp; co")
    assert isinstance(notifications.sender.deliveries[0], Delivery)
