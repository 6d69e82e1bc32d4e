"""Order forms that catch mistakes as they are typed: the real Dispatcher, the sandbox exchangers over
HTTP, in English and Russian."""

from __future__ import annotations

import re

import pytest
from aiogram import Bot
from aiogram.methods import SendMessage
from aiogram.types import ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.app.wiring import Services
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from offline.bot_client import BotClient, Reply

CARD = "4276380012345679"  # passes the Luhn check
TRON = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"
BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"

EN = {
    "give": "Sberbank RUB",
    "get": "Tether TRC20 USDT",
    "card": "From card",
    "holder": "Cardholder name",
    "luhn": "its check digit does not match",
    "length": "has 12 to 19 digits, this one has 5",
    "digits": "made of digits only",
    "not_tron": "«TRC20 address»: this is not a TRC20 address",
    "typo": "«TRC20 address»: this looks like a TRC20 address but has a typo",
    "email": "This is not an e-mail address",
    "yes": "✅ Yes",
    "no": "❌ No",
    "must_tick": "this box must be ticked",
    "summary": "Please check your order",
}
RU = {
    "give": "Сбербанк RUB",
    "get": "Тезер TRC20 USDT",
    "card": "С карты",
    "holder": "Имя держателя карты",
    "luhn": "не сходится контрольная цифра",
    "length": "от 12 до 19 цифр, а здесь 5",
    "digits": "только из цифр",
    "not_tron": "«Адрес TRC20»: это не адрес сети TRC20",
    "typo": "«Адрес TRC20»: похоже на адрес сети TRC20, но в нём опечатка",
    "email": "Это не адрес e-mail",
    "yes": "✅ Да",
    "no": "❌ Нет",
    "must_tick": "нужно отметить",
    "summary": "Проверьте заявку",
}
LANGUAGES = pytest.mark.parametrize(("language", "words"), [("en", EN), ("ru", RU)], ids=["en", "ru"])


def shown_for(session_requests: list, start: int) -> list:
    return [m for m in session_requests[start:] if isinstance(m, SendMessage)]


async def to_first_field(client: BotClient, words: dict[str, str], amount: str = "10000") -> Reply:
    await client.send("/exchange")
    await client.click(words["give"])
    await client.click(words["get"])
    return await client.send(amount)


@LANGUAGES
async def test_every_field_of_a_form_is_checked_as_it_is_typed(
    make_client, sandbox: SandboxExchanger, language: str, words: dict[str, str]
) -> None:
    client = make_client(user_id=4100 + len(language), language_code=language)
    reply = await to_first_field(client, words)
    assert words["card"] in reply.text

    reply = await client.send("4276 3800 1234 5678")  # one digit off
    assert words["luhn"] in reply.text
    assert words["card"] in reply.text  # the step stays
    reply = await client.send("12345")
    assert words["length"] in reply.text
    reply = await client.send("4276 38OO 1234 5679")  # letters O for zeros
    assert words["digits"] in reply.text
    reply = await client.send("4276-3800-1234-5679")  # separators people type are fine
    assert words["holder"] in reply.text

    await client.send("Ivan Petrov")
    reply = await client.send(BTC)  # a Bitcoin address where a Tron one belongs
    assert words["not_tron"] in reply.text
    reply = await client.send("T" + "9" * 33)  # the shape of a Tron address, a wrong checksum
    assert words["typo"] in reply.text
    reply = await client.send(TRON)
    options = [label.split(" · ")[0] for label in reply.last.button_labels()]  # a price may follow
    assert options[:2] == (["Обычный", "Быстрый"] if language == "ru" else ["Normal", "Fast"])
    await client.click(re.compile(r"^(Normal|Обычный)\b"))

    reply = await client.send("ivan@example")
    assert words["email"] in reply.text
    reply = await client.send("ivan@example.com")
    labels = reply.last.button_labels()
    assert words["yes"] in labels and words["no"] in labels
    assert "No" not in labels  # the old untranslated label

    reply = await client.click(words["no"])  # a required box
    assert words["must_tick"] in reply.text
    reply = await client.click(words["yes"])
    assert words["summary"] in reply.text and CARD in reply.text and TRON in reply.text
    assert ("Согласие: Да" if language == "ru" else "Agree: Yes") in reply.text
    await client.click("✅ Подтвердить" if language == "ru" else "✅ Confirm")
    (bid,) = sandbox.bids.values()
    assert bid.fields["account1"] == CARD and bid.fields["account2"] == TRON


