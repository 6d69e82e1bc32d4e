"""Order status notifications: recording, exchanger callbacks over real HTTP, the polling tracker,
adoption after a lost answer, restarts, and the whole machinery running in the background."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from aiogram import Bot
from aiohttp import web

from bot.app.web import start_web_server
from bot.app.wiring import Services, open_services
from bot.domain.capabilities import Capability
from bot.domain.models import OrderRequest
from bot.exchange.ordering import callback_url_for
from bot.notifications import (
    ORDER_STATUS_KIND,
    NotificationConfig,
    Notifications,
    build_notifications,
    notifications_running,
)
from bot.notifications.tracker import CURSOR_KEY, FIRST_WINDOW_ALLOWANCE
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.statuses import status_of
from handlers.callbacks import OrderCb
from offline.fake_session import FakeTelegramSession, ShownMessage
from tests.conftest import make_settings
from tests.sandbox_forms import FIELDS_102

CHAT = 5001
PE = "premiumexchanger"
# What 10 000 RUB -> Tether TRC20 gives, as bot.domain.money writes it in English (no-break spaces).
AMOUNTS = "10,000.00\u00a0RUB → 104.26\u00a0USDT"


class FakeClock:
    """Monotonic time that only moves when slept on: pacing runs without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@dataclasses.dataclass(frozen=True)
class Placed:
    local_id: int  # the bot's id (what buttons carry)
    bid_id: int  # the sandbox's


async def place_order(
    services: Services, chat_id: int = CHAT, *, public_url: str | None = None, amount: str = "10000"
) -> Placed:
    """Create an order through the bot's own placer, as the conversation's Confirm does. With
    ``public_url`` (PUBLIC_URL) the exchange is given the order's callback URL."""
    placer = services.ordering
    placer.public_url = public_url
    direction = await services.platform.customer().direction("102")
    placed = await placer.place(
        chat_id=chat_id,
        key=placer.new_key(),
        direction=direction,
        request=OrderRequest(direction_id="102", amount=Decimal(amount), fields=FIELDS_102),
    )
    return Placed(placed.local_id, int(placed.order.id))


def session_of(bot: Bot) -> FakeTelegramSession:
    assert isinstance(bot.session, FakeTelegramSession)
    return bot.session


def texts(bot: Bot, chat_id: int = CHAT) -> list[str]:
    return [m.text for m in session_of(bot).chat_messages(chat_id)]


def headings(bot: Bot, chat_id: int = CHAT) -> list[str]:
    return [t.split("\n")[0] for t in texts(bot, chat_id)]


def calls_since(sandbox: SandboxExchanger, before: Counter[str]) -> Counter[str]:
    """API calls the sandbox received since ``before`` (a copy of ``sandbox.requests``)."""
    return sandbox.requests - before


FAST = NotificationConfig(
    poll_min_interval=0.02, poll_max_interval=0.1, per_chat_interval=0.0, outbox_recheck=0.05
)


@pytest.fixture
def notifications(services: Services, bot: Bot) -> Notifications:
    """Built, not running: tests drive poll_once / send_due themselves, on a fake clock."""
    return build_notifications(services, bot, FAST, FakeClock())


@pytest.fixture
async def web_url(services: Services, notifications: Notifications) -> AsyncIterator[str]:
    runner = await start_web_server(services, notifications)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def settle(sandbox: SandboxExchanger, notifications: Notifications) -> None:
    """Let the sandbox's callbacks arrive, the re-reads finish and the outbox drain."""
    await sandbox.drain_callbacks()
    await notifications.callbacks.wait_idle()
    await notifications.sender.drain()


# -- callback tokens and URLs --------------------------------------------------------------------------


async def test_callback_tokens_and_urls(services: Services, sandbox: SandboxExchanger) -> None:
    placer = services.ordering
    tokens = {placer.push_token(str(n)) for n in range(100)}
    assert len(tokens) == 100 and all(len(t) == 32 and t.isalnum() for t in tokens)  # 128 bits, hex
    assert placer.push_token("42") == placer.push_token("42")  # every attempt of one key
    assert callback_url_for(None, "abc") is None
    assert callback_url_for("https://bot.example/", "abc") == "https://bot.example/callbacks/order/abc"

    # The exchange is given the URL only when PUBLIC_URL is set ...
    with_url = await place_order(services, public_url="https://bot.example")
    stored = await services.orders.get(with_url.local_id)
    assert stored is not None and stored.push_token
    assert sandbox.bids[with_url.bid_id].callback_url == (
        f"https://bot.example/callbacks/order/{stored.push_token}"
    )
    without = await place_order(services)
    assert not sandbox.bids[without.bid_id].callback_url


