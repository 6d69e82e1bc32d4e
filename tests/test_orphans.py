"""No orphan orders: an order the exchange commits after the bot stopped waiting for it (the answer
lost, or the create committed late) is found by its idempotency key and told to the customer, however
the customer moved on meanwhile (a new /exchange, /cancel, a restart of the bot). And a burst of
per-order callbacks costs one exchange read, not one each.

Real over mock: the real Dispatcher through the fake Telegram session, the sandbox exchangers over
HTTP on loopback with their late-commit control (the answer is dropped, the order committed later)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiogram import Bot
from aiohttp import web

from bot.app.dispatcher import build_dispatcher
from bot.app.wiring import Services, open_services
from bot.notifications.callbacks import add_callback_route
from bot.notifications.runtime import Notifications, build_notifications
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
from bot.platforms.zerotrace.sandbox.keys import DEMO as ZT_DEMO
from offline.bot_client import BotClient, Reply
from tests.conftest import make_settings
from tests.test_exchange_flow import fill_102

PE = "premiumexchanger"
ZT = "0trace"
LATE = "🔔 Your order was created after all"
EARLIER = "ℹ️ Your earlier order was created after all"
UNCERTAIN = "did not confirm your order in time"


async def cancel(client: BotClient) -> Reply:
    reply = await client.send("/cancel")
    if any("Yes, cancel it" in label for m in reply.sent for label in m.button_labels()):
        reply = await client.click("Yes, cancel it")  # a filled form is discarded once confirmed
    return reply


async def confirm_without_answer(
    client: BotClient, sandbox: SandboxExchanger, kind: str, seconds: float = 0.3
) -> None:
    """Confirm while the exchange's answer goes missing. ``late``: the bid is committed ``seconds``
    later; ``lost``: committed at once, and the bot's look-up of it fails too."""
    await fill_102(client)
    if kind == "late":
        sandbox.faults.next("create_bid", "late_commit", seconds=seconds)
    else:
        sandbox.faults.next("create_bid", "disconnect")
        for _ in range(3):  # the look-up after the lost answer fails, retries included
            sandbox.faults.next("get_exchanges", "http502")
    reply = await client.click("✅ Confirm")
    assert UNCERTAIN in reply.text


async def orphans(sandbox: SandboxExchanger, services: Services) -> list[int]:
    """Bids at the exchanger the bot has no order for."""
    return [
        bid.id
        for bid in sandbox.bids.values()
        if await services.orders.get_by_order_id(PE, str(bid.id)) is None
    ]


def announcements(client: BotClient, bid_id: int) -> list[str]:
    """Messages telling the customer that this order was created after all (shown or pushed)."""
    return [
        m.text
        for m in client.messages
        if (m.text.startswith(LATE) or m.text.startswith(EARLIER)) and f"Order #{bid_id}</b>" in m.text
    ]


async def settle(notifications: Notifications) -> None:
    """What the running bot does in the background: the tracker's cycles, then the sender."""
    notifications.tracker.adopt_after = 0
    for _ in range(2):
        await notifications.tracker.poll_once()
    await notifications.sender.drain()


@pytest.fixture
def notifications(services: Services, bot: Bot) -> Notifications:
    return build_notifications(services, bot)


# -- PremiumExchanger: a late commit while the customer moves on ---------------------------------------


