"""The customer's exchange, end to end: the real Dispatcher, the sandbox exchanger over HTTP."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

import pytest
from aiogram import Bot

from bot.app.dispatcher import build_dispatcher
from bot.app.wiring import Services, open_services
from bot.domain.models import AmountSide, OrderRequest
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.registry import PLATFORMS, platform_info
from bot.storage.repositories import StoredOrder
from offline.bot_client import BotClient, Reply
from tests.conftest import make_settings
from tests.sandbox_forms import order_fields

PE = "premiumexchanger"
CARD = "4276380012345679"  # passes the Luhn check
TRC20 = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"
ERC20 = "0x" + "ab" * 20


async def choose(client: BotClient, give: str, get: str) -> Reply:
    await client.send("/exchange")
    await client.click(give)
    return await client.click(get)


async def fill_102(client: BotClient, amount: str = "10000", priority: str = "Normal") -> Reply:
    """Sberbank RUB -> TRC20: text fields, a price-changing select, an e-mail and a checkbox."""
    await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
    await client.send(amount)
    await client.send(CARD)
    await client.send("Ivan Petrov")
    await client.send(TRC20)
    await client.click(re.compile(rf"^{priority}\b"))  # the option may show its price
    await client.send("ivan@example.com")
    return await client.click("✅ Yes")


def only_bid(sandbox: SandboxExchanger):
    assert len(sandbox.bids) == 1, f"expected one order, the exchanger has {len(sandbox.bids)}"
    return next(iter(sandbox.bids.values()))


async def stored_bid(services: Services, bid) -> StoredOrder:
    """The bot's record of the sandbox's bid."""
    stored = await services.orders.get_by_order_id(PE, str(bid.id))
    assert stored is not None, f"the bot has no record of bid {bid.id}"
    return stored


async def test_exchange_with_every_kind_of_field_creates_one_order(
    client: BotClient, sandbox: SandboxExchanger, services: Services
) -> None:
    summary = await fill_102(client)
    assert "Please check your order" in summary.text
    assert "Network fee priority: Normal" in summary.text and "Agree: Yes" in summary.text
    assert summary.last.button_labels() == ["✅ Confirm", "✏️ Edit a field", "💰 Change amount", "✖️ Cancel"]

    reply = await client.click("✅ Confirm")
    bid = only_bid(sandbox)
    assert bid.sum_give == Decimal("10000")
    assert bid.fields["account1"] == CARD and bid.fields["account2"] == TRC20
    assert (
        bid.fields["cfget2"] == "1" and bid.fields["cf12"] == "1" and bid.fields["cfgive8"] == "Ivan Petrov"
    )
    assert bid.api_id.isdigit() and bid.partner_id == 0 and bid.callback_url == ""
    card = reply.last
    assert f"Order #{bid.id}" in card.text and "Accepted, waiting to be paid" in card.text
    assert "Amount to pay: <b>10,000.00\xa0RUB</b> (to copy: <code>10000</code>)" in card.text
    assert card.button_labels() == ["✅ I have paid", "✖️ Cancel order", "🔄 Refresh", "📋 My orders"]

    stored = await stored_bid(services, bid)
    assert stored.chat_id == client.chat.id and stored.idempotency_key == bid.api_id
    assert (stored.give_amount, stored.give_currency_code) == ("10000", "RUB")
    assert stored.platform == PE and stored.order_id == str(bid.id) and stored.secret is not None
    assert stored.status_code == "new" and stored.status_phase == "awaiting_payment"
    # The card names the phase in the customer's words, with the site's own title beside it.
    assert "waiting for your payment (Accepted, waiting to be paid)" in card.text


async def test_price_field_requotes_and_the_summary_shows_it(client: BotClient) -> None:
    normal = await fill_102(client, priority="Normal")
    await client.send("/cancel")
    await client.click("Yes, cancel it")  # a filled form is discarded only when the customer says so
    fast = await fill_102(client, priority="Fast")

    def receives(reply: Reply) -> Decimal:
        match = re.search(r"You receive: <b>([\d.]+)\sUSDT</b>", reply.text.replace(",", ""))
        assert match, reply.text
        return Decimal(match.group(1))

    # Fast adds a 2 USDT network fee in the sandbox.
    assert receives(normal) - receives(fast) == Decimal("2.00")


async def test_out_of_limits_amount_offers_the_limit(client: BotClient) -> None:
    await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
    reply = await client.send("500")
    assert "outside the exchange's limits" in reply.text
    assert "from 1,000.00\xa0RUB to 500,000.00\xa0RUB" in reply.text
    reply = await client.click(re.compile(r"^✅ Use 1,000\.00"))
    assert "You give: <b>1,000.00\xa0RUB</b>" in reply.text
    assert "From card" in reply.text  # moved on to the first field


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "That is not a number"),
        ("0", "more than zero"),
        ("-5", "cannot be negative"),
        ("1e5", "in full digits"),
        ("1.123456789", "at most 8"),
    ],
)
async def test_bad_amounts_are_explained_and_the_step_stays(
    client: BotClient, typed: str, message: str
) -> None:
    await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
    reply = await client.send(typed)
    assert message in reply.text
    assert "Type how much" in reply.text
    reply = await client.send("1 000,50")
    assert "From card" in reply.text and "1,000.50\xa0RUB" in reply.text


async def test_receive_side_amount_and_optional_selects(client: BotClient, sandbox: SandboxExchanger) -> None:
    await choose(client, "Tether TRC20 USDT", "Sberbank RUB")
    await client.click("I receive exactly … RUB")
    reply = await client.send("9200")
    assert "You receive: <b>9,200.00\xa0RUB</b>" in reply.text
    await client.send(CARD)
    card_type = client.last.button_labels()
    assert "No selected" not in card_type and "⏭ Skip" not in card_type  # required select
    await client.click("MIR")
    assert "⏭ Skip" in client.last.button_labels()  # optional select
    summary = await client.click("⏭ Skip")
    assert "How did you find us?: —" in summary.text
    await client.click("✅ Confirm")
    bid = only_bid(sandbox)
    assert bid.sum_get == Decimal("9200") and bid.fields["cfget3"] == "3" and bid.fields.get("cf13", "") == ""


async def test_textarea_and_fields_sent_as_a_list(client: BotClient, sandbox: SandboxExchanger) -> None:
    await choose(client, "Visa/MasterCard USD", "Tether ERC20 USDT")
    await client.send("100")
    for answer in (CARD, "IVAN PETROV", ERC20, "ivan@example.com"):
        await client.send(answer)
    assert "several lines" in client.last.text
    await client.send("Please hurry.\nThanks!")
    reply = await client.click("✅ Confirm")
    assert only_bid(sandbox).fields["cf20"] == "Please hurry.\nThanks!"
    assert "💳 Pay" not in reply.last.button_labels()  # the merchant link is on loopback: shown as text
    assert "Pay here: http://127.0.0.1" in reply.last.text


async def test_deposit_address_comes_with_a_qr_code(client: BotClient, sandbox: SandboxExchanger) -> None:
    await choose(client, "Bitcoin BTC", "Sberbank RUB")
    await client.send("0.01")
    for answer in (CARD, "Ivan Petrov", "ivan@example.com"):
        await client.send(answer)
    await client.click("⏭ Skip")
    reply = await client.click("✅ Confirm")
    bid = only_bid(sandbox)
    photo, card = reply.sent
    assert photo.file is not None and photo.file.content.startswith(b"\x89PNG")
    assert f"<code>{bid.address}</code>" in card.text


async def test_server_validation_sends_the_customer_back_to_the_field(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
    await client.send("10000")
    await client.send("427638001234567892")  # a card number, but the exchanger takes only 16 digits
    for answer in ("Ivan Petrov", TRC20):
        await client.send(answer)
    await client.click(re.compile(r"^Normal\b"))
    await client.send("ivan@example.com")
    await client.click("✅ Yes")
    reply = await client.click("✅ Confirm")
    assert not sandbox.bids
    assert "From card" in reply.text and "⚠️" in reply.text and "<span" not in reply.text
    reply = await client.send(CARD)
    assert "Please check your order" in reply.text  # back to the summary, the other answers kept
    await client.click("✅ Confirm")
    assert only_bid(sandbox).fields["account1"] == CARD


async def test_remembered_values_are_offered_next_time(client: BotClient, sandbox: SandboxExchanger) -> None:
    await fill_102(client)
    await client.click("✅ Confirm")
    await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
    reply = await client.send("10000")
    assert f"↩️ {CARD}" in reply.last.button_labels()
    reply = await client.click(f"↩️ {CARD}")
    assert "Cardholder name" in reply.text


async def test_double_confirm_creates_exactly_one_order(client: BotClient, sandbox: SandboxExchanger) -> None:
    summary = (await fill_102(client)).last
    _, confirm = client.find_button("✅ Confirm", summary)
    first = await client.click_data(confirm.callback_data, summary)
    second = await client.click_data(confirm.callback_data, summary)  # the same tap, delivered twice
    bid = only_bid(sandbox)
    assert f"Order #{bid.id}" in first.text
    assert (
        second.callback_answer is not None and f"#{bid.id} is already created" in second.callback_answer.text
    )
    assert second.sent == []


async def test_lost_answer_to_create_bid_still_makes_one_order(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    await fill_102(client)
    sandbox.faults.next("create_bid", "disconnect")  # the order is made, the answer never comes
    reply = await client.click("✅ Confirm")
    bid = only_bid(sandbox)
    assert f"Order #{bid.id}" in reply.text


async def test_uncertain_creation_is_retried_safely(client: BotClient, sandbox: SandboxExchanger) -> None:
    await fill_102(client)
    sandbox.faults.next("create_bid", "disconnect")
    for _ in range(3):  # the look-up fails too, even after the client's retries
        sandbox.faults.next("get_exchanges", "http502")
    reply = await client.click("✅ Confirm")
    assert "did not confirm your order in time" in reply.text
    assert len(sandbox.bids) == 1
    reply = await client.click("🔄 Try again")
    bid = only_bid(sandbox)
    assert f"Order #{bid.id}" in reply.text


async def test_pay_then_cancel_follow_the_allowed_actions(
    client: BotClient, sandbox: SandboxExchanger, services: Services
) -> None:
    await fill_102(client)
    await client.click("✅ Confirm")
    bid = only_bid(sandbox)
    reply = await client.click("✖️ Cancel order")
    assert "This cannot be undone" in reply.text
    reply = await client.click("No, keep it")
    assert bid.status == "new" and "✅ I have paid" in reply.last.button_labels()

    reply = await client.click("✅ I have paid")
    assert bid.status == "new" and "Have you sent the payment" in reply.text  # asked first
    reply = await client.click("Yes, I have paid")
    assert bid.status == "payed"
    assert "Order is paid" in reply.text
    assert reply.last.button_labels() == ["🔄 Refresh", "📋 My orders"]  # paying and cancelling are over
    stored = await stored_bid(services, bid)
    # The card showed the new status: recorded as seen, so no push will repeat it.
    assert stored.status_code == "payed" and stored.notified_status == "payed"


async def test_cancel_an_order(client: BotClient, sandbox: SandboxExchanger, services: Services) -> None:
    await fill_102(client)
    await client.click("✅ Confirm")
    bid = only_bid(sandbox)
    await client.click("✖️ Cancel order")
    reply = await client.click("Yes, cancel it")
    assert bid.status == "cancel"
    assert "You cancelled order" in reply.text and "cancelled or expired" in reply.text
    stored = await stored_bid(services, bid)
    assert stored.status_code == "cancel"


async def test_orders_lists_only_this_chats_orders_and_forged_buttons_reveal_nothing(
    client: BotClient, make_client, sandbox: SandboxExchanger, services: Services
) -> None:
    await fill_102(client)
    await client.click("✅ Confirm")
    bid = only_bid(sandbox)
    stored = await stored_bid(services, bid)
    reply = await client.send("/orders")
    # The site's title shows once learned in the chat's language (the card reads it); until then the phase.
    assert f"#{bid.id}" in reply.text and "waiting for your payment" in reply.text
    _, button = client.find_button(f"#{bid.id}", reply.last)
    assert button.callback_data == f"o:open:{stored.id}:0"  # the bot's own id, not the exchange's
    reply = await client.click(f"#{bid.id}")
    assert f"Order #{bid.id}" in reply.text and "✖️ Cancel order" in reply.last.button_labels()
    assert "Accepted, waiting to be paid" in (await client.send("/orders")).text

    stranger = make_client(user_id=999)
    reply = await stranger.send("/orders")
    assert "no orders yet" in reply.text
    for action in ("open", "refresh", "paid", "cancel", "cancel_yes"):
        forged = await stranger.click_data(f"o:{action}:{stored.id}:0", stranger.last)
        assert forged.callback_answer is not None and forged.callback_answer.text == "Order not found."
        assert forged.events == []
    assert bid.status == "new"


@pytest.mark.parametrize(
    "data",
    [
        "o:open:0:0",
        "o:open:-1:0",
        "o:open:abc:0",
        "o:open::0",
        "o:open",
        "o:open:9007199254740993:0",  # 2**53 + 1
        "o:refresh:99999999999999999999999999999999:0",
        "o:open:1.5:0",
        "o:explode:{n}:0",  # an action that does not exist, on the chat's own order
        "o:paid:{n}:x",
    ],
)
async def test_forged_order_buttons_are_answered_order_not_found(
    client: BotClient, sandbox: SandboxExchanger, services: Services, data: str
) -> None:
    await fill_102(client)
    await client.click("✅ Confirm")
    stored = await stored_bid(services, only_bid(sandbox))
    forged = await client.click_data(data.format(n=stored.id), client.last)
    assert forged.callback_answer is not None and forged.callback_answer.text == "Order not found."
    assert forged.events == []
    assert only_bid(sandbox).status == "new"


async def test_forged_order_button_in_russian(make_client) -> None:
    client = make_client(user_id=998, language_code="ru")
    await client.send("/start")
    forged = await client.click_data("o:open:abc:0", client.last)
    assert forged.callback_answer is not None and forged.callback_answer.text == "Заявка не найдена."


async def test_orders_list_is_paged(client: BotClient, sandbox: SandboxExchanger, services: Services) -> None:
    direction = await services.catalogue.direction("en", "102")
    for _ in range(6):
        request = OrderRequest(
            direction_id="102", amount=Decimal("10000"), side=AmountSide.GIVE, fields=order_fields(102)
        )
        await services.ordering.place(
            chat_id=client.chat.id, key=services.ordering.new_key(), direction=direction, request=request
        )
    newest = max(sandbox.bids)
    oldest = min(sandbox.bids)
    reply = await client.send("/orders")
    assert "page 1 of 2" in reply.text and f"#{newest}" in reply.text and f"#{oldest}" not in reply.text
    assert reply.last.button_labels()[-2:] == ["▶️", "⬅️ Main menu"]
    reply = await client.click("▶️")
    assert "page 2 of 2" in reply.text and f"#{oldest}" in reply.text and f"#{newest}" not in reply.text
    assert "◀️" in reply.last.button_labels() and "▶️" not in reply.last.button_labels()
    reply = await client.click("◀️")
    assert "page 1 of 2" in reply.text
    reply = await client.click_data("o:list:0:99999999999999999999", reply.last)  # forged page: the last
    assert "page 2 of 2" in reply.text


async def test_buttons_of_a_finished_conversation_are_refused(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
    old = client.last
    await client.send("/cancel")
    reply = await client.click("I receive exactly … USDT", message=old)
    assert reply.callback_answer is not None and "no longer active" in reply.callback_answer.text
    assert reply.events == []
    await client.send("/exchange")  # a new conversation: the old one's buttons stay dead
    reply = await client.click("I receive exactly … USDT", message=old)
    assert "no longer active" in (reply.callback_answer.text or "")  # type: ignore[union-attr]


async def test_typing_filters_currencies_in_any_layout(client: BotClient) -> None:
    await client.send("/exchange")
    reply = await client.send("сбер")
    assert reply.last.button_labels()[:1] == ["Sberbank RUB"]
    reply = await client.send("гыве")  # "usdt" typed on a Russian layout
    assert [b for b in reply.last.button_labels() if "USDT" in b] == [
        "Tether TRC20 USDT",
        "Tether ERC20 USDT",
    ]
    reply = await client.send("zzz")
    assert "Nothing found" in reply.text and "Bitcoin BTC" in reply.last.button_labels()


async def test_back_goes_one_step_back(client: BotClient) -> None:
    await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
    await client.send("10000")
    reply = await client.click("⬅️ Back")
    assert "Type how much" in reply.text  # from the first field back to the amount
    reply = await client.click("⬅️ Back")
    assert "What do you want to receive?" in reply.text
    reply = await client.click("⬅️ Back")
    assert "What do you give?" in reply.text


async def test_conversation_survives_a_restart(settings, bot: Bot, sandbox: SandboxExchanger) -> None:
    async with open_services(settings) as services:
        client = BotClient(build_dispatcher(services), bot)
        await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
        await client.send("10000")
        await client.send(CARD)
    async with open_services(settings) as reopened:
        again = BotClient(build_dispatcher(reopened), bot, user_id=client.user.id)
        reply = await again.send("Ivan Petrov")
        assert "TRC20 address" in reply.text  # the next field: the step and the answers survived
        await again.send(TRC20)
        await again.click(re.compile(r"^Normal\b"))
        await again.send("ivan@example.com")
        await again.click("✅ Yes")
        await again.click("✅ Confirm")
    assert only_bid(sandbox).fields["account1"] == CARD


async def test_partner_attribution_and_callback_url_reach_the_exchanger(
    tmp_path, sandbox: SandboxExchanger, bot: Bot
) -> None:
    settings = make_settings(tmp_path, sandbox.url, public_url="https://bot.example.com")
    async with open_services(settings) as services:
        client = BotClient(build_dispatcher(services), bot, user_id=4242)
        assert await services.chat_settings.attribute(client.chat.id, PE, "7", "spring")
        await fill_102(client)
        await client.click("✅ Confirm")
        bid = only_bid(sandbox)
        stored = await stored_bid(services, bid)
    assert bid.partner_id == 7
    assert stored.push_token
    assert bid.callback_url == f"https://bot.example.com/callbacks/order/{stored.push_token}"


async def test_russian_customer_sees_russian(make_client, sandbox: SandboxExchanger) -> None:
    client = make_client(user_id=321, language_code="ru")
    reply = await client.send("/exchange")
    assert "Что вы отдаёте?" in reply.text and "Сбербанк RUB" in reply.last.button_labels()
    await client.click("Сбербанк RUB")
    reply = await client.click("Тезер TRC20 USDT")
    assert "Курс:" in reply.text and "сколько RUB вы отдаёте" in reply.text
    assert "✓ Отдаю ровно … RUB" in reply.last.button_labels()


async def test_maintenance_is_explained_and_the_step_stays(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
    sandbox.maintenance = True
    reply = await client.send("10000")
    assert "closed for maintenance" in reply.text and "Maintenance" in reply.text  # the site's own word
    assert reply.last.button_labels() == ["🔄 Try again", "✖️ Cancel"]
    sandbox.maintenance = False
    reply = await client.send("10000")
    assert "From card" in reply.text


async def test_maintenance_shows_the_sites_own_text_escaped(make_client, sandbox: SandboxExchanger) -> None:
    client = make_client(user_id=654, language_code="ru")
    await choose(client, "Сбербанк RUB", "Тезер TRC20 USDT")
    sandbox.maintenance = True
    sandbox.maintenance_text = "<b>Обновляем</b> сайт до 15:00 & скоро вернёмся"
    reply = await client.send("10000")
    assert "технические работы" in reply.text and "Обменник пишет:" in reply.text
    assert "Обновляем сайт до 15:00 &amp; скоро вернёмся" in reply.text and "<b>Обновляем" not in reply.text
    sandbox.maintenance = False
    reply = await client.click("🔄 Повторить")
    assert "Курс:" in reply.text  # back on the amount step


async def test_a_closed_direction_is_explained_and_the_list_offered(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
    sandbox.closed_directions.add(102)
    reply = await client.send("10000")
    # Nothing else starts from Sberbank: the currencies again, read afresh without it.
    assert "direction is not available" in reply.text and "What do you give?" in reply.text
    assert "Sberbank RUB" not in reply.last.button_labels() and "Bitcoin BTC" in reply.last.button_labels()
    assert not sandbox.bids

    # Closed between the list and the tap: get_direction answers empty data.
    await client.send("/exchange")
    await client.click("Bitcoin BTC")
    sandbox.closed_directions.add(101)
    reply = await client.click("Sberbank RUB")
    assert "direction is not available" in reply.text and "What do you want to receive?" in reply.text
    assert "Sberbank RUB" not in reply.last.button_labels()


async def test_a_direction_closed_before_confirm_creates_nothing(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    await fill_102(client)
    sandbox.closed_directions.add(102)
    reply = await client.click("✅ Confirm")
    assert "direction is not available" in reply.text
    assert not sandbox.bids


async def test_concurrent_double_confirm_creates_exactly_one_order(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    summary = (await fill_102(client)).last
    _, confirm = client.find_button("✅ Confirm", summary)
    # Both taps are in flight at once, as polling hands them to the Dispatcher as concurrent tasks.
    await asyncio.gather(
        client.click_data(confirm.callback_data, summary), client.click_data(confirm.callback_data, summary)
    )
    only_bid(sandbox)
    cards = [m for m in client.messages if m.text.startswith("<b>Order #")]
    assert len(cards) == 1


async def _uncertain_confirm(client: BotClient, sandbox: SandboxExchanger, create_fault: str) -> None:
    await fill_102(client)
    sandbox.faults.next("create_bid", create_fault)
    for _ in range(3):  # the look-up fails too, even after the client's retries
        sandbox.faults.next("get_exchanges", "http502")
    reply = await client.click("✅ Confirm")
    assert "did not confirm your order in time" in reply.text


async def test_an_order_whose_answer_was_lost_is_found_when_the_customer_starts_again(
    client: BotClient, sandbox: SandboxExchanger, services: Services
) -> None:
    await _uncertain_confirm(client, sandbox, "disconnect")  # the order was made
    reply = await client.send("/exchange")  # the customer gives up on «Try again»
    bid = only_bid(sandbox)
    assert "Your earlier order was created after all" in reply.text and f"Order #{bid.id}" in reply.text
    assert "What do you give?" in reply.last.text
    assert await services.orders.pending_reservations(PE, chat_id=client.chat.id) == []
    assert f"#{bid.id}" in (await client.send("/orders")).text


async def test_a_refused_or_never_made_order_leaves_nothing_behind(
    client: BotClient, sandbox: SandboxExchanger, services: Services
) -> None:
    await _uncertain_confirm(client, sandbox, "http502")  # the proxy answered: no order was made
    assert len(sandbox.bids) == 0
    assert len(await services.orders.pending_reservations(PE, chat_id=client.chat.id)) == 1
    reply = await client.send("/exchange")
    assert "earlier order" not in reply.text
    # Nothing found, but a proxy's error does not prove the call never ran behind it: the key is kept
    # (never shown as an order) until the exchange can no longer commit it (tests/test_orphans.py).
    kept = await services.orders.pending_reservations(PE, chat_id=client.chat.id)
    assert len(kept) == 1
    assert "no orders yet" in (await client.send("/orders")).text

    # A refusal the exchanger states clearly drops the reservation at once.
    await fill_102(client, amount="10000")
    await client.click("✏️ Edit a field")
    await client.click("From card")
    await client.send("427638001234567892")  # a card number, but the exchanger takes only 16 digits
    await client.click("✅ Confirm")
    assert len(sandbox.bids) == 0
    pending = await services.orders.pending_reservations(PE, chat_id=client.chat.id)
    assert [o.idempotency_key for o in pending] == [kept[0].idempotency_key]


async def test_the_status_tracker_finds_an_order_whose_customer_never_came_back(
    client: BotClient, sandbox: SandboxExchanger, services: Services, bot: Bot
) -> None:
    from bot.notifications.runtime import build_notifications

    await _uncertain_confirm(client, sandbox, "disconnect")
    bid = only_bid(sandbox)
    notifications = build_notifications(services, bot)
    await notifications.tracker.poll_once()
    # A fresh reservation is left to the customer's own retry for a while (its card may be coming)...
    assert await services.orders.get_by_order_id(PE, str(bid.id)) is None
    notifications.tracker.adopt_after = 0  # ... but not for ever: the customer never came back
    assert await notifications.tracker.poll_once() >= 1  # the listing shows the order and its key
    stored = await stored_bid(services, bid)
    assert stored.chat_id == client.chat.id and stored.status_code == "new"
    await notifications.sender.drain()
    assert any(f"Order #{bid.id}" in m.text for m in client.messages if m.text.startswith("🔔"))


async def test_commands_work_in_the_middle_of_the_conversation(client: BotClient) -> None:
    await choose(client, "Sberbank RUB", "Tether TRC20 USDT")
    reply = await client.send("/orders")
    assert "no orders yet" in reply.text
    reply = await client.send("/help")
    assert "How to use this bot" in reply.text
    reply = await client.send("10000")  # the conversation is still where it was
    assert "From card" in reply.text


async def test_answers_are_not_stored_in_plaintext(client: BotClient, services: Services, settings) -> None:
    await fill_102(client)  # at the summary: every answer is in the conversation's data
    await client.click("✏️ Edit a field")
    await client.click("From card")  # the remembered card is offered too
    rows = await services.db.fetchall("SELECT data FROM fsm_state")
    stored = " ".join(str(row["data"]) for row in rows)
    assert "sealed" in stored
    for secret in (CARD, TRC20, "ivan@example.com", "Ivan Petrov"):
        assert secret not in stored
    reply = await client.send(CARD)  # and the conversation still reads them back
    assert f"From card: {CARD}" in reply.text and "E-mail: ivan@example.com" in reply.text


async def test_orders_stay_out_of_group_chats(
    make_client, sandbox: SandboxExchanger, services: Services
) -> None:
    alice = make_client(user_id=700)
    await fill_102(alice)
    await alice.click("✅ Confirm")
    bid = only_bid(sandbox)

    group = make_client(user_id=701, chat_id=-100123, chat_type="group")
    for command in ("/exchange", "/orders"):
        reply = await group.send(command)
        assert "only in a private chat" in reply.text
        assert reply.last.button_labels() == ["💬 Open a private chat"]
    reply = await group.send("/start")
    assert "💱 Exchange" in reply.last.button_labels()
    stored = await services.orders.get_by_order_id(PE, str(bid.id))
    assert stored is not None
    for data in ("m:exchange", "m:orders", f"o:cancel_yes:{stored.id}:0", "x:abcdef:g:1"):
        pressed = await group.click_data(data, group.last)
        assert (
            pressed.callback_answer is not None and "only in a private chat" in pressed.callback_answer.text
        )
        assert pressed.events == []
    assert bid.status == "new"


PARTNER_ONLY_PLATFORMS = [name for name in PLATFORMS if not platform_info(name).has_customer_flow]


@pytest.mark.parametrize("platform", PARTNER_ONLY_PLATFORMS)
async def test_a_partner_only_platform_offers_the_site_instead_of_an_exchange(
    tmp_path, bot: Bot, platform: str
) -> None:
    settings = make_settings(tmp_path, None, exchanger_platform=platform)
    async with open_services(settings) as services:
        client = BotClient(build_dispatcher(services), bot, user_id=4343)
        reply = await client.send("/start")
        assert (
            "💱 Exchange" not in reply.last.button_labels()
            and "📋 My orders" not in reply.last.button_labels()
        )
        assert "🤝 Partner cabinet" in reply.last.button_labels()
        assert services.site_url in reply.text or "🌐 Exchange on the site" in reply.last.button_labels()
        for command in ("/exchange", "/orders"):
            assert "did not understand" in (await client.send(command)).text
        for data in ("m:exchange", "m:orders", "o:open:1:0", "x:abcdef:g:1"):
            pressed = await client.click_data(data, client.last)
            assert pressed.callback_answer is not None and "no longer active" in pressed.callback_answer.text
        help_reply = await client.send("/help")
        assert "/exchange:" not in help_reply.text and "/partner" in help_reply.text


async def test_hostile_lengths_get_short_answers_and_the_step_stays(client: BotClient) -> None:
    await client.send("/exchange")
    reply = await client.send("z" * 4000)
    assert "Nothing found" in reply.text and len(reply.text) < 1000
    await client.click("Sberbank RUB")
    await client.click("Tether TRC20 USDT")
    await client.send("10000")
    reply = await client.send("4" * 3000)  # far longer than a field takes
    assert "Too long: at most 255 characters." in reply.text and "From card" in reply.text
    reply = await client.send(CARD)
    assert "Cardholder name" in reply.text


async def test_the_card_of_a_new_order_speaks_the_chats_language(
    make_client, sandbox: SandboxExchanger
) -> None:
    """The create answer carries the site's instructions and names: asked in the chat's language, so
    a Russian chat's first card is not in the site's default language."""
    client = make_client(language_code="ru")
    await choose(client, "Сбербанк RUB", "Тезер TRC20 USDT")
    await client.send("10000")
    await client.send(CARD)
    await client.send("Ivan Petrov")
    await client.send(TRC20)
    await client.click(re.compile(r"^Обычный\b"))
    await client.send("ivan@example.com")
    await client.click("✅ Да")
    card = await client.click("✅ Подтвердить")
    assert "Заявка" in card.text and "(Сбербанк)" in card.text, card.text
    assert "Sberbank" not in card.text
    only_bid(sandbox)