async def test_no_callback_url_or_route_without_the_capability(
    services: Services, sandbox: SandboxExchanger, notifications: Notifications
) -> None:
    # ... and only where the platform declares per-order callbacks.
    platform = services.platform
    platform.info = dataclasses.replace(  # type: ignore[misc]
        platform.info, capabilities=platform.info.capabilities - {Capability.PUSH_CALLBACK}
    )
    placed = await place_order(services, public_url="https://bot.example")
    assert not sandbox.bids[placed.bid_id].callback_url
    stored = await services.orders.get(placed.local_id)
    assert stored is not None and stored.push_token
    runner = await start_web_server(services, notifications)
    try:
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with httpx.AsyncClient() as http:
            answer = await http.post(f"{base}/callbacks/order/{stored.push_token}", data={"status": "x"})
            health = await http.get(f"{base}/health")
        assert answer.status_code == 404 and health.json()["status"] == "ok"
    finally:
        await runner.cleanup()


# -- callbacks -----------------------------------------------------------------------------------------


async def test_callback_gives_exactly_one_notification(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications, web_url: str
) -> None:
    placed = await place_order(services, public_url=web_url)
    sandbox.advance(placed.bid_id)  # new -> payed: the sandbox POSTs our callback URL
    await settle(sandbox, notifications)

    assert sandbox.callbacks[-1]["ok"] and sandbox.callbacks[-1]["status_code"] == 200
    messages = session_of(bot).chat_messages(CHAT)
    assert len(messages) == 1
    assert messages[0].text.startswith(f"🔔 Order #{placed.bid_id}: Order is paid (confirmation from client)")
    assert messages[0].text.split("\n")[1] == AMOUNTS
    [[button]] = messages[0].buttons
    assert button.text == "Open order"
    assert button.callback_data == OrderCb(action="open", n=placed.local_id).pack()
    stored = await services.orders.get(placed.local_id)
    assert stored is not None and (stored.status_code, stored.notified_status) == ("payed", "payed")


async def test_duplicate_callbacks_give_one_notification(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications, web_url: str
) -> None:
    placed = await place_order(services, public_url=web_url)
    stored = await services.orders.get(placed.local_id)
    assert stored is not None and stored.push_token
    url = f"{web_url}/callbacks/order/{stored.push_token}"
    sandbox.advance(placed.bid_id)
    form = {"bid_id": str(placed.bid_id), "status": "payed"}
    async with httpx.AsyncClient() as http:
        answers = await asyncio.gather(*(http.post(url, data=form) for _ in range(5)))
    assert {a.status_code for a in answers} == {200}
    await settle(sandbox, notifications)
    async with httpx.AsyncClient() as http:
        await http.post(url, data=form)
    await settle(sandbox, notifications)
    assert len(texts(bot)) == 1
    assert await notifications.outbox.pending_count() == 0


async def test_stale_and_out_of_order_observations_do_not_regress(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications, web_url: str
) -> None:
    placed = await place_order(services, public_url=web_url)
    local_id, bid_id = placed.local_id, placed.bid_id
    sandbox.advance(bid_id)
    await settle(sandbox, notifications)
    sandbox.advance(bid_id)  # realpay
    await settle(sandbox, notifications)
    assert len(texts(bot)) == 2

    stored = await services.orders.get(local_id)
    assert stored is not None and stored.push_token
    # A late callback claiming an older status: only a hint, the re-read says realpay, nothing changes.
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{web_url}/callbacks/order/{stored.push_token}", data={"bid_id": str(bid_id), "status": "payed"}
        )
    assert answer.status_code == 200
    await settle(sandbox, notifications)
    assert len(texts(bot)) == 2

    statuses = notifications.statuses
    # An observation of a lower rank (a push that arrived late): never moves the order back.
    assert not await statuses.record(local_id, status_of("payed", "Order is paid (confirmation from client)"))
    old_read = statuses.begin_read()  # a read that started before the next one ...
    sandbox.advance(bid_id)  # verify
    await settle(sandbox, notifications)
    # ... and reports an older status (of the same rank) after the newer one was recorded: ignored.
    assert not await statuses.record(local_id, status_of("realpay", "Order is paid"), read_seq=old_read)
    sandbox.advance(bid_id)  # success (final)
    await settle(sandbox, notifications)
    assert not await statuses.record(local_id, status_of("verify", "Order is on checking"))  # final stays
    await notifications.sender.drain()
    stored = await services.orders.get(local_id)
    assert stored is not None and stored.status_code == "success" and stored.is_final
    assert [t.split(": ", 1)[1] for t in headings(bot)] == [
        "Order is paid (confirmation from client)",
        "Order is paid",
        "Order is on checking",
        "The order is completed",
    ]
    assert "✅ The order is completed." in texts(bot)[-1]


