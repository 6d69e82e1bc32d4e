"""Cards and lists that stay honest: status titles in the chat's language, a customer's cancellation,
"I have paid" confirmed with the payment details kept, partner status words, a way back from every
screen, the exchange's support, and deposit QR codes with payment URIs. The real Dispatcher, the
sandbox exchanger over HTTP, both languages."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from aiogram import Bot

from bot.app.dispatcher import build_dispatcher
from bot.app.wiring import Services, open_services
from bot.domain.models import OrderPhase, OrderRequest, OrderStatus, PartnerExchange
from bot.domain.payment_uri import payment_uri
from bot.notifications import build_notifications
from bot.notifications.titles import StatusTitles, fits
from bot.platforms.iexexchanger.mapping import exchange_status
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.statuses import status_of as pe_status_of
from bot.qr import qr_png
from handlers.partner.lists import exchange_row
from offline.bot_client import BotClient
from tests.conftest import make_settings
from tests.sandbox_forms import order_fields
from tests.test_notifications import FakeClock, place_order, texts
from tests.test_partner_bot import link_key

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
EN_CHAT, RU_CHAT = 7001, 7002
# Every English status title the sandbox has: none may reach a Russian chat.
ENGLISH_TITLES = (
    "Accepted, waiting to be paid",
    "Order is paid",
    "Order is on checking",
    "Refusal of payment",
)


def english_title_in(text: str) -> bool:
    return any(title in text for title in ENGLISH_TITLES)


@pytest.fixture
def en(make_client) -> BotClient:
    return make_client(user_id=EN_CHAT, language_code="en")


@pytest.fixture
def ru(make_client) -> BotClient:
    return make_client(user_id=RU_CHAT, language_code="ru")


# -- status titles in the chat's language --------------------------------------------------------------


async def test_cards_and_lists_show_titles_only_in_the_chats_language(
    en: BotClient, ru: BotClient, services: Services
) -> None:
    # Orders created without a language: the stored title is the site's default (English here).
    en_order = await place_order(services, EN_CHAT)
    ru_order = await place_order(services, RU_CHAT)
    stored = await services.orders.get(ru_order.local_id)
    assert stored is not None and stored.status_title == "Accepted, waiting to be paid"

    listed = await ru.send("/orders")
    assert "ждёт вашей оплаты" in listed.text and not english_title_in(listed.text)

    # The Russian card reads the order in Russian: its title is Russian, and the list learns it.
    card = await ru.click(f"#{ru_order.bid_id}")
    assert "Принята, ожидает оплаты" in card.text and not english_title_in(card.text)
    listed = await ru.send("/orders")
    assert "Принята, ожидает оплаты" in listed.text and not english_title_in(listed.text)

    # The English chat shares the status code "new": it never sees the Russian title.
    listed = await en.send("/orders")
    assert "waiting for your payment" in listed.text and not CYRILLIC.search(listed.text)
    card = await en.click(f"#{en_order.bid_id}")
    assert "Accepted, waiting to be paid" in card.text and not CYRILLIC.search(card.text)
    listed = await en.send("/orders")
    assert "Accepted, waiting to be paid" in listed.text and not CYRILLIC.search(listed.text)
    listed = await ru.send("/orders")
    assert not english_title_in(listed.text)


async def test_notifications_of_a_shared_status_come_in_each_chats_language(
    en: BotClient, ru: BotClient, services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    notifications = build_notifications(services, bot, clock=FakeClock())
    await services.chat_settings.set_language(RU_CHAT, "ru")
    en_order = await place_order(services, EN_CHAT)
    ru_order = await place_order(services, RU_CHAT)
    # The Russian chat looked at its order first: "new" and "payed" are known in Russian only.
    await ru.send("/orders")
    await ru.click(f"#{ru_order.bid_id}")
    for placed in (en_order, ru_order):
        sandbox.advance(placed.bid_id)  # new -> payed
    await notifications.tracker.poll_once()
    await notifications.sender.drain()
    en_note = [t for t in texts(bot, EN_CHAT) if t.startswith("🔔")]
    ru_note = [t for t in texts(bot, RU_CHAT) if t.startswith("🔔")]
    assert en_note and ru_note
    assert en_note[-1].startswith(f"🔔 Order #{en_order.bid_id}: Order is paid") and not CYRILLIC.search(
        en_note[-1]
    )
    assert ru_note[-1].startswith(f"🔔 Заявка №{ru_order.bid_id}: Оплачена") and not english_title_in(
        ru_note[-1]
    )


def test_a_title_in_the_wrong_script_is_never_learned_for_a_language() -> None:
    titles = StatusTitles()
    titles.learn("en", "new", "Принята, ожидает оплаты")  # a site without English titles answered this
    titles.learn("ru", "new", "Accepted, waiting to be paid")
    titles.learn(None, "new", "Принята")  # the platform's default: kept, but never shown to a chat
    assert titles.for_chat("en", "new") is None and titles.for_chat("ru", "new") is None
    assert titles.for_chat(None, "new") is None
    titles.learn("ru", "new", "Принята, ожидает оплаты")
    assert titles.for_chat("ru", "new") == "Принята, ожидает оплаты"
    assert fits("ru", "AML 24/7: проверка") and fits("ru", "24/7") and not fits("en", "Заявка")


# -- a customer's cancellation ---------------------------------------------------------------------------


async def test_a_cancellation_by_the_customer_reads_as_one_in_english(
    en: BotClient, services: Services, sandbox: SandboxExchanger
) -> None:
    placed = await place_order(services, EN_CHAT)
    await en.send("/orders")
    await en.click(f"#{placed.bid_id}")
    await en.click("✖️ Cancel order")
    reply = await en.click("Yes, cancel it")
    assert sandbox.bids[placed.bid_id].status == "cancel"
    assert f"You cancelled order #{placed.bid_id}" in reply.text
    assert "Status: <b>cancelled or expired</b>" in reply.text
    assert "Refusal of payment" not in reply.text and "error" not in reply.text.lower()
    # The site tidies the cancelled order away: the card and the list still say cancelled.
    sandbox.set_status(placed.bid_id, "delete")
    card = await en.click("🔄 Refresh")
    assert "deleted" not in card.text.lower() and "cancelled or expired" in card.text
    listed = await en.send("/orders")
    assert "cancelled or expired" in listed.text and "deleted" not in listed.text.lower()


async def test_a_cancellation_by_the_customer_reads_as_one_in_russian(
    ru: BotClient, services: Services, sandbox: SandboxExchanger
) -> None:
    placed = await place_order(services, RU_CHAT)
    await ru.send("/orders")
    await ru.click(f"#{placed.bid_id}")
    await ru.click("✖️ Отменить заявку")
    reply = await ru.click("Да, отменить")
    assert sandbox.bids[placed.bid_id].status == "cancel"
    assert f"Вы отменили заявку #{placed.bid_id}" in reply.text
    assert "отменена или просрочена" in reply.text
    assert "Отказ от оплаты" not in reply.text and "Ошибка" not in reply.text


async def test_a_deleted_order_after_a_cancel_is_no_news(
    services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    notifications = build_notifications(services, bot, clock=FakeClock())
    placed = await place_order(services, EN_CHAT)
    sandbox.set_status(placed.bid_id, "cancel")
    await notifications.tracker.poll_once()
    await notifications.sender.drain()
    sandbox.set_status(placed.bid_id, "delete")
    await notifications.tracker.poll_once()
    await notifications.sender.drain()
    news = [t for t in texts(bot, EN_CHAT) if t.startswith("🔔")]
    assert len(news) == 1 and "cancelled or expired" in news[0] and "deleted" not in news[0].lower()


# -- "I have paid" ---------------------------------------------------------------------------------------


async def place_btc(services: Services, chat_id: int) -> int:
    """A Bitcoin BTC -> card order (direction 101: a deposit address), as Confirm creates it; its bid id."""
    placer = services.ordering
    direction = await services.platform.customer().direction("101")
    request = OrderRequest(direction_id="101", amount=Decimal("0.01"), fields=order_fields(101))
    placed = await placer.place(chat_id=chat_id, key=placer.new_key(), direction=direction, request=request)
    return int(placed.order.id)


async def test_i_have_paid_asks_first_and_the_card_keeps_the_payment_details(
    client: BotClient, services: Services, sandbox: SandboxExchanger
) -> None:
    bid = sandbox.bids[await place_btc(services, client.chat.id)]
    await client.send("/orders")
    await client.click(f"#{bid.id}")
    question = await client.click("✅ I have paid")
    assert bid.status == "new"  # nothing is marked paid before the customer confirms
    assert "Have you sent the payment" in question.text and f"<code>{bid.address}</code>" in question.text
    assert question.last.button_labels() == ["Yes, I have paid", "No, not yet"]

    card = await client.click("No, not yet")
    assert bid.status == "new" and "✅ I have paid" in card.last.button_labels()

    await client.click("✅ I have paid")
    card = await client.click("Yes, I have paid")
    assert bid.status == "payed"
    assert "Thank you!" in card.text
    assert "Your payment, as the order asked for it" in card.text
    assert f"<code>{bid.address}</code>" in card.text and "<code>0.01</code>" in card.text
    assert card.last.button_labels() == ["🔄 Refresh", "📋 My orders"]
    # Refreshed and reopened from the list, the details stay until the order is done.
    card = await client.click("🔄 Refresh")
    assert f"<code>{bid.address}</code>" in card.text
    sandbox.advance(bid.id)
    await client.send("/orders")
    opened = await client.click(f"#{bid.id}")
    assert f"<code>{bid.address}</code>" in opened.text
    while bid.status not in ("success", "error", "cancel"):
        sandbox.advance(bid.id)
    card = await client.click("🔄 Refresh")
    assert bid.address not in card.text


async def test_i_have_paid_in_russian(ru: BotClient, services: Services, sandbox: SandboxExchanger) -> None:
    placed = await place_order(services, RU_CHAT)
    await ru.send("/orders")
    await ru.click(f"#{placed.bid_id}")
    question = await ru.click("✅ Я оплатил")
    assert "Вы отправили оплату по заявке" in question.text
    assert question.last.button_labels() == ["Да, я оплатил(а)", "Нет, ещё нет"]
    card = await ru.click("Да, я оплатил(а)")
    assert sandbox.bids[placed.bid_id].status == "payed"
    assert "Спасибо!" in card.text and not english_title_in(card.text)


# -- partner status words --------------------------------------------------------------------------------


def partner_row(services: Services, status: OrderStatus, locale: str) -> str:
    i18n = services.i18n
    with i18n.context(), i18n.use_locale(locale):
        return exchange_row(PartnerExchange(id="1", time=1_700_000_000, status=status))


@pytest.mark.parametrize("code", ["cancel", "verify", "success", "pending", "some_new_word"])
@pytest.mark.parametrize("status_of", [exchange_status, pe_status_of], ids=["iex", "premiumexchanger"])
async def test_partner_rows_show_status_words_not_codes(services: Services, code: str, status_of) -> None:
    for locale in ("en", "ru"):
        status_part = partner_row(services, status_of(code), locale).split("\n")[0].split(" · ")[-1]
        assert not re.search(rf"\b{code}\b", status_part), status_part
    assert "cancelled" in partner_row(services, exchange_status("cancel"), "en")
    assert "отмен" in partner_row(services, exchange_status("cancel"), "ru")


async def test_a_titled_partner_status_that_repeats_its_code_shows_words(services: Services) -> None:
    status = OrderStatus(code="verify", phase=OrderPhase.PROCESSING, title="verify")
    row = partner_row(services, status, "en")
    assert "in progress" in row and "verify" not in row


# -- a way back ------------------------------------------------------------------------------------------


async def test_search_results_of_currencies_have_a_way_back(client: BotClient) -> None:
    await client.send("/exchange")
    found = await client.send("сбер")
    assert "⬅️ Back" in found.last.button_labels()
    reply = await client.click("⬅️ Back")
    assert "What do you give?" in reply.text and "Bitcoin BTC" in reply.last.button_labels()


async def test_search_results_in_russian_have_a_way_back(ru: BotClient) -> None:
    await ru.send("/exchange")
    found = await ru.send("btc")
    assert "⬅️ Назад" in found.last.button_labels()


async def test_date_entry_in_partner_statistics_has_a_way_back(make_client) -> None:
    for user_id, language, back, dates in (
        (700101, "en", "⬅️ Back", "📅 Dates…"),
        (700102, "ru", "⬅️ Назад", None),
    ):
        partner = make_client(user_id=user_id, language_code=language)
        await link_key(partner)
        stats = await partner.send("/stats")
        dates_label = dates or next(label for label in stats.last.button_labels() if label.startswith("📅"))
        prompt = await partner.click(dates_label)
        assert back in prompt.last.button_labels()
        wrong = await partner.send("no dates here")
        assert back in wrong.last.button_labels()  # the step stays, and so does the way back
        again = await partner.click(back)
        assert dates_label in again.last.button_labels()  # the statistics screen again
        # Back left the date entry: text is no longer read as dates.
        assert "could not read" not in (await partner.send("no dates here")).text


async def test_after_logout_there_is_a_way_on(make_client) -> None:
    for user_id, language, menu in ((700201, "en", "⬅️ Main menu"), (700202, "ru", "⬅️ Главное меню")):
        partner = make_client(user_id=user_id, language_code=language)
        await link_key(partner)
        await partner.send("/logout")
        reply = await partner.click(re.compile("^🚪"))
        assert len(reply.last.button_labels()) == 2 and menu in reply.last.button_labels()
        nothing = await partner.send("/logout")  # nothing linked any more
        assert menu in nothing.last.button_labels()
        home = await partner.click(menu)
        assert home.last.button_labels()  # the main menu


# -- the exchange's support ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "url"),
    [("@exchange_help", "https://t.me/exchange_help"), ("https://help.example.com/chat", None)],
)
async def test_help_and_menu_show_the_support_contact(tmp_path, sandbox, bot, contact: str, url) -> None:
    settings = make_settings(tmp_path, sandbox.url, support_contact=contact)
    async with open_services(settings) as services:
        dp = build_dispatcher(services)
        for user_id, language, words in ((1, "en", "support"), (2, "ru", "Поддержка")):
            client = BotClient(dp, bot, user_id=user_id, language_code=language)
            help_reply = await client.send("/help")
            assert contact in help_reply.text and words in help_reply.text
            label = "💬 Support" if language == "en" else "💬 Поддержка"
            _, button = client.find_button(label, help_reply.last)
            assert button.url == (url or contact)
            menu = await client.send("/start")
            _, button = client.find_button(label, menu.last)
            assert button.url == (url or contact)


async def test_support_is_hidden_when_unset(client: BotClient) -> None:
    help_reply = await client.send("/help")
    assert "support:" not in help_reply.text and "💬 Support" not in help_reply.last.button_labels()
    menu = await client.send("/start")
    assert "💬 Support" not in menu.last.button_labels()


# -- deposit QR codes ------------------------------------------------------------------------------------


async def test_a_bitcoin_deposit_qr_holds_the_payment_uri(
    client: BotClient, ru: BotClient, services: Services, sandbox: SandboxExchanger
) -> None:
    for customer in (client, ru):
        bid = sandbox.bids[await place_btc(services, customer.chat.id)]
        await customer.send("/orders")
        reply = await customer.click(f"#{bid.id}")
        photo = reply.sent[0]
        assert photo.file is not None
        assert photo.file.content == qr_png(f"bitcoin:{bid.address}?amount=0.01")


ADDRESS_ETH = "0x" + "ab" * 20
TON = "EQ" + "A" * 46


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"currency": "BTC", "amount": Decimal("0.0100")}, "bitcoin:{a}?amount=0.01"),
        ({"currency": "BTC", "network": "Bitcoin", "amount": Decimal("1E+1")}, "bitcoin:{a}?amount=10"),
        ({"currency": "LTC", "amount": Decimal("2.5")}, "litecoin:{a}?amount=2.5"),
        ({"currency": "DOGE"}, "dogecoin:{a}"),
        ({"currency": "XRP", "amount": Decimal(5), "tag": "123"}, "{a}"),  # no URI with a tag here
        ({"currency": "USDTTRC20", "network": "TRC20", "amount": Decimal(10)}, "{a}"),
        ({"currency": "BTC", "network": "BEP20", "amount": Decimal(1)}, "{a}"),  # not its own chain
        # Each coin's precision: more digits than it has is no URI (BIP21 wallets refuse it).
        ({"currency": "BTC", "amount": Decimal("0.12345678")}, "bitcoin:{a}?amount=0.12345678"),
        ({"currency": "BTC", "amount": Decimal("0.123456789")}, "{a}"),
        ({"currency": "DOGE", "amount": Decimal("1.000000001")}, "{a}"),
        ({"currency": "XMR", "amount": Decimal("0.123456789012")}, "monero:{a}?tx_amount=0.123456789012"),
        ({"currency": "XMR", "amount": Decimal("0.1234567890123")}, "{a}"),
    ],
)
def test_payment_uris_for_bitcoin_like_coins(kwargs: dict, expected: str) -> None:
    address = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
    assert payment_uri(address, **kwargs) == expected.format(a=address)


def test_payment_uris_for_ether_and_ton() -> None:
    assert payment_uri(ADDRESS_ETH, currency="ETH", network="Ethereum", amount=Decimal("0.01")) == (
        f"ethereum:{ADDRESS_ETH}?value=10000000000000000"
    )
    # A token on Ethereum is never an ether transfer: the plain address.
    assert payment_uri(ADDRESS_ETH, currency="USDT", network="ERC20", amount=Decimal(5)) == ADDRESS_ETH
    assert payment_uri(ADDRESS_ETH, currency="ETH", network="Arbitrum", amount=Decimal(1)) == ADDRESS_ETH
    assert payment_uri(TON, currency="TON", network="TON", amount=Decimal("1.5"), tag="order 42") == (
        f"ton://transfer/{TON}?amount=1500000000&text=order%2042"
    )
    # More digits than the coin has: no amount is rounded into a wallet.
    assert payment_uri(TON, currency="TON", amount=Decimal("0.0000000001")) == TON
    assert payment_uri("bad address<>", currency="BTC") == "bad address<>"


async def test_the_card_sent_at_creation_keeps_its_payment_details_sealed_with_the_order(
    client: BotClient, services: Services, sandbox: SandboxExchanger
) -> None:
    from tests.test_exchange_flow import fill_102

    await fill_102(client)
    card = await client.click("✅ Confirm")
    assert "<b>How to pay</b>" in card.text and "<code>10000</code>" in card.text
    [bid] = sandbox.bids.values()
    stored = await services.orders.get_by_order_id("premiumexchanger", str(bid.id))
    assert stored is not None
    row = await services.db.fetchone("SELECT payment_ciphertext FROM orders WHERE id = ?", (stored.id,))
    assert row["payment_ciphertext"] and b"10000" not in bytes(row["payment_ciphertext"])  # encrypted
    kept = await services.orders.kept_payment(stored.id)
    assert kept is not None and kept.amount == Decimal("10000") and not kept.instruction

    # "I have paid" straight from the card made at creation: the exchange stops showing the details,
    # the card keeps them (never opened from /orders in between).
    await client.click("✅ I have paid", card.last)
    paid = await client.click("Yes, I have paid")
    assert bid.status == "payed" and "<b>How to pay</b>" not in paid.text
    assert "Your payment, as the order asked for it" in paid.text and "<code>10000</code>" in paid.text

    while bid.status not in ("success", "error", "cancel"):
        sandbox.advance(bid.id)
    done = await client.click("🔄 Refresh")
    assert "Your payment, as the order asked for it" not in done.text
    assert await services.orders.kept_payment(stored.id) is None  # forgotten once the order is done