@LANGUAGES
async def test_every_field_the_exchange_refused_is_shown_at_once_then_fixed_one_by_one(
    make_client, sandbox: SandboxExchanger, services: Services, language: str, words: dict[str, str]
) -> None:
    """Tinkoff → Payeer: an 18-digit card number and a Payeer account are fine here, but the
    exchange takes 16 digits and P + 7..12 digits."""
    client = make_client(user_id=4200 + len(language), language_code=language)
    await client.send("/exchange")
    await client.click("Тинькофф RUB" if language == "ru" else "Tinkoff RUB")
    await client.click("Пайер USD" if language == "ru" else "Payeer USD")
    await client.send("10000")
    await client.send("427638001234567892")
    await client.send("P12")
    skip = "⏭ Пропустить" if language == "ru" else "⏭ Skip"
    await client.click(skip)  # Telegram
    reply = await client.click(skip)  # how did you find us
    assert words["summary"] in reply.text

    reply = await client.click("✅ Подтвердить" if language == "ru" else "✅ Confirm")
    assert not sandbox.bids
    listed = reply.last.text
    heading = "Обменник не принял" if language == "ru" else "The exchange did not accept these answers"
    assert heading in listed
    # Both refusals at once, each with the exchange's reason, before the first is asked again.
    assert words["card"] in listed and ("Счёт Payeer" if language == "ru" else "Payeer account") in listed
    assert "P1234567" in listed  # the exchange's own reason for the Payeer account
    assert listed.count("•") == 2
    assert "↩️" not in " ".join(reply.last.button_labels())  # the refused value is not offered back

    reply = await client.send(CARD)
    # Next: only the other refused field, not the optional ones in between.
    assert ("Счёт Payeer" if language == "ru" else "Payeer account") in reply.text
    assert "Telegram" not in reply.text.split("\n")[0]
    reply = await client.send("P1234567")
    assert words["summary"] in reply.text
    await client.click("✅ Подтвердить" if language == "ru" else "✅ Confirm")
    (bid,) = sandbox.bids.values()
    assert bid.fields["account1"] == CARD and bid.fields["account2"] == "P1234567"

    # What the exchange refused was never kept; what it took is offered next time.
    await client.send("/exchange")
    await client.click("Тинькофф RUB" if language == "ru" else "Tinkoff RUB")
    await client.click("Пайер USD" if language == "ru" else "Payeer USD")
    reply = await client.send("10000")
    offers = [label for label in reply.last.button_labels() if label.startswith("↩️")]
    assert offers == [f"↩️ {CARD}"]