async def test_unknown_token_is_404_with_an_empty_body(
    services: Services, notifications: Notifications, web_url: str
) -> None:
    await place_order(services, public_url=web_url)
    async with httpx.AsyncClient() as http:
        for token in (services.ordering.push_token("999"), "x", "a" * 300, "ab/../cd" * 4):
            answer = await http.post(
                f"{web_url}/callbacks/order/{token}", data={"bid_id": "1001", "status": "success"}
            )
            assert answer.status_code == 404 and answer.content == b""
    assert await notifications.outbox.pending_count() == 0


async def test_record_without_notify_and_concurrent_records(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications
) -> None:
    placed = await place_order(services)
    statuses = notifications.statuses
    # The order card's Refresh: the user sees the status, no push.
    sandbox.advance(placed.bid_id)
    order = await statuses.refresh(placed.local_id, locale="en", notify=False)
    assert order.status.code == "payed"
    stored = await services.orders.get(placed.local_id)
    assert stored is not None and stored.notified_status == "payed"
    # Many observers of one change at once: one notification.
    sandbox.advance(placed.bid_id)
    results = await asyncio.gather(*(statuses.refresh(placed.local_id) for _ in range(6)))
    assert {r.status.code for r in results} == {"realpay"}
    await notifications.sender.drain()
    assert len(texts(bot)) == 1 and "Order is paid" in texts(bot)[0]


# -- polling ------------------------------------------------------------------------------------------


async def test_polling_delivers_every_status_once_and_stops_at_final(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications
) -> None:
    placed = await place_order(services)  # no PUBLIC_URL: no callbacks
    tracker = notifications.tracker
    assert await tracker.poll_once() == 1 and tracker.last_changes == 0
    for _ in range(4):  # payed, realpay, verify, success
        sandbox.advance(placed.bid_id)
        await tracker.poll_once()
        assert tracker.last_changes == 1
        await tracker.poll_once()  # the same state seen again: nothing new
        assert tracker.last_changes == 0
        await notifications.sender.drain()
    assert headings(bot) == [
        f"🔔 Order #{placed.bid_id}: Order is paid (confirmation from client)",
        f"🔔 Order #{placed.bid_id}: Order is paid",
        f"🔔 Order #{placed.bid_id}: Order is on checking",
        f"🔔 Order #{placed.bid_id}: The order is completed",
    ]
    assert sandbox.callbacks == []
    assert await tracker.poll_once() == 0  # final: no longer polled
    assert await services.orders.open_orders(PE) == []


async def test_cancel_and_error_paths_are_notified(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications
) -> None:
    cancelled = await place_order(services, amount="10066")
    failed = await place_order(services, amount="10013")
    sandbox.set_status(cancelled.bid_id, "cancel")
    sandbox.set_status(failed.bid_id, "error")
    await notifications.tracker.poll_once()
    await notifications.sender.drain()
    joined = "\n".join(texts(bot))
    # A cancellation reads as one, in the bot's words (not the site's "Refusal of payment").
    assert f"Order #{cancelled.bid_id}: cancelled or expired" in joined
    assert "The order was cancelled or has expired." in joined
    assert f"Order #{failed.bid_id}: Error" in joined and "The order ended with an error" in joined
    assert await services.orders.open_orders(PE) == []