async def test_a_late_commit_after_a_new_exchange_is_adopted_and_told_with_the_card(
    client: BotClient, sandbox: SandboxExchanger, services: Services, notifications: Notifications
) -> None:
    await confirm_without_answer(client, sandbox, "late")
    assert not sandbox.bids  # the exchange has not committed it yet
    reply = await client.send("/exchange")  # the customer gives up on «Try again» and starts over
    assert "created after all" not in reply.text and "What do you give?" in reply.last.text
    # The look-up found nothing, but the exchange may still commit it: the key is kept.
    assert len(await services.orders.pending_reservations(PE, chat_id=client.chat.id)) == 1

    await sandbox.wait_late_commits()
    assert len(sandbox.bids) == 1 and await orphans(sandbox, services) != []
    await settle(notifications)
    assert await orphans(sandbox, services) == []
    bid = next(iter(sandbox.bids.values()))
    [told] = [m for m in client.messages if m.text.startswith(LATE)]
    assert f"Order #{bid.id}" in told.text and "Accepted, waiting to be paid" in told.text
    assert "✖️ Cancel order" in told.button_labels()
    assert await services.orders.pending_reservations(PE) == []

    # The cancel it offers works: the customer did not want this order any more.
    await client.click("✖️ Cancel order", told)
    await client.click("Yes, cancel it")
    assert sandbox.bids[bid.id].status == "cancel"


async def test_a_late_commit_after_cancel_and_a_new_order_is_adopted_once(
    client: BotClient, sandbox: SandboxExchanger, services: Services, notifications: Notifications
) -> None:
    await confirm_without_answer(client, sandbox, "late", seconds=3.0)
    await cancel(client)
    await fill_102(client)
    card = await client.click("✅ Confirm")  # the new order is made and shown at once
    assert len(sandbox.bids) == 1 and "Order #" in card.text
    await sandbox.wait_late_commits()
    assert len(sandbox.bids) == 2
    await settle(notifications)
    assert await orphans(sandbox, services) == []
    late = max(sandbox.bids)
    assert len(announcements(client, late)) == 1
    await settle(notifications)  # later cycles announce nothing again
    assert len(announcements(client, late)) == 1


async def test_lost_answers_and_late_commits_leave_no_order_unknown(
    client: BotClient, sandbox: SandboxExchanger, services: Services, notifications: Notifications
) -> None:
    """Eight confirms without an answer, the customer moving on in every way; then 0 orphans, every
    order created exactly once and told to the customer exactly once."""
    rounds = [("late", "/exchange"), ("late", "/cancel"), ("lost", "/exchange"), ("lost", "/cancel"),
              ("late", "retry"), ("late", "/exchange"), ("lost", "/cancel"), ("late", "/cancel")]  # fmt: skip
    for kind, then in rounds:
        await confirm_without_answer(client, sandbox, kind)
        if then == "/exchange":
            await client.send("/exchange")
        elif then == "/cancel":
            await cancel(client)
        else:  # «Try again» before the late commit: the bot's own resend makes the order
            reply = await client.click(re.compile("Try again"))
            assert "Order #" in reply.text
            await cancel(client)
        if then != "retry":  # a background cycle may run at any time; the late commit comes later
            await notifications.tracker.poll_once()
    await sandbox.wait_late_commits()
    # Every confirm made one order: the late commit of the retried one was refused as a duplicate.
    assert len(sandbox.bids) == len(rounds)
    assert len({bid.api_id for bid in sandbox.bids.values()}) == len(rounds)
    await settle(notifications)
    assert await orphans(sandbox, services) == []
    cards = [re.search(r"^<b>Order #(\d+)</b>", m.text) for m in client.messages]
    shown_at_once = {int(card.group(1)) for card in cards if card is not None}
    for bid_id in sandbox.bids:
        told = announcements(client, bid_id)
        assert len(told) == (0 if bid_id in shown_at_once else 1), (bid_id, told)
    assert await services.orders.pending_reservations(PE) == []


async def test_a_reservation_nothing_came_of_is_kept_until_the_horizon(
    client: BotClient, sandbox: SandboxExchanger, services: Services, notifications: Notifications
) -> None:
    await fill_102(client)
    sandbox.faults.next("create_bid", "http502")  # a proxy's answer: the call may still be running
    assert UNCERTAIN in (await client.click("✅ Confirm")).text
    await cancel(client)
    tracker = notifications.tracker
    tracker.settle_after = 0
    before = sandbox.requests["get_exchanges"]
    await tracker.poll_once()
    assert sandbox.requests["get_exchanges"] > before  # looked up ...
    assert len(await services.orders.pending_reservations(PE)) == 1  # ... and kept
    placement = services.platform.placement
    assert placement is not None and placement.commit_horizon_seconds >= 600
    placement.commit_horizon_seconds = 0  # the exchange can no longer commit it
    await services.db.execute("UPDATE orders SET next_check_at = NULL")  # due for its next look-up
    await tracker.poll_once()
    assert await services.orders.pending_reservations(PE) == []
    assert not sandbox.bids


