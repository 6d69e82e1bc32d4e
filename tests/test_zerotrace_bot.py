"""The customer's exchange on EXCHANGER_PLATFORM=0trace, end to end: the production Dispatcher through
the fake Telegram session, the 0trace sandbox over HTTP on loopback with the demo partner's key and
secret (every request signed). The sandbox's clock is a test clock: countdowns never depend on time."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from aiogram import Bot

from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import Services, open_services
from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
from bot.platforms.zerotrace.sandbox.keys import DEMO
from bot.platforms.zerotrace.sandbox.orders import Order as SandboxOrder
from bot.storage.repositories import StoredOrder
from offline.bot_client import BotClient, Reply
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession
from tests.conftest import make_settings

ZT = "0trace"
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
TRON_ADDRESS = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"
ETH_ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"
ONLY_READING = ["🔄 Refresh", "📋 My orders"]


class Clock:
    """The sandbox's clock, moved only by the test."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def zt(clock: Clock) -> AsyncIterator[ZeroTraceSandbox]:
    sandbox = ZeroTraceSandbox(step_seconds=None, now=clock)
    await sandbox.start("127.0.0.1", 0)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
async def services(tmp_path: Path, zt: ZeroTraceSandbox) -> AsyncIterator[Services]:
    settings = make_settings(
        tmp_path,
        zt.url,
        exchanger_platform=ZT,
        exchanger_api_login=None,
        exchanger_api_key=DEMO.key,
        exchanger_api_secret=DEMO.secret,
        exchanger_webhook_secret=DEMO.webhook_secret,
    )
    async with open_services(settings) as opened:
        opened.platform.placement.retry_delay = 0.01  # type: ignore[union-attr]
        opened.platform.client.retry_delay = 0.01  # type: ignore[attr-defined]
        yield opened


@pytest.fixture
def bot() -> Bot:
    return Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)


@pytest.fixture
def client(services: Services, bot: Bot) -> BotClient:
    return BotClient(build_dispatcher(services), bot, user_id=700007)


