"""Order status notifications: recording, exchanger callbacks over real HTTP, the polling tracker,
restarts, and the whole machinery running in the background."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from aiogram import Bot
from aiohttp import web
from pydantic import SecretStr

from bot.exchanger.models import ApiCredentials, OrderRequest
from bot.exchanger.premiumexchanger.client import PremiumExchangerClient
from bot.notifications import (
    NotificationConfig,
    Notifications,
    build_notifications,
    callback_url_for,
    notifications_running,
)
from bot.notifications.tracker import CURSOR_KEY, StatusTracker
from bot.sandbox import SandboxExchanger
from bot.sandbox.keys import DEMO
from bot.services import Services, open_services
from bot.telegram.fake_session import FakeTelegramSession, ShownMessage
from bot.web import start_web_server
from handlers.callbacks import OrderCb
from tests.conftest import make_settings
from tests.sandbox_forms import FIELDS_102

CHAT = 5001
_api_ids = itertools.count(int(1e9))


class FakeClock:
    """Monotonic time that only moves when slept on: pacing runs without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


async def place_order(
    services: Services, chat_id: int = CHAT, *, callback_base: str | None = None, amount: str = "10000"
) -> int:
    """Create an order in the sandbox through the bot's client and register it as the conversation will."""
    api_id = str(next(_api_ids))
    token = services.order_placer.callback_token(api_id)
    callback_url = callback_url_for(callback_base, token)
    await services.bids.reserve(chat_id, api_id, 102)
    order = await services.exchanger.create_order(
        OrderRequest(
            direction_id="102",
            amount=Decimal(amount),
            fields=FIELDS_102,
            api_id=api_id,
            callback_url=callback_url,
        )
    )
    await services.bids.attach(
        api_id,
        int(order.id),
        order.hash,
        order.status,
        order.status_title,
        token,
        amounts=(
            str(order.give_amount),
            str(order.get_amount),
            order.give_currency_code,
            order.get_currency_code,
        ),
    )
    return int(order.id)


def session_of(bot: Bot) -> FakeTelegramSession:
    assert isinstance(bot.session, FakeTelegramSession)
    return bot.session


def texts(bot: Bot, chat_id: int = CHAT) -> list[str]:
    return [m.text for m in session_of(bot).chat_messages(chat_id)]


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


def test_callback_tokens_and_urls(services: Services) -> None:
    placer = services.order_placer
    tokens = {placer.callback_token(str(n)) for n in range(100)}
    assert len(tokens) == 100 and all(len(t) == 32 and t.isalnum() for t in tokens)  # 128 bits, hex
    assert placer.callback_token("42") == placer.callback_token("42")  # every attempt of one api_id
    assert callback_url_for(None, "abc") is None
    assert callback_url_for("https://bot.example/", "abc") == "https://bot.example/callbacks/order/abc"


# -- callbacks -----------------------------------------------------------------------------------------


async def test_callback_gives_exactly_one_notification(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications, web_url: str
) -> None:
    bid_id = await place_order(services, callback_base=web_url)
    sandbox.advance(bid_id)  # new -> payed: the sandbox POSTs our callback URL
    await settle(sandbox, notifications)

    assert sandbox.callbacks[-1]["ok"] and sandbox.callbacks[-1]["status_code"] == 200
    messages = session_of(bot).chat_messages(CHAT)
    assert len(messages) == 1
    assert messages[0].text.startswith(f"🔔 Order #{bid_id}: Order is paid (confirmation from client)")
    assert "10000 RUB → 104.26 USDT" in messages[0].text
    [[button]] = messages[0].buttons
    assert button.text == "Open order"
    assert button.callback_data == OrderCb(action="open", bid_id=bid_id).pack()
    bid = await services.bids.get_by_bid_id(bid_id)
    assert bid is not None and (bid.status, bid.notified_status) == ("payed", "payed")