async def test_calls_per_cycle_do_not_grow_with_open_orders(
    services: Services, sandbox: SandboxExchanger, notifications: Notifications
) -> None:
    tracker = notifications.tracker
    # Warm-up: the first time a status code shows up, one order read learns its title.
    warm_up = await place_order(services)
    sandbox.advance(warm_up.bid_id)
    before = sandbox.requests.copy()
    assert await tracker.poll_once() == 2
    assert calls_since(sandbox, before) == Counter({"get_exchanges": 1, "bid_info": 1})
    sandbox.set_status(warm_up.bid_id, "cancel")
    await tracker.poll_once()

    figures: dict[int, tuple[int, int]] = {}
    changing = [await place_order(services)]
    for open_orders in (1, 50):
        changing += [await place_order(services) for _ in range(open_orders - len(changing))]
        assert len(await services.orders.open_orders(PE)) == open_orders
        before = sandbox.requests.copy()
        quiet = await tracker.poll_once()
        assert calls_since(sandbox, before) == Counter({"get_exchanges": 1}) and tracker.last_changes == 0
        for placed in changing:
            if sandbox.bids[placed.bid_id].status == "new":
                sandbox.advance(placed.bid_id)
        before = sandbox.requests.copy()
        changed = await tracker.poll_once()
        assert calls_since(sandbox, before) == Counter({"get_exchanges": 1})
        assert tracker.last_changes == (1 if open_orders == 1 else 49)
        figures[open_orders] = (quiet, changed)
    assert figures[1] == figures[50] == (1, 1)


async def test_no_calls_without_open_orders(
    services: Services, sandbox: SandboxExchanger, notifications: Notifications
) -> None:
    before = sandbox.requests.copy()
    assert await notifications.tracker.poll_once() == 0
    # An answer to a create may have been lost: the feed is read, to find the order.
    await services.orders.reserve(CHAT, PE, "123", "102")
    assert await notifications.tracker.poll_once() == 1
    assert await services.orders.forget_reservation(PE, "123")
    assert await notifications.tracker.poll_once() == 0
    assert calls_since(sandbox, before) == Counter({"get_exchanges": 1})


async def test_safety_check_reads_long_unchanged_orders_within_a_bound(
    services: Services, sandbox: SandboxExchanger, notifications: Notifications
) -> None:
    tracker = notifications.tracker
    tracker.check_after = 0  # every open order is "unchanged for long" at once
    tracker.checks_per_cycle = 2
    for _ in range(5):
        await place_order(services)
    before = sandbox.requests.copy()
    assert await tracker.poll_once() == 3  # the feed plus two direct reads, not five
    assert calls_since(sandbox, before) == Counter({"get_exchanges": 1, "bid_info": 2})


# -- a lost answer -------------------------------------------------------------------------------------


async def test_tracker_adopts_an_order_whose_create_answer_was_lost(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications
) -> None:
    placement = services.platform.placement
    assert placement is not None
    key = placement.new_key()
    # The bot stored the key, the exchange created the order, and the answer never came back.
    await services.orders.reserve(CHAT, PE, key, "102")
    request = OrderRequest(direction_id="102", amount=Decimal("10000"), fields=FIELDS_102)
    created = await placement.place(request, key, None, reserved_at=services.db.now(), retry=False)
    assert (await services.orders.get_by_key(PE, key)).order_id is None  # type: ignore[union-attr]

    tracker = notifications.tracker
    await tracker.poll_once()  # a create may still be under way: left alone for now
    assert (await services.orders.get_by_key(PE, key)).order_id is None  # type: ignore[union-attr]
    tracker.adopt_after = 0  # ... but not for ever
    await tracker.poll_once()
    stored = await services.orders.get_by_key(PE, key)
    assert stored is not None and stored.order_id == created.id and stored.status_code == "new"
    assert stored.secret is not None  # its access secret came with it, encrypted at rest
    await notifications.sender.drain()
    assert headings(bot) == ["🔔 Your order was created after all: the exchange confirmed it late."]
    assert f"Order #{created.id}" in texts(bot)[0] and "Accepted, waiting to be paid" in texts(bot)[0]
    # Told once; from now on it is an ordinary open order.
    sandbox.advance(int(created.id))
    await notifications.tracker.poll_once()
    await notifications.sender.drain()
    assert len(texts(bot)) == 2 and await services.orders.pending_reservations(PE) == []