async def test_a_reservation_survives_a_restart_and_is_adopted_afterwards(
    tmp_path: Path, sandbox: SandboxExchanger, bot: Bot
) -> None:
    settings = make_settings(tmp_path, sandbox.url)
    async with open_services(settings) as first_run:
        client = BotClient(build_dispatcher(first_run), bot)
        await confirm_without_answer(client, sandbox, "late")
        await cancel(client)
    # The bot is down when the exchange commits the order.
    await sandbox.wait_late_commits()
    [bid] = sandbox.bids.values()

    async with open_services(settings) as second_run:
        assert await second_run.orders.get_by_order_id(PE, str(bid.id)) is None
        assert len(await second_run.orders.pending_reservations(PE)) == 1
        client = BotClient(build_dispatcher(second_run), bot)
        notifications = build_notifications(second_run, bot)
        await settle(notifications)
        stored = await second_run.orders.get_by_order_id(PE, str(bid.id))
        assert stored is not None and stored.chat_id == client.chat.id
        assert stored.idempotency_key == bid.api_id
        [told] = [t for t in (m.text for m in client.messages) if t.startswith(LATE)]
        assert f"Order #{bid.id}" in told
        assert await second_run.orders.pending_reservations(PE) == []


# -- 0trace: no look-up by key; a replay shows an order whose token went with the lost answer ------------


@pytest.fixture
async def zt() -> AsyncIterator[ZeroTraceSandbox]:
    sandbox = ZeroTraceSandbox(step_seconds=None)
    await sandbox.start("127.0.0.1", 0)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
async def zt_services(tmp_path: Path, zt: ZeroTraceSandbox) -> AsyncIterator[Services]:
    settings = make_settings(
        tmp_path,
        zt.url,
        exchanger_platform=ZT,
        exchanger_api_login=None,
        exchanger_api_key=ZT_DEMO.key,
        exchanger_api_secret=ZT_DEMO.secret,
        exchanger_webhook_secret=ZT_DEMO.webhook_secret,
    )
    async with open_services(settings) as opened:
        opened.platform.placement.retry_delay = 0.01  # type: ignore[union-attr]
        opened.platform.client.retry_delay = 0.01  # type: ignore[attr-defined]
        yield opened