async def test_duplicate_callbacks_give_one_notification(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications, web_url: str
) -> None:
    bid_id = await place_order(services, callback_base=web_url)
    bid = await services.bids.get_by_bid_id(bid_id)
    assert bid is not None and bid.callback_token
    url = f"{web_url}/callbacks/order/{bid.callback_token}"
    sandbox.advance(bid_id)
    async with httpx.AsyncClient() as http:
        answers = await asyncio.gather(
            *(http.post(url, data={"bid_id": str(bid_id), "status": "payed"}) for _ in range(5))
        )
    assert {a.status_code for a in answers} == {200}
    await settle(sandbox, notifications)
    async with httpx.AsyncClient() as http:
        await http.post(url, data={"bid_id": str(bid_id), "status": "payed"})
    await settle(sandbox, notifications)
    assert len(texts(bot)) == 1
    assert await notifications.outbox.pending_count() == 0


async def test_stale_and_out_of_order_callbacks_do_not_regress(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications, web_url: str
) -> None:
    bid_id = await place_order(services, callback_base=web_url)
    sandbox.advance(bid_id)
    await settle(sandbox, notifications)
    sandbox.advance(bid_id)  # realpay
    await settle(sandbox, notifications)
    assert len(texts(bot)) == 2

    bid = await services.bids.get_by_bid_id(bid_id)
    assert bid is not None and bid.callback_token
    # A late callback claiming an older status: the re-read says realpay, nothing changes.
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{web_url}/callbacks/order/{bid.callback_token}", data={"bid_id": str(bid_id), "status": "payed"}
        )
    assert answer.status_code == 200
    await settle(sandbox, notifications)
    assert len(texts(bot)) == 2

    statuses = notifications.statuses
    old_read = statuses.begin_read()  # a read that started before the next one ...
    sandbox.advance(bid_id)  # verify
    await settle(sandbox, notifications)
    # ... and reports an older status after the newer one was recorded: ignored.
    assert not await statuses.record(bid_id, "realpay", "Order is paid", read_seq=old_read)
    sandbox.advance(bid_id)  # success (final)
    await settle(sandbox, notifications)
    assert not await statuses.record(bid_id, "verify", "Order is on checking")  # final stays final
    await notifications.sender.drain()
    bid = await services.bids.get_by_bid_id(bid_id)
    assert bid is not None and bid.status == "success"
    assert [t.split(": ", 1)[1].split("\n")[0] for t in texts(bot)] == [
        "Order is paid (confirmation from client)",
        "Order is paid",
        "Order is on checking",
        "The order is completed",
    ]
    assert "✅ The order is completed." in texts(bot)[-1]


async def test_unknown_token_is_404_with_an_empty_body(
    services: Services, notifications: Notifications, web_url: str
) -> None:
    await place_order(services, callback_base=web_url)
    async with httpx.AsyncClient() as http:
        for token in (services.order_placer.callback_token("999"), "x", "a" * 300):
            answer = await http.post(
                f"{web_url}/callbacks/order/{token}", data={"bid_id": "1001", "status": "success"}
            )
            assert answer.status_code == 404 and answer.content == b""
    assert await notifications.outbox.pending_count() == 0


async def test_record_without_notify_and_concurrent_records(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications
) -> None:
    bid_id = await place_order(services)
    statuses = notifications.statuses
    # The order card's Refresh: the user sees the status, no push.
    sandbox.advance(bid_id)
    order = await statuses.refresh(bid_id, notify=False)
    assert order.status == "payed"
    bid = await services.bids.get_by_bid_id(bid_id)
    assert bid is not None and bid.notified_status == "payed"
    # Many observers of one change at once: one notification.
    sandbox.advance(bid_id)
    results = await asyncio.gather(*(statuses.refresh(bid_id) for _ in range(6)))
    assert {r.status for r in results} == {"realpay"}
    await notifications.sender.drain()
    assert len(texts(bot)) == 1 and "Order is paid" in texts(bot)[0]


# -- polling ------------------------------------------------------------------------------------------