async def test_tracker_forgets_a_reservation_the_exchange_never_saw(
    services: Services, notifications: Notifications
) -> None:
    await services.orders.reserve(CHAT, PE, "4242", "102")
    tracker = notifications.tracker
    assert await tracker.poll_once() == 1  # too young to be looked up
    assert len(await services.orders.pending_reservations(PE)) == 1
    tracker.settle_after = 0
    await tracker.poll_once()  # looked up: nothing yet, but the exchange may still commit it late
    assert len(await services.orders.pending_reservations(PE)) == 1
    services.platform.placement.commit_horizon_seconds = 0  # type: ignore[union-attr]
    await services.db.execute("UPDATE orders SET next_check_at = NULL")  # due again now
    await tracker.poll_once()  # a lookup past the horizon: it never will
    assert await services.orders.pending_reservations(PE) == []
    assert await services.orders.get_by_key(PE, "4242") is None


# -- restart ------------------------------------------------------------------------------------------


async def test_restart_sends_pending_outbox_and_resumes_the_cursor(
    tmp_path: Path, sandbox: SandboxExchanger, bot: Bot
) -> None:
    settings = make_settings(tmp_path, sandbox.url)
    async with open_services(settings) as first_run:
        placed = await place_order(first_run)
        tracker = build_notifications(first_run, bot, FAST, FakeClock()).tracker
        sandbox.advance(placed.bid_id)
        await tracker.poll_once()  # recorded and queued; the bot stops before sending
        cursor = await first_run.db.get_meta(CURSOR_KEY.format(platform=PE))
        assert cursor is not None and int(cursor) == sandbox.bids[placed.bid_id].time
    assert texts(bot) == []

    async with open_services(settings) as second_run:
        notifications = build_notifications(second_run, bot, FAST, FakeClock())
        assert await notifications.outbox.pending_count() == 1
        await notifications.sender.drain()
        assert texts(bot) == [
            f"🔔 Order #{placed.bid_id}: Order is paid (confirmation from client)\n{AMOUNTS}"
        ]
        assert await notifications.tracker._load_cursor() == int(cursor)
        sandbox.advance(placed.bid_id)
        await notifications.tracker.poll_once()
        assert notifications.tracker.last_changes == 1
        await notifications.sender.drain()
        assert len(texts(bot)) == 2


async def test_first_window_begins_well_before_the_oldest_open_order(
    services: Services, sandbox: SandboxExchanger, notifications: Notifications
) -> None:
    placed = await place_order(services)
    sandbox.advance(placed.bid_id)
    tracker = notifications.tracker
    overlap = services.platform.feed.overlap  # type: ignore[union-attr]
    await tracker.poll_once()
    stored = await services.orders.get(placed.local_id)
    assert stored is not None
    # No cursor yet: from the oldest open order, allowing for a site clock hours behind ours.
    first = int(sandbox.last_form["get_exchanges"]["start_time"])
    assert first == stored.created_at - FIRST_WINDOW_ALLOWANCE - overlap
    newest = sandbox.bids[placed.bid_id].time
    assert await tracker._load_cursor() == newest
    await tracker.poll_once()
    assert int(sandbox.last_form["get_exchanges"]["start_time"]) == newest - overlap


# -- queued before the upgrade --------------------------------------------------------------------------


async def test_notifications_queued_by_schema_2_are_sent_or_dropped_without_a_crash(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications
) -> None:
    placed = await place_order(services)
    sandbox.advance(placed.bid_id)
    await notifications.statuses.record(placed.local_id, status_of("payed"), notify=False)
    outbox = notifications.outbox
    # The upgrade's shape of a queued status notification: the order, the code, no phase.
    await outbox.enqueue(
        CHAT,
        ORDER_STATUS_KIND,
        {"order": placed.local_id, "status": "payed", "status_title": None, "title_lang": None},
    )
    # Rows it could not convert, and one about a status the order has left since.
    await outbox.enqueue(CHAT, ORDER_STATUS_KIND, {"bid_id": placed.bid_id, "status": "payed"})
    await outbox.enqueue(CHAT, ORDER_STATUS_KIND, {"order": None, "status": "payed"})
    await outbox.enqueue(CHAT, ORDER_STATUS_KIND, {"order": placed.local_id, "status": "new"})
    await notifications.sender.drain()
    assert headings(bot) == [f"🔔 Order #{placed.bid_id}: Order is paid (confirmation from client)"]
    assert await outbox.pending_count() == 0