async def test_0trace_late_commit_after_a_new_exchange_is_known_and_never_shown_payable(
    zt: ZeroTraceSandbox, zt_services: Services, bot: Bot
) -> None:
    client = BotClient(build_dispatcher(zt_services), bot, user_id=700008)
    await client.send("/exchange")
    await client.click("USDT · Tron")
    await client.click("BTC · Bitcoin")
    await client.send("100")
    await client.send("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
    await client.send("TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7")
    attempts = zt_services.platform.placement.attempts  # type: ignore[union-attr]
    zt.faults.next("create", "late_commit", seconds=0.3)
    zt.faults.next("create", "drop_before", times=attempts - 1)
    assert UNCERTAIN in (await client.click("✅ Confirm")).text
    await asyncio.sleep(0.4)  # the exchange commits the first attempt; its token is gone with it
    [order] = zt.orders_of(ZT_DEMO.key)

    reply = await client.send("/exchange")
    stored = await zt_services.orders.get_by_order_id(ZT, order.id)
    assert stored is not None and stored.unreachable and stored.secret is None
    assert "can't be followed" in reply.text and "do not pay for it" in reply.text
    assert order.payin_address not in reply.text
    assert "What do you give?" in reply.last.text
    assert len(zt.orders_of(ZT_DEMO.key)) == 1


# -- repeated per-order callbacks are coalesced -----------------------------------------------------------


async def test_twenty_callbacks_for_one_order_cost_at_most_one_read_per_interval(
    tmp_path: Path, sandbox: SandboxExchanger, bot: Bot
) -> None:
    settings = make_settings(tmp_path, sandbox.url, public_url="https://bot.example")
    async with open_services(settings) as services:
        client = BotClient(build_dispatcher(services), bot)
        await fill_102(client)
        await client.click("✅ Confirm")
        [bid] = sandbox.bids.values()
        stored = await services.orders.get_by_order_id(PE, str(bid.id))
        assert stored is not None and stored.push_token and bid.callback_url.endswith(stored.push_token)
        callbacks = build_notifications(services, bot).callbacks
        assert callbacks.min_interval == 5.0
        app = web.Application()
        add_callback_route(app, callbacks)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/callbacks/order/{stored.push_token}"
        try:
            async with httpx.AsyncClient() as http:
                before = sandbox.requests["bid_info"]
                assert (await http.post(url, data={"status": "payed"})).status_code == 200
                await callbacks.wait_idle()
                assert sandbox.requests["bid_info"] - before == 1  # the first is read at once
                sandbox.advance(bid.id)  # a real change behind the next ones
                for _ in range(19):  # one after another, each answered at once
                    assert (await http.post(url, data={"status": "payed"})).status_code == 200
                    await asyncio.sleep(0.01)
                assert sandbox.requests["bid_info"] - before == 1  # nothing more read yet ...
                await callbacks.wait_idle()
                assert sandbox.requests["bid_info"] - before == 2  # ... then one read for all of them
                refreshed = await services.orders.get(stored.id)
                assert refreshed is not None and refreshed.status_code == sandbox.bids[bid.id].status
                assert (await http.post(url[:-4] + "0000")).status_code == 404  # unknown: costs nothing
                assert sandbox.requests["bid_info"] - before == 2
        finally:
            await callbacks.aclose()
            await runner.cleanup()


# -- one card per order, one count per recovered order ---------------------------------------------------


def cards_of(client: BotClient, bid_id: int) -> list[str]:
    """Every message in the chat that shows this order's card (shown at once or announced)."""
    return [m.text for m in client.messages if f"Order #{bid_id}</b>" in m.text]


def recovered(services: Services, how: str) -> float:
    value = services.metrics.registry.get_sample_value(
        "bot_orders_recovered_total", {"platform": PE, "how": how}
    )
    return value or 0.0


async def test_try_again_after_an_adoption_shows_the_card_once_instead_of_its_announcement(
    client: BotClient, sandbox: SandboxExchanger, services: Services, notifications: Notifications
) -> None:
    await confirm_without_answer(client, sandbox, "late", seconds=1.0)
    await sandbox.wait_late_commits()
    [bid] = sandbox.bids.values()
    notifications.tracker.adopt_after = 0
    for _ in range(2):  # the tracker adopts it and queues "created after all" (not sent yet)
        await notifications.tracker.poll_once()
    assert await services.orders.get_by_order_id(PE, str(bid.id)) is not None
    assert await notifications.outbox.pending_count(client.chat.id) == 1

    reply = await client.click(re.compile("Try again"))
    assert f"Order #{bid.id}</b>" in reply.text  # the customer's own retry shows it ...
    await notifications.sender.drain()
    assert len(cards_of(client, bid.id)) == 1  # ... and the announcement is not sent as well
    assert announcements(client, bid.id) == []
    assert len(sandbox.bids) == 1
    assert recovered(services, "adopted") == 1 and recovered(services, "pending") == 0


async def test_try_again_after_the_announcement_went_out_shows_no_second_card(
    client: BotClient, sandbox: SandboxExchanger, services: Services, notifications: Notifications
) -> None:
    await confirm_without_answer(client, sandbox, "late", seconds=1.0)
    await sandbox.wait_late_commits()
    [bid] = sandbox.bids.values()
    await settle(notifications)  # adopted and announced with its card
    assert len(announcements(client, bid.id)) == 1

    reply = await client.click(re.compile("Try again"))
    assert f"Order #{bid.id}</b>" not in reply.text
    assert f"Order #{bid.id} was created: its card is already in this chat" in reply.text
    await notifications.sender.drain()
    assert len(cards_of(client, bid.id)) == 1
    # The conversation is over: /exchange starts afresh, with no order shown again.
    reply = await client.send("/exchange")
    assert "What do you give?" in reply.last.text and len(cards_of(client, bid.id)) == 1


async def test_an_order_found_at_the_next_exchange_is_counted_once_and_leaves_the_lookup_schedule(
    client: BotClient, sandbox: SandboxExchanger, services: Services, notifications: Notifications
) -> None:
    await confirm_without_answer(client, sandbox, "late", seconds=1.0)
    [reservation] = await services.orders.pending_reservations(PE, chat_id=client.chat.id)
    notifications.tracker.adopt_after = 0
    notifications.tracker.settle_after = 0
    await notifications.tracker.poll_once()  # looked up in vain: its next look-up is scheduled
    looked_up = await services.orders.get(reservation.id)
    assert looked_up is not None and looked_up.order_id is None and looked_up.next_check_at is not None

    await sandbox.wait_late_commits()
    [bid] = sandbox.bids.values()
    reply = await client.send("/exchange")  # found by the customer's next exchange
    assert any(m.text.startswith(EARLIER) and f"Order #{bid.id}</b>" in m.text for m in reply.sent)
    stored = await services.orders.get(reservation.id)
    assert stored is not None and stored.order_id == str(bid.id)
    assert stored.next_check_at is None  # a reservation's look-ups are over, as after a background adoption
    assert recovered(services, "pending") == 1 and recovered(services, "adopted") == 0


async def test_the_announcement_reads_the_order_under_its_own_timeout_not_the_title_one(
    client: BotClient, sandbox: SandboxExchanger, services: Services, notifications: Notifications
) -> None:
    await confirm_without_answer(client, sandbox, "late", seconds=1.0)
    await cancel(client)
    await sandbox.wait_late_commits()
    [bid] = sandbox.bids.values()
    context = notifications.sender.context
    context.title_timeout = 0.0  # no time at all to ask for a status title ...
    assert context.order_read_timeout > 0  # ... the whole order has its own
    await settle(notifications)
    [told] = [m for m in client.messages if m.text.startswith(LATE)]
    assert f"Order #{bid.id}" in told.text and "✖️ Cancel order" in told.button_labels()  # read live


async def test_an_order_adopted_while_its_answer_is_on_the_way_is_shown_once(
    client: BotClient, sandbox: SandboxExchanger, services: Services, notifications: Notifications
) -> None:
    """The exchange commits and answers slowly; meanwhile the tracker finds the order by its key and
    adopts it. The create's answer then attaches nothing over it: one card, counted once."""
    await fill_102(client)
    sandbox.faults.next("create_bid", "delay", seconds=1.5)
    confirm = asyncio.create_task(client.click("✅ Confirm"))
    for _ in range(200):
        if sandbox.bids:
            break
        await asyncio.sleep(0.01)
    [bid] = sandbox.bids.values()
    notifications.tracker.adopt_after = 0
    await notifications.tracker.poll_once()
    stored = await services.orders.get_by_order_id(PE, str(bid.id))
    assert stored is not None  # adopted before the answer came
    reply = await confirm
    assert f"Order #{bid.id}</b>" in reply.text
    await notifications.sender.drain()
    assert len(cards_of(client, bid.id)) == 1 and announcements(client, bid.id) == []
    assert recovered(services, "adopted") == 1
    created = services.metrics.registry.get_sample_value("bot_orders_created_total", {"platform": PE})
    assert not created  # found after the fact: counted once, as recovered