async def test_polling_delivers_every_status_once_and_stops_at_final(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications
) -> None:
    bid_id = await place_order(services)  # no callback_url: callbacks disabled
    tracker = notifications.tracker
    assert await tracker.poll_once() == 1 and tracker.last_changes == 0
    for _ in range(4):  # payed, realpay, verify, success
        sandbox.advance(bid_id)
        await tracker.poll_once()
        assert tracker.last_changes == 1
        await tracker.poll_once()  # the same state seen again: nothing new
        assert tracker.last_changes == 0
        await notifications.sender.drain()
    assert [t.split("\n")[0] for t in texts(bot)] == [
        f"🔔 Order #{bid_id}: Order is paid (confirmation from client)",
        f"🔔 Order #{bid_id}: Order is paid",
        f"🔔 Order #{bid_id}: Order is on checking",
        f"🔔 Order #{bid_id}: The order is completed",
    ]
    assert sandbox.callbacks == []
    assert await tracker.poll_once() == 0  # final: no longer polled
    assert await services.bids.open_bids() == []


async def test_cancel_and_error_paths_are_notified(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications
) -> None:
    cancelled = await place_order(services, amount="10066")  # amounts ending in 66 cancel
    failed = await place_order(services, amount="10013")  # ... in 13 end in error
    sandbox.set_status(cancelled, "cancel")
    sandbox.set_status(failed, "error")
    await notifications.tracker.poll_once()
    await notifications.sender.drain()
    joined = "\n".join(texts(bot))
    assert f"Order #{cancelled}: Refusal of payment" in joined and "The order was cancelled." in joined
    assert f"Order #{failed}: Error" in joined and "The order ended with an error" in joined


class CountingClient:
    """The bot's own client over an httpx client that counts the HTTP requests it makes."""

    def __init__(self, url: str) -> None:
        self.requests: list[str] = []
        self.http = httpx.AsyncClient(event_hooks={"request": [self._count]})
        self.client = PremiumExchangerClient(
            url, ApiCredentials(login=DEMO.login, key=SecretStr(DEMO.key)), http=self.http
        )

    async def _count(self, request: httpx.Request) -> None:
        self.requests.append(request.url.path.rstrip("/").rsplit("/", 1)[-1])

    def take(self) -> list[str]:
        taken, self.requests = self.requests, []
        return taken