def plain(text: str) -> str:
    """No-break spaces (between an amount and its currency) made plain."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def choose(client: BotClient, give: str = "USDT · Tron", get: str = "BTC · Bitcoin") -> Reply:
    await client.send("/exchange")
    await client.click(give)
    return await client.click(get)


async def to_summary(client: BotClient, amount: str = "100") -> Reply:
    await choose(client)
    await client.send(amount)
    await client.send(BTC_ADDRESS)
    return await client.send(TRON_ADDRESS)


def only_order(zt: ZeroTraceSandbox) -> SandboxOrder:
    orders = zt.orders_of(DEMO.key)
    assert len(orders) == 1, f"expected one order, the sandbox has {len(orders)}"
    return orders[0]


async def stored(services: Services, order_id: str) -> StoredOrder:
    found = await services.orders.get_by_order_id(ZT, order_id)
    assert found is not None, f"the bot has no record of order {order_id}"
    return found


# -- choosing, amounts, limits -----------------------------------------------------------------------


async def test_assets_are_coins_on_networks_and_receive_side_only_offers_sendable(client: BotClient) -> None:
    await client.send("/exchange")
    gives = client.last.button_labels()
    assert {"USDT · Tron", "USDT · Ethereum", "BTC · Bitcoin", "DASH · Dash"} <= set(gives)
    reply = await client.click("DASH · Dash")
    gets = reply.last.button_labels()
    assert "USDT · Tron" in gets and "BTC · Bitcoin" in gets
    await client.click("⬅️ Back")
    reply = await client.click("USDT · Tron")
    gets = reply.last.button_labels()
    # DASH can be deposited but 0trace can't pay it out; a pair never goes to itself.
    assert "DASH · Dash" not in gets and "USDT · Tron" not in gets
    assert "USDT · Ethereum" in gets
    reply = await client.send("ethereum")  # typed search on the receive side
    assert [b for b in reply.last.button_labels() if "·" in b] == ["ETH · Ethereum", "USDT · Ethereum"]


async def test_direction_shows_limits_in_the_asset_and_in_dollars_and_a_floating_rate(
    client: BotClient,
) -> None:
    reply = await choose(client)
    text = plain(reply.text)
    assert "USDT · Tron → BTC · Bitcoin" in text
    assert "You give: from 10.00 USDT to 5,000.00 USDT" in text
    assert "In US dollars: from 10.00 USD to 5,000.00 USD" in text
    assert re.search(r"You receive: from 0\.000\d+ BTC to 0\.0\d+ BTC", text), text
    assert "Floating rate" in text  # the platform's own note, in the customer's language
    assert text.count("may differ") + text.count("may change") == 1, "said once"
    assert reply.last.button_labels()[:2] == ["✓ I send exactly … USDT", "I receive exactly … BTC"]

    reply = await client.send("250")
    text = plain(reply.text)
    assert "You give: <b>250.00 USDT</b> (≈ 250.00 USD)" in text
    assert "📈 The rate may change until your payment arrives." in text
    assert "Receiving address (BTC · Bitcoin)" in text  # on to the first field


async def test_amount_on_the_receive_side_is_quoted_live(client: BotClient, zt: ZeroTraceSandbox) -> None:
    await choose(client)
    await client.click("I receive exactly … BTC")
    reply = await client.send("0.002")
    text = plain(reply.text)
    assert "You receive: <b>0.002 BTC</b>" in text
    pays = re.search(r"You give: <b>([\d,]+\.\d+) USDT</b>", text)
    assert pays, text
    first = Decimal(pays.group(1).replace(",", ""))
    # The rate floats: a move of the market moves the next quote.
    zt.market.set_usd("btc", Decimal("70000"))
    await client.click("⬅️ Back")
    await client.click("⬅️ Back")
    await client.click("BTC · Bitcoin")
    await client.click("I receive exactly … BTC")
    reply = await client.send("0.002")
    again = re.search(r"You give: <b>([\d,]+\.\d+) USDT</b>", plain(reply.text))
    assert again and Decimal(again.group(1).replace(",", "")) > first


async def test_an_amount_below_the_limit_offers_the_limit_in_one_tap(client: BotClient) -> None:
    await choose(client)
    reply = await client.send("5")
    assert "outside the exchange's limits" in reply.text
    reply = await client.click(re.compile(r"^✅ Use 10\.00"))
    assert "You give: <b>10.00\xa0USDT</b>" in reply.text


# -- addresses ----------------------------------------------------------------------------------------


async def test_addresses_are_checked_for_their_network_as_typed(client: BotClient) -> None:
    await choose(client)
    await client.send("100")
    reply = await client.send(ETH_ADDRESS)  # an Ethereum address where a Bitcoin one belongs
    assert "«Receiving address (BTC · Bitcoin)»: this is not a Bitcoin address" in reply.text
    assert "(step 1 of 2)" in reply.text
    reply = await client.send(BTC_ADDRESS)
    assert "Refund address (USDT · Tron)" in reply.text and "(step 2 of 2)" in reply.text
    reply = await client.send(BTC_ADDRESS)  # the refund goes back on Tron
    assert "«Refund address (USDT · Tron)»: this is not a Tron address" in reply.text
    reply = await client.send(TRON_ADDRESS)
    assert "Please check your order" in reply.text
    assert f"Receiving address (BTC · Bitcoin): {BTC_ADDRESS}" in reply.text
    assert f"Refund address (USDT · Tron): {TRON_ADDRESS}" in reply.text


async def test_a_bad_address_is_explained_in_russian(services: Services, bot: Bot) -> None:
    client = BotClient(build_dispatcher(services), bot, user_id=700070, language_code="ru")
    await choose(client)
    await client.send("100")
    reply = await client.send("not-an-address")
    assert "«Адрес получения (BTC · Bitcoin)»: это не адрес сети Bitcoin" in reply.text
    assert "not a " not in reply.text


async def test_earlier_addresses_are_offered_only_where_they_fit(
    client: BotClient, zt: ZeroTraceSandbox
) -> None:
    await to_summary(client)
    await client.click("✅ Confirm")
    await choose(client)
    reply = await client.send("100")
    offered = [label for label in reply.last.button_labels() if label.startswith("↩️")]
    assert len(offered) == 1 and offered[0].startswith("↩️ bc1q")
    reply = await client.click(re.compile(r"^↩️ bc1q"))
    assert any(label.startswith("↩️ TLa2") for label in reply.last.button_labels())
    # Receiving ETH: the Bitcoin address is not offered.
    await client.send("/exchange")
    await client.click("USDT · Tron")
    await client.click("ETH · Ethereum")
    reply = await client.send("100")
    assert not any(label.startswith("↩️") for label in reply.last.button_labels())


# -- the order ----------------------------------------------------------------------------------------


async def test_confirm_twice_makes_one_order_and_shows_how_to_pay(
    client: BotClient, zt: ZeroTraceSandbox, services: Services, clock: Clock
) -> None:
    summary = await to_summary(client)
    shown, button = client.find_button("✅ Confirm", summary.last)
    assert button.callback_data is not None
    first, second = await asyncio.gather(
        client.click_data(button.callback_data, shown), client.click_data(button.callback_data, shown)
    )
    order = only_order(zt)
    assert order.to_address == BTC_ADDRESS and order.refund_address == TRON_ADDRESS
    assert order.quote.from_amount == Decimal("100")
    record = await stored(services, order.id)
    assert record.secret is not None and record.chat_id == client.chat.id
    assert (record.give_amount, record.give_currency_code) == ("100", "USDT")

    replies = [first, second]
    # Both taps ran at once: each reply saw every message of the chat; count each message once.
    sent = {m.message_id: m for r in replies for m in r.sent}.values()
    photos = [m for m in sent if m.file is not None]
    assert len(photos) == 1 and photos[0].file is not None
    assert photos[0].file.content.startswith(b"\x89PNG")
    cards = [m for m in sent if "How to pay" in m.text]
    assert len(cards) == 1
    card = plain(cards[0].text)
    assert f"<code>{order.payin_address}</code>" in card
    assert "Amount to pay: <b>100.00 USDT</b> (to copy: <code>100</code>)" in card
    assert "Network: Tron" in card
    assert "Send exactly this amount" in card
    assert "Time left to pay: 30 min 00 s" in card
    assert f"Refund address: <code>{TRON_ADDRESS}</code>" in card
    assert "Status: <b>waiting for your payment</b>" in card  # the bare code NEW is not repeated
    assert cards[0].button_labels() == ONLY_READING  # no cancel, no "I have paid"
    answers = [r.callback_answer.text for r in replies if r.callback_answer is not None]
    assert any(text and "is already created" in text for text in answers)

    clock.now += 10 * 60 + 5
    reply = await client.click("🔄 Refresh", cards[0])
    assert "Time left to pay: 19 min 55 s" in plain(reply.text)


async def test_a_paid_order_moves_on_with_its_transactions(client: BotClient, zt: ZeroTraceSandbox) -> None:
    await to_summary(client)
    await client.click("✅ Confirm")
    order = only_order(zt)
    assert zt.deposit(order.id) == "PENDING"
    reply = await client.click("🔄 Refresh")
    text = reply.text
    assert "payment is being confirmed" in text and "How to pay" not in text
    assert f"Your deposit: <code>{order.deposit_tx}</code>" in text
    zt.advance(order.id)
    zt.advance(order.id)
    reply = await client.click("🔄 Refresh")
    assert "completed" in reply.text and f"Payout to you: <code>{order.payout_tx}</code>" in reply.text
    assert reply.last.button_labels() == ONLY_READING


async def test_emergency_is_explained_and_continues_after_confirmation(
    client: BotClient, zt: ZeroTraceSandbox
) -> None:
    await to_summary(client)
    await client.click("✅ Confirm")
    order = only_order(zt)
    assert zt.deposit(order.id, Decimal("7")) == "EMERGENCY"  # below the USD 10 minimum
    reply = await client.click("🔄 Refresh")
    text = reply.text
    assert "needs your decision" in text
    assert "outside the allowed limits" in text
    assert "The amount that arrived is outside the exchange's limits." in text
    assert "LIMIT" not in text  # the platform's reason code is worded, not shown
    assert "continue at the current rate" in text
    assert "your deposit goes back to your refund address" in text
    assert "How to pay" not in text
    assert reply.last.button_labels() == ["▶️ Continue at the current rate", *ONLY_READING]

    reply = await client.click("▶️ Continue at the current rate")
    assert "at the exchange's current rate?" in reply.text
    assert order.choice == "NONE", "nothing is decided before the confirmation"
    reply = await client.click("No, wait")
    assert "▶️ Continue at the current rate" in reply.last.button_labels()
    await client.click("▶️ Continue at the current rate")
    reply = await client.click("Yes, continue")
    assert order.choice == "EXCHANGE"
    assert "▶️ Continue at the current rate" not in reply.last.button_labels()
    zt.advance(order.id)
    reply = await client.click("🔄 Refresh")
    assert "being processed" in reply.text and "needs your decision" not in reply.text


async def test_continue_when_the_order_no_longer_waits_says_so(
    client: BotClient, zt: ZeroTraceSandbox
) -> None:
    await to_summary(client)
    await client.click("✅ Confirm")
    order = only_order(zt)
    zt.deposit(order.id, Decimal("7"))
    await client.click("🔄 Refresh")
    await client.click("▶️ Continue at the current rate")
    zt.expire(order.id)  # support settled it meanwhile
    reply = await client.click("Yes, continue")
    assert "no longer available" in reply.text
    assert "cancelled or expired" in reply.text
    assert f"Refund to you: <code>{order.refund_tx}</code>" in reply.text
    assert order.choice == "NONE"


async def test_a_lost_create_answer_is_told_honestly_and_a_new_order_is_offered(
    client: BotClient, zt: ZeroTraceSandbox, services: Services
) -> None:
    await to_summary(client)
    zt.faults.next("create", "drop")  # created, then the answer (and its one-time token) is lost
    reply = await client.click("✅ Confirm")
    order = only_order(zt)
    assert zt.replays >= 1, "the bot asked again with the same key and bytes"
    text = reply.text
    assert "can't be followed" in text and "do not pay for it" in text and "expires unpaid" in text
    assert order.payin_address not in text
    assert not any(m.file for m in reply.sent), "no QR of an address nobody follows"
    assert reply.last.button_labels() == ["💱 New exchange", "📋 My orders"]
    record = await stored(services, order.id)
    assert record.secret is None

    reply = await client.send("/orders")
    assert "can't be followed: do not pay for it" in reply.text
    reply = await client.click(f"#{record.label}")
    assert "can't be followed" in reply.text and order.payin_address not in reply.text

    reply = await client.click("💱 New exchange")
    assert "What do you give?" in reply.text
    await client.click("USDT · Tron")
    await client.click("BTC · Bitcoin")
    await client.send("100")
    await client.send(BTC_ADDRESS)
    await client.send(TRON_ADDRESS)
    reply = await client.click("✅ Confirm")
    orders = zt.orders_of(DEMO.key)
    assert len(orders) == 2
    fresh = next(o for o in orders if o.id != order.id)
    assert f"<code>{fresh.payin_address}</code>" in reply.text
    keys = {key for (_, key) in zt.book.keys}
    assert len(keys) == 2, "the new order has its own Idempotency-Key"


async def test_orders_lists_the_chats_0trace_orders(client: BotClient, zt: ZeroTraceSandbox) -> None:
    reply = await client.send("/orders")
    assert "no orders yet" in reply.text
    await to_summary(client, amount="120")
    await client.click("✅ Confirm")
    order = only_order(zt)
    label = order.id.split("-")[0]
    reply = await client.send("/orders")
    text = plain(reply.text)
    assert f"#{label}" in text and "120.00 USDT → 0.00" in text and "waiting for your payment" in text
    reply = await client.click(f"#{label}")
    assert f"<code>{order.payin_address}</code>" in reply.text
    assert reply.last.button_labels() == ONLY_READING


# -- the exchange refuses or is down ----------------------------------------------------------------


async def test_a_limit_refused_at_create_sends_back_to_the_amount_with_the_limit(
    client: BotClient, zt: ZeroTraceSandbox
) -> None:
    await to_summary(client, amount="10.5")
    zt.market.set_usd("usdt_trc20", Decimal("0.9"))  # 10.5 USDT is now worth USD 9.45
    reply = await client.click("✅ Confirm")
    assert "outside the exchange's limits" in reply.text
    assert not zt.orders_of(DEMO.key)
    use = client.find_button(re.compile(r"^✅ Use 11\.1+2"))[1]
    reply = await client.click(use.text)
    assert "Please check your order" in reply.text
    reply = await client.click("✅ Confirm")
    order = only_order(zt)
    assert order.quote.from_amount == Decimal("11.111112")
    assert f"<code>{order.payin_address}</code>" in reply.text


async def test_maintenance_keeps_the_summary_with_try_again(client: BotClient, zt: ZeroTraceSandbox) -> None:
    await to_summary(client)
    zt.maintenance = True
    reply = await client.click("✅ Confirm")
    assert "maintenance" in reply.text
    assert not zt.orders_of(DEMO.key)
    zt.maintenance = False
    reply = await client.click(re.compile("Try again"))
    order = only_order(zt)
    assert f"<code>{order.payin_address}</code>" in reply.text


async def test_no_clear_answer_keeps_the_key_and_try_again_makes_one_order(
    client: BotClient, zt: ZeroTraceSandbox, services: Services
) -> None:
    await to_summary(client)
    attempts = services.platform.placement.attempts  # type: ignore[union-attr]
    zt.faults.next("create", "drop_before", times=attempts)  # the connection breaks before anything
    reply = await client.click("✅ Confirm")
    assert "did not confirm your order in time" in reply.text
    assert not zt.orders_of(DEMO.key)
    reply = await client.click(re.compile("Try again"))
    order = only_order(zt)
    assert f"<code>{order.payin_address}</code>" in reply.text
    record = await stored(services, order.id)
    assert record.secret is not None
    assert [key for (_, key) in zt.book.keys] == [record.idempotency_key]


async def test_an_order_made_by_a_lost_attempt_is_shown_at_the_next_exchange(
    client: BotClient, zt: ZeroTraceSandbox, services: Services
) -> None:
    await to_summary(client)
    attempts = services.platform.placement.attempts  # type: ignore[union-attr]
    zt.faults.next("create", "drop_before", times=attempts)
    await client.click("✅ Confirm")
    assert not zt.orders_of(DEMO.key)
    # The customer starts over instead of pressing Try again: the kept request is settled first.
    reply = await client.send("/exchange")
    order = only_order(zt)
    assert "Your earlier order was created after all" in reply.text
    assert f"<code>{order.payin_address}</code>" in reply.text
    assert any(m.file is not None for m in reply.sent)
    assert "What do you give?" in reply.last.text
    reply = await client.send("/exchange")
    assert "created after all" not in reply.text and len(zt.orders_of(DEMO.key)) == 1


async def test_help_and_menu_offer_only_what_0trace_serves(client: BotClient) -> None:
    reply = await client.send("/start")
    assert reply.last.button_labels() == ["💱 Exchange", "📋 My orders", "🌐 Language", "❓ Help"]
    reply = await client.send("/help")
    assert "/exchange" in reply.text and "/orders" in reply.text
    assert "/partner" not in reply.text and "/login" not in reply.text


async def test_without_pushes_every_open_order_is_read_in_one_tracker_cycle(
    services: Services, bot: Bot, zt: ZeroTraceSandbox
) -> None:
    """No webhooks (no PUBLIC_URL): the tracker is the only way to hear of a deposit, so each cycle
    reads every open order that is due, not a handful; the client's weight budget sets the pace."""
    from bot.domain.models import OrderRequest
    from bot.notifications import NotificationConfig, build_notifications
    from tests.platforms.test_zerotrace import FIELDS, PAIR
    from tests.test_notifications import FakeClock

    direction = await services.catalogue.direction("en", PAIR)
    for chat_id in range(1, 31):
        request = OrderRequest(direction_id=PAIR, amount=Decimal("100"), fields=dict(FIELDS))
        await services.ordering.place(
            chat_id=chat_id, key=services.ordering.new_key(), direction=direction, request=request
        )
    for order in zt.orders.values():
        zt.deposit(order.id)
    config = NotificationConfig(check_after_without_feed=0)
    notifications = build_notifications(services, bot, config, FakeClock())
    await notifications.tracker.poll_once()
    moved = [await services.orders.list_for_chat(chat_id, "0trace") for chat_id in range(1, 31)]
    assert [rows[0].status_code for rows in moved] == ["PENDING"] * 30