# -- titles ---------------------------------------------------------------------------------------------


async def test_a_title_observed_in_another_language_is_never_shown(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications
) -> None:
    russian_chat, english_chat = CHAT, 5002
    await services.chat_settings.set_language(russian_chat, "ru")
    await services.chat_settings.set_language(english_chat, "en")
    english = await place_order(services, english_chat)
    russian = await place_order(services, russian_chat)
    for placed in (english, russian):
        sandbox.advance(placed.bid_id)
    # Observed in Russian (a Russian chat's order card, say), told to the English chat, and back.
    statuses = notifications.statuses
    assert await statuses.record(
        english.local_id, status_of("payed", "Оплачена (подтверждение клиента)"), title_lang="ru"
    )
    assert await statuses.record(
        russian.local_id, status_of("payed", "Order is paid (confirmation from client)"), title_lang="en"
    )
    await notifications.sender.drain()
    assert headings(bot, english_chat) == [
        f"🔔 Order #{english.bid_id}: Order is paid (confirmation from client)"
    ]
    assert headings(bot, russian_chat)[0].startswith(f"🔔 Заявка №{russian.bid_id}: ")
    assert "Order is paid" not in texts(bot, russian_chat)[0]

    # When the exchange can't say the title in the chat's language, the phase is said in words.
    sandbox.advance(english.bid_id)
    sandbox.maintenance = True
    assert await statuses.record(english.local_id, status_of("realpay", "Оплачена"), title_lang="ru")
    await notifications.sender.drain()
    sandbox.maintenance = False
    assert headings(bot, english_chat)[-1] == f"🔔 Order #{english.bid_id}: being processed"


# -- the machinery running ----------------------------------------------------------------------------


async def wait_for_messages(bot: Bot, count: int, chat_id: int = CHAT) -> list[ShownMessage]:
    session = session_of(bot)
    arrived = asyncio.Event()
    unsubscribe = session.subscribe(lambda event: arrived.set())
    try:
        async with asyncio.timeout(10):
            while len(messages := session.chat_messages(chat_id)) < count:
                arrived.clear()
                await arrived.wait()
    finally:
        unsubscribe()
    return messages


async def test_running_machinery_delivers_by_callback_and_by_polling(
    services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    async with notifications_running(services, bot, FAST) as notifications:
        runner = await start_web_server(services, notifications)
        try:
            base = f"http://127.0.0.1:{runner.addresses[0][1]}"
            with_callback = await place_order(services, public_url=base)
            polled_only = await place_order(services, 5002)
            sandbox.advance(with_callback.bid_id)
            sandbox.advance(polled_only.bid_id)
            [message] = await wait_for_messages(bot, 1)
            assert message.text.startswith(f"🔔 Order #{with_callback.bid_id}: Order is paid (confirmation")
            [message] = await wait_for_messages(bot, 1, 5002)
            assert message.text.startswith(f"🔔 Order #{polled_only.bid_id}: Order is paid (confirmation")
            for seen in (2, 3, 4):
                sandbox.advance(with_callback.bid_id)
                messages = await wait_for_messages(bot, seen)
            assert "The order is completed" in messages[-1].text
            await asyncio.sleep(0.2)  # callbacks and polling both saw every change: still one each
            assert len(session_of(bot).chat_messages(CHAT)) == 4
        finally:
            await runner.cleanup()


async def test_web_app_without_running_notifications_still_records(
    services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    runner = await start_web_server(services)
    try:
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        placed = await place_order(services, public_url=base)
        sandbox.advance(placed.bid_id)
        await sandbox.drain_callbacks()
        app = runner.app
        assert isinstance(app, web.Application)
        from bot.notifications.callbacks import CALLBACKS_KEY

        await app[CALLBACKS_KEY].wait_idle()
        notifications = build_notifications(services, bot, FAST, FakeClock())
        await notifications.sender.drain()
        assert len(texts(bot)) == 1
    finally:
        await runner.cleanup()