async def test_calls_per_cycle_do_not_grow_with_open_orders(
    services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    counting = CountingClient(sandbox.url)
    counted = dataclasses.replace(services, exchanger=counting.client)
    tracker = build_notifications(counted, bot, FAST, FakeClock()).tracker
    try:
        # Warm-up: the first time a status code shows up, one bid_info learns its title.
        warm_up = await place_order(services)
        sandbox.advance(warm_up)
        assert await tracker.poll_once() == 2
        assert counting.take() == ["get_exchanges", "bid_info"]
        sandbox.set_status(warm_up, "cancel")
        await tracker.poll_once()
        counting.take()

        figures: dict[int, tuple[int, int]] = {}
        changing = [await place_order(services)]
        for open_orders in (1, 50):
            changing += [await place_order(services) for _ in range(open_orders - len(changing))]
            assert len(await services.bids.open_bids()) == open_orders
            counting.take()
            quiet = await tracker.poll_once()
            assert counting.take() == ["get_exchanges"] and tracker.last_changes == 0
            for bid_id in changing:
                if sandbox.bids[bid_id].status == "new":
                    sandbox.advance(bid_id)
            changed = await tracker.poll_once()
            assert counting.take() == ["get_exchanges"]
            assert tracker.last_changes == (1 if open_orders == 1 else 49)
            figures[open_orders] = (quiet, changed)
        assert figures[1] == figures[50] == (1, 1)
    finally:
        await counting.client.aclose()
        await counting.http.aclose()


async def test_no_calls_without_open_orders(services: Services, notifications: Notifications) -> None:
    assert await notifications.tracker.poll_once() == 0
    await services.bids.reserve(CHAT, "123", 102)  # an answer to create_bid may have been lost
    assert await notifications.tracker.poll_once() == 1  # so the listing is read, to find it
    assert await services.bids.forget_reservation("123")
    assert await notifications.tracker.poll_once() == 0


async def test_safety_check_reads_long_unchanged_orders_within_a_bound(
    services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    notifications = build_notifications(services, bot, FAST, FakeClock())
    tracker = notifications.tracker
    tracker.check_after = 0  # every open order is "unchanged for long" at once
    tracker.checks_per_cycle = 2
    for _ in range(5):
        await place_order(services)
    counting = CountingClient(sandbox.url)
    tracker.services = dataclasses.replace(services, exchanger=counting.client)
    try:
        assert await tracker.poll_once() == 3  # the listing plus two direct checks, not five
        assert sorted(counting.take()) == ["bid_info", "bid_info", "get_exchanges"]
    finally:
        await counting.client.aclose()
        await counting.http.aclose()


# -- restart ------------------------------------------------------------------------------------------


async def test_restart_sends_pending_outbox_and_resumes_the_cursor(
    tmp_path: Path, sandbox: SandboxExchanger, bot: Bot
) -> None:
    settings = make_settings(tmp_path, sandbox.url)
    async with open_services(settings) as first_run:
        bid_id = await place_order(first_run)
        tracker = build_notifications(first_run, bot, FAST, FakeClock()).tracker
        sandbox.advance(bid_id)
        await tracker.poll_once()  # recorded and queued; the bot stops before sending
        cursor = await first_run.db.fetchval("SELECT value FROM meta WHERE name = ?", (CURSOR_KEY,))
        assert cursor is not None
    assert texts(bot) == []

    async with open_services(settings) as second_run:
        notifications = build_notifications(second_run, bot, FAST, FakeClock())
        assert await notifications.outbox.pending_count() == 1
        await notifications.sender.drain()
        assert texts(bot) == [
            f"🔔 Order #{bid_id}: Order is paid (confirmation from client)\n10000 RUB → 104.26 USDT"
        ]
        assert await notifications.tracker._load_cursor() == int(cursor)
        sandbox.advance(bid_id)
        await notifications.tracker.poll_once()
        assert notifications.tracker.last_changes == 1
        await notifications.sender.drain()
        assert len(texts(bot)) == 2


async def test_first_start_window_begins_at_the_oldest_open_order(
    services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    bid_id = await place_order(services)
    sandbox.advance(bid_id)
    windows: list[int | None] = []
    real_list = services.exchanger.list_orders

    async def list_orders(**kwargs: object) -> list:
        windows.append(kwargs.get("start_time"))  # type: ignore[arg-type]
        return await real_list(**kwargs)  # type: ignore[arg-type]

    class Recording:
        def __getattr__(self, name: str) -> object:
            return list_orders if name == "list_orders" else getattr(services.exchanger, name)

    tracker = StatusTracker(
        dataclasses.replace(services, exchanger=Recording()),  # type: ignore[arg-type]
        build_notifications(services, bot, FAST, FakeClock()).statuses,
        overlap=60,
    )
    await tracker.poll_once()
    bid = await services.bids.get_by_bid_id(bid_id)
    assert bid is not None and windows == [bid.created_at - 60]
    newest = sandbox.bids[bid_id].time
    assert await tracker._load_cursor() == newest
    await tracker.poll_once()
    assert windows[-1] == newest - 60


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
            with_callback = await place_order(services, callback_base=base)
            polled_only = await place_order(services, 5002)
            sandbox.advance(with_callback)
            sandbox.advance(polled_only)
            [message] = await wait_for_messages(bot, 1)
            assert message.text.startswith(f"🔔 Order #{with_callback}: Order is paid (confirmation")
            [message] = await wait_for_messages(bot, 1, 5002)
            assert message.text.startswith(f"🔔 Order #{polled_only}: Order is paid (confirmation")
            for seen in (2, 3, 4):
                sandbox.advance(with_callback)
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
        bid_id = await place_order(services, callback_base=base)
        sandbox.advance(bid_id)
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