async def test_a_card_the_exchange_refused_is_not_offered(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    async def to_card(give: str = "Tinkoff RUB") -> Reply:
        await client.send("/exchange")
        await client.click(give)
        await client.click("Payeer USD")
        return await client.send("10000")

    long_card = "427638001234567892"
    await to_card()
    await client.send(CARD)
    await client.send("P1234567")
    await client.click("⏭ Skip")
    await client.click("⏭ Skip")
    await client.click("✅ Confirm")
    assert len(sandbox.bids) == 1
    reply = await to_card()
    assert f"↩️ {CARD}" in reply.last.button_labels()

    # A card the exchange refuses is neither remembered nor offered back.
    await client.send(long_card)
    await client.send("P1234567")
    await client.click("⏭ Skip")
    await client.click("⏭ Skip")
    reply = await client.click("✅ Confirm")
    assert len(sandbox.bids) == 1
    assert f"↩️ {long_card}" not in reply.last.button_labels()
    assert f"↩️ {CARD}" in reply.last.button_labels()  # the card that worked still is


async def test_remembered_answers_are_kept_by_what_they_are_not_by_field_name(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    """"account2" is a Tron address on one direction and a card on another: neither is offered in
    the other's place. The card given on one direction is offered where a RUB card is asked."""
    await client.send("/exchange")
    await client.click("Sberbank RUB")
    await client.click("Tether TRC20 USDT")
    await client.send("10000")
    await client.send(CARD)
    await client.send("Ivan Petrov")
    await client.send(TRON)
    await client.click(re.compile(r"^Normal\b"))
    await client.send("ivan@example.com")
    await client.click("✅ Yes")
    await client.click("✅ Confirm")
    assert len(sandbox.bids) == 1

    # Tether TRC20 → Sberbank: "account2" is now the card to receive on.
    await client.send("/exchange")
    await client.click("Tether TRC20 USDT")
    await client.click("Sberbank RUB")
    reply = await client.send("100")
    offers = [label for label in reply.last.button_labels() if label.startswith("↩️")]
    assert offers == [f"↩️ {CARD}"]  # the card from "account1", not the address from "account2"


async def test_phone_is_shared_from_the_account_in_one_tap(
    client: BotClient, bot: Bot, sandbox: SandboxExchanger
) -> None:
    """Tinkoff → Bitcoin asks for an optional phone: Telegram's contact button is offered; only the
    customer's own contact is taken; the keyboard is closed afterwards."""
    await client.send("/exchange")
    await client.click("Tinkoff RUB")
    await client.click("Bitcoin BTC")
    await client.send("58000")
    for answer in (CARD, "IVAN PETROV", BTC):
        await client.send(answer)
    await client.click(re.compile(r"^Normal\b"))
    await client.send("Ivan")
    start = len(bot.session.requests)
    reply = await client.send("Petrov")
    assert "Phone" in reply.text
    sent = shown_for(bot.session.requests, start)
    keyboards = [m.reply_markup for m in sent if isinstance(m.reply_markup, ReplyKeyboardMarkup)]
    assert len(keyboards) == 1
    (button,) = [b for row in keyboards[0].keyboard for b in row]
    assert button.request_contact is True and button.text == "📱 Share my phone number"

    reply = await client.send("12")
    assert "Not a phone number" in reply.text and "Phone" in reply.text
    reply = await client.send_contact("+44 7700 900123", user_id=client.user.id + 1)  # someone else's
    assert "share your own phone number" in reply.text

    start = len(bot.session.requests)
    reply = await client.send_contact("447700900123")
    assert "I agree to the AML/KYC rules" in reply.text  # on to the next field
    sent = shown_for(bot.session.requests, start)
    assert any(isinstance(m.reply_markup, ReplyKeyboardRemove) for m in sent)
    reply = await client.click("✅ Yes")
    assert "Phone: +447700900123" in reply.text
    await client.click("✅ Confirm")
    (bid,) = sandbox.bids.values()
    assert bid.fields["cf4"] == "+447700900123"


async def test_phone_keyboard_is_closed_when_the_customer_goes_back(client: BotClient, bot: Bot) -> None:
    await client.send("/exchange")
    await client.click("Tinkoff RUB")
    await client.click("Bitcoin BTC")
    await client.send("58000")
    for answer in (CARD, "IVAN PETROV", BTC):
        await client.send(answer)
    await client.click(re.compile(r"^Normal\b"))
    await client.send("Ivan")
    await client.send("Petrov")
    start = len(bot.session.requests)
    reply = await client.click("⬅️ Back")
    assert "Last name" in reply.text
    sent = shown_for(bot.session.requests, start)
    assert any(isinstance(m.reply_markup, ReplyKeyboardRemove) for m in sent)


@LANGUAGES
async def test_telegram_username_is_offered_from_the_account(
    make_client, sandbox: SandboxExchanger, language: str, words: dict[str, str]
) -> None:
    """Bitcoin → Sberbank asks for an optional Telegram username."""
    client = make_client(user_id=4300 + len(language), language_code=language, username="alice_tg")
    await client.send("/exchange")
    await client.click("Биткоин BTC" if language == "ru" else "Bitcoin BTC")
    await client.click(words["give"])
    await client.send("0,01" if language == "ru" else "0.01")
    await client.send(CARD)
    await client.send("Ivan Petrov")
    reply = await client.send("ivan@example.com")
    own = "Указать @alice_tg" if language == "ru" else "Use @alice_tg"
    assert own in reply.last.button_labels()
    reply = await client.send("@a")  # too short for a username
    assert ("имя пользователя Telegram" if language == "ru" else "not a Telegram username") in reply.text
    reply = await client.click(own)
    assert words["summary"] in reply.text and "Telegram: @alice_tg" in reply.text
    await client.click("✅ Подтвердить" if language == "ru" else "✅ Confirm")
    (bid,) = sandbox.bids.values()
    assert bid.fields["cf11"] == "@alice_tg"

    # Next time the same username is offered once, and the e-mail is remembered.
    await client.send("/exchange")
    await client.click("Биткоин BTC" if language == "ru" else "Bitcoin BTC")
    await client.click(words["give"])
    await client.send("0,01" if language == "ru" else "0.01")
    await client.click(f"↩️ {CARD}")
    await client.send("Ivan Petrov")
    reply = await client.click("↩️ ivan@example.com")
    labels = reply.last.button_labels()
    assert own in labels and "↩️ @alice_tg" not in labels


async def test_no_username_no_button(make_client, sandbox: SandboxExchanger) -> None:
    client = make_client(user_id=4400)  # no username
    await client.send("/exchange")
    await client.click("Bitcoin BTC")
    await client.click("Sberbank RUB")
    await client.send("0.01")
    await client.send(CARD)
    await client.send("Ivan Petrov")
    reply = await client.send("ivan@example.com")
    assert not any(label.startswith("Use @") for label in reply.last.button_labels())
    reply = await client.send("t.me/alice_tg")  # a link to the profile is read as the username
    assert "Telegram: @alice_tg" in reply.text


async def to_phone_field(client: BotClient) -> Reply:
    """Tinkoff → Bitcoin up to its optional phone field (Telegram's contact keyboard open)."""
    await client.send("/exchange")
    await client.click("Tinkoff RUB")
    await client.click("Bitcoin BTC")
    await client.send("58000")
    for answer in (CARD, "IVAN PETROV", BTC):
        await client.send(answer)
    await client.click(re.compile(r"^Normal\b"))
    await client.send("Ivan")
    return await client.send("Petrov")


def markups(bot: Bot, start: int, kind: type) -> list:
    return [m for m in shown_for(bot.session.requests, start) if isinstance(m.reply_markup, kind)]


@pytest.mark.parametrize("how", ["cancel button", "/cancel", "/start"])
async def test_phone_keyboard_is_removed_when_the_exchange_is_left(
    client: BotClient, bot: Bot, how: str
) -> None:
    start = len(bot.session.requests)
    reply = await to_phone_field(client)
    assert "Phone" in reply.text
    assert markups(bot, start, ReplyKeyboardMarkup)
    start = len(bot.session.requests)
    if how == "/start":
        reply = await client.send("/start")
    else:
        await (client.click("✖️ Cancel") if how == "cancel button" else client.send("/cancel"))
        reply = await client.click("Yes, cancel it")
        assert "Cancelled. Here is the main menu:" in reply.text
    removed = markups(bot, start, ReplyKeyboardRemove)
    assert len(removed) == 1 and removed[0].text == "⌨️ Keyboard closed."
    # Removed once: a later /cancel has no keyboard left to remove.
    start = len(bot.session.requests)
    await client.send("/cancel")
    assert not markups(bot, start, ReplyKeyboardRemove)


async def test_a_group_chat_is_never_offered_the_phone_keyboard(make_client, bot: Bot) -> None:
    """Telegram's request_contact button works in private chats only; orders are private anyway."""
    group = make_client(user_id=4401, chat_id=-100440, chat_type="group")
    start = len(bot.session.requests)
    reply = await group.send("/exchange")
    assert "What do you give?" not in reply.text
    assert not markups(bot, start, ReplyKeyboardMarkup)
