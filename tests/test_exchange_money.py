"""Money the customer can trust, in English and Russian, through the real Dispatcher and the sandbox
exchangers over HTTP: prices on price-changing options, amounts that mean what was typed, fees once,
the reserve respected, ambiguous amounts asked about, refused directions and Cancel that asks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import pytest
from aiogram import Bot

from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import Services, open_services
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
from bot.platforms.zerotrace.sandbox.keys import DEMO as ZT_DEMO
from offline.bot_client import BotClient, Reply
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession
from tests.conftest import make_settings

CARD = "4276380012345679"
TRC20 = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
USDT = 3  # the sandbox's Tether TRC20 currency id

EN = {
    "sber": "Sberbank RUB",
    "trc20": "Tether TRC20 USDT",
    "tinkoff": "Tinkoff RUB",
    "btc": "Bitcoin BTC",
    "send": "I send exactly … {code}",
    "receive": "I receive exactly … {code}",
    "gives": "You give: <b>{amount}</b>",
    "receives": "You receive: <b>{amount}</b>",
    "fees": "💸 Fees, already counted above: {fees}",
    "normal": "Normal",
    "fast": "Fast",
    "yes": "✅ Yes",
    "summary": "Please check your order",
    "reserve": "can pay at most {amount} right now",
    "take": "✅ Receive {amount}",
    "which": "Which amount did you mean",
    "refused": "does not take orders in this direction through the bot",
    "gone": "direction is not available",
    "cancel": "✖️ Cancel",
    "discard?": "Cancel this exchange?",
    "discard": "Yes, cancel it",
    "keep": "No, continue",
    "menu": "Cancelled. Here is the main menu:",
    "option": "{option}: you receive {amount}",
    "less": "({amount} less)",
}
RU = {
    "sber": "Сбербанк RUB",
    "trc20": "Тезер TRC20 USDT",
    "tinkoff": "Тинькофф RUB",
    "btc": "Биткоин BTC",
    "send": "Отдаю ровно … {code}",
    "receive": "Получаю ровно … {code}",
    "gives": "Вы отдаёте: <b>{amount}</b>",
    "receives": "Вы получаете: <b>{amount}</b>",
    "fees": "💸 Комиссии, уже учтённые выше: {fees}",
    "normal": "Обычный",
    "fast": "Быстрый",
    "yes": "✅ Да",
    "summary": "Проверьте заявку",
    "reserve": "может выплатить не больше {amount}",
    "take": "✅ Получить {amount}",
    "which": "Какую сумму вы имели в виду",
    "refused": "не принимает заявки по этому направлению через бота",
    "gone": "направление обмена сейчас недоступно",
    "cancel": "✖️ Отмена",
    "discard?": "Отменить обмен?",
    "discard": "Да, отменить",
    "keep": "Нет, продолжить",
    "menu": "Отменено. Главное меню:",
    "option": "{option}: вы получите {amount}",
    "less": "(на {amount} меньше)",
}
LANGS = [pytest.param("en", EN, id="en"), pytest.param("ru", RU, id="ru")]


def money(lang: str, amount: str, code: str) -> str:
    """An amount as the bot shows it in ``lang``: en ``10,000.00 RUB``, ru ``10 000,00 RUB``."""
    whole, _, fraction = amount.partition(".")
    groups = f"{int(whole):,}"
    if lang == "ru":
        text = groups.replace(",", "\xa0") + ("," + fraction if fraction else "")
    else:
        text = groups + ("." + fraction if fraction else "")
    return f"{text}\xa0{code}"


def plain(text: str) -> str:
    return text.replace("\u202f", "\xa0")


@pytest.fixture
def talk(make_client: Callable[..., BotClient]) -> Callable[[str], BotClient]:
    users = iter(range(500_001, 500_100))

    def factory(lang: str) -> BotClient:
        return make_client(user_id=next(users), language_code=lang)

    return factory


async def choose(client: BotClient, give: str, get: str) -> Reply:
    await client.send("/exchange")
    await client.click(give)
    return await client.click(get)


async def to_priority(client: BotClient, t: dict[str, str], amount: str = "10000") -> Reply:
    """102 Sberbank RUB -> TRC20 up to its price-changing select (Normal +0, Fast +2 USDT)."""
    await choose(client, t["sber"], t["trc20"])
    await client.send(amount)
    await client.send(CARD)
    await client.send("Ivan Petrov")
    return await client.send(TRC20)


# -- price-changing choices ------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_each_price_option_shows_what_the_customer_receives_with_it(
    talk: Callable[[str], BotClient], sandbox: SandboxExchanger, lang: str, t: dict[str, str]
) -> None:
    client = talk(lang)
    reply = await to_priority(client, t)
    normal, fast = money(lang, "104.26", "USDT"), money(lang, "102.26", "USDT")
    assert reply.last.button_labels()[:2] == [f"{t['normal']} · {normal}", f"{t['fast']} · {fast}"]
    text = plain(reply.text)
    assert t["option"].format(option=t["normal"], amount=normal) in text
    fast_line = t["option"].format(option=t["fast"], amount=fast)
    assert f"{fast_line} {t['less'].format(amount=money(lang, '2.00', 'USDT'))}" in text

    # Back and forth within a short while reads the option prices from the cache.
    calls = sandbox.requests["get_calc"]
    await client.click(re.compile(r"^⬅️"))
    await client.send(TRC20)
    assert sandbox.requests["get_calc"] == calls

    await client.click(re.compile(rf"^{t['fast']} · "))
    await client.send("ivan@example.com")
    summary = plain((await client.click(t["yes"])).text)
    assert t["summary"] in summary
    # What the button said is what the summary says, and the fee line adds the 2 USDT.
    assert t["receives"].format(amount=fast) in summary
    assert t["fees"].format(fees=money(lang, "3.00", "USDT")) in summary


# -- what you typed is what you give ---------------------------------------------------------------


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_typed_amount_is_exactly_what_is_sent_and_each_fee_is_shown_once(
    talk: Callable[[str], BotClient], lang: str, t: dict[str, str]
) -> None:
    client = talk(lang)
    # Tinkoff -> BTC: 1 % on the RUB side and 0.0002 BTC on the BTC side; the platform quotes four
    # meanings, of which two differ for the customer.
    card = await choose(client, t["tinkoff"], t["btc"])
    assert card.last.button_labels()[:3] == [
        "✓ " + t["send"].format(code="RUB"),
        t["receive"].format(code="BTC"),
        "⬅️ " + ("Back" if lang == "en" else "Назад"),
    ]
    fee_lines = [line for line in plain(card.text).splitlines() if line.startswith("💸")]
    assert len(fee_lines) == 2 and "RUB" in fee_lines[0] and "BTC" in fee_lines[1], fee_lines

    quote = plain((await client.send("100000")).text)
    assert t["gives"].format(amount=money(lang, "100000.00", "RUB")) in quote
    fees = f"{money(lang, '990.10', 'RUB')}, {money(lang, '0.0002', 'BTC')}"
    assert t["fees"].format(fees=fees) in quote
    assert quote.count("💸") == 1


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_the_order_sends_what_was_typed_on_either_side(
    talk: Callable[[str], BotClient], sandbox: SandboxExchanger, lang: str, t: dict[str, str]
) -> None:
    client = talk(lang)
    # TRC20 -> Sberbank, 0.5 % on the USDT side: "I send exactly 100 USDT".
    await choose(client, t["trc20"], t["sber"])
    quote = plain((await client.send("100")).text)
    assert t["gives"].format(amount=money(lang, "100.00", "USDT")) in quote
    assert t["fees"].format(fees=money(lang, "0.50", "USDT")) in quote
    await client.send(CARD)
    await client.click(re.compile("MIR|МИР"))
    await client.click(re.compile("Skip|Пропустить"))
    await client.click(re.compile("Confirm|Подтвердить"))
    (bid,) = sandbox.bids.values()
    assert bid.amount_give == Decimal("100")  # what the customer pays, fees included

    # Sberbank -> TRC20, 1 USDT taken on the USDT side: "I want to receive exactly 100 USDT".
    await choose(client, t["sber"], t["trc20"])
    await client.click(t["receive"].format(code="USDT"))
    quote = plain((await client.send("100")).text)
    assert t["receives"].format(amount=money(lang, "100.00", "USDT")) in quote
    assert t["fees"].format(fees=money(lang, "1.00", "USDT")) in quote
    await client.send(CARD)
    await client.send("Ivan Petrov")
    options = await client.send(TRC20)
    # The customer fixed what they receive: each option shows what they would send.
    normal, fast = money(lang, "9595.00", "RUB"), money(lang, "9785.00", "RUB")
    assert options.last.button_labels()[:2] == [f"{t['normal']} · {normal}", f"{t['fast']} · {fast}"]
    more = "(190.00\xa0RUB more)" if lang == "en" else "(на 190,00\xa0RUB больше)"
    assert more in plain(options.text)
    await client.click(re.compile(rf"^{t['fast']} · "))
    await client.send("ivan@example.com")
    summary = plain((await client.click(t["yes"])).text)
    assert t["receives"].format(amount=money(lang, "100.00", "USDT")) in summary  # Fast's fee included
    assert t["gives"].format(amount=fast) in summary
    await client.click(re.compile("Confirm|Подтвердить"))
    bid = sandbox.bids[max(sandbox.bids)]
    assert bid.amount_get == Decimal("100") and bid.amount_give == Decimal("9785")


# -- reserve -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_a_quote_above_the_reserve_is_never_offered(
    talk: Callable[[str], BotClient], sandbox: SandboxExchanger, lang: str, t: dict[str, str]
) -> None:
    sandbox.reserves[USDT] = Decimal("50")
    client = talk(lang)
    await choose(client, t["sber"], t["trc20"])
    reply = await client.send("10000")  # 104.26 USDT
    reserve = money(lang, "50.00", "USDT")
    assert t["reserve"].format(amount=reserve) in plain(reply.text)
    assert "From card" not in reply.text and "С карты" not in reply.text
    labels = reply.last.button_labels()
    assert labels[0] == t["take"].format(amount=reserve)

    # Above the limit too: the limit it would be moved to is above the reserve, so it isn't offered.
    reply = await client.send("600000")
    assert t["reserve"].format(amount=reserve) in plain(reply.text)
    assert not any(label.startswith(("✅ Use", "✅ Использовать")) for label in reply.last.button_labels())

    reply = await client.click(t["take"].format(amount=reserve))
    assert t["receives"].format(amount=reserve) in plain(reply.text)
    assert "From card" in reply.text or "С карты" in reply.text


async def test_a_reserve_that_falls_before_the_summary_sends_the_customer_back_to_the_amount(
    talk: Callable[[str], BotClient], sandbox: SandboxExchanger
) -> None:
    client = talk("en")
    await to_priority(client, EN)
    await client.click(re.compile(r"^Normal · "))
    await client.send("ivan@example.com")
    sandbox.reserves[USDT] = Decimal("100")
    reply = await client.click("✅ Yes")  # the summary quotes again
    assert "can pay at most 100.00\xa0USDT right now" in plain(reply.text)
    reply = await client.send("5000")
    assert "Please check your order" in reply.text  # the answers were kept
    assert not sandbox.bids


# -- ambiguous amounts -------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_an_ambiguous_amount_is_asked_about_and_echoed(
    talk: Callable[[str], BotClient], lang: str, t: dict[str, str]
) -> None:
    client = talk(lang)
    await choose(client, t["sber"], t["trc20"])
    reply = await client.send("10,000")
    assert t["which"] in reply.text
    thousands, ten = money(lang, "10000.00", "RUB"), money(lang, "10.00", "RUB")
    assert plain(reply.last.button_labels()[0]) == thousands and plain(reply.last.button_labels()[1]) == ten
    reply = await client.click(reply.last.button_labels()[0])
    assert t["gives"].format(amount=thousands) in plain(reply.text)


# -- directions refused or gone ----------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_a_direction_refused_for_api_orders_sends_the_customer_to_another(
    talk: Callable[[str], BotClient], sandbox: SandboxExchanger, lang: str, t: dict[str, str]
) -> None:
    client = talk(lang)
    await choose(client, t["btc"], t["trc20"])  # 109: listed and quoted, refused at create
    await client.send("0.01")
    await client.send(TRC20)
    await client.click(re.compile(rf"^{t['normal']} · "))
    reply = await client.click(re.compile("Confirm|Подтвердить"))
    assert t["refused"] in reply.text
    assert not sandbox.bids
    # Back on the list of what Bitcoin can become, without the refused direction: no loop.
    assert t["trc20"] not in reply.last.button_labels() and t["sber"] in reply.last.button_labels()
    await client.send("/exchange")
    reply = await client.click(t["btc"])
    assert t["trc20"] not in reply.last.button_labels()


async def test_a_direction_closed_mid_form_says_so_and_offers_the_list(
    talk: Callable[[str], BotClient], sandbox: SandboxExchanger
) -> None:
    client = talk("ru")
    await to_priority(client, RU)
    sandbox.closed_directions.add(102)
    await client.click(re.compile(r"^Обычный · "))
    await client.send("ivan@example.com")
    reply = await client.click(RU["yes"])  # the summary's fresh quote finds it closed
    assert RU["gone"] in reply.text and "Что вы отдаёте?" in reply.text  # nothing else starts from Sberbank
    assert not sandbox.bids


# -- Cancel asks before a form is thrown away --------------------------------------------------------


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_cancel_asks_before_discarding_typed_answers(
    talk: Callable[[str], BotClient], lang: str, t: dict[str, str]
) -> None:
    client = talk(lang)
    await to_priority(client, t)
    reply = await client.click(t["cancel"])
    assert t["discard?"] in reply.text
    assert reply.last.button_labels() == [t["discard"], t["keep"]]
    reply = await client.click(t["keep"])
    assert t["normal"] in reply.last.button_labels()[0]  # the same step, answers kept
    reply = await client.send("/cancel")
    assert t["discard?"] in reply.text
    reply = await client.click(t["discard"])
    assert t["menu"] in reply.text

    # Nothing typed into the form yet: Cancel cancels at once.
    await choose(client, t["sber"], t["trc20"])
    reply = await client.click(t["cancel"])
    assert t["menu"] in reply.text


# -- 0trace ------------------------------------------------------------------------------------------


@pytest.fixture
async def zt() -> AsyncIterator[ZeroTraceSandbox]:
    sandbox = ZeroTraceSandbox(step_seconds=None)
    await sandbox.start("127.0.0.1", 0)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
async def zt_client(tmp_path: Path, zt: ZeroTraceSandbox) -> AsyncIterator[Callable[[str], BotClient]]:
    settings = make_settings(
        tmp_path / "zt",
        zt.url,
        exchanger_platform="0trace",
        exchanger_api_login=None,
        exchanger_api_key=ZT_DEMO.key,
        exchanger_api_secret=ZT_DEMO.secret,
        exchanger_webhook_secret=ZT_DEMO.webhook_secret,
    )
    async with open_services(settings) as services:
        dp = build_dispatcher(services)
        bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
        users = iter(range(600_001, 600_100))
        yield lambda lang: BotClient(dp, bot, user_id=next(users), language_code=lang)


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_zerotrace_amounts_are_asked_about_and_echoed(
    zt_client: Callable[[str], BotClient], lang: str, t: dict[str, str]
) -> None:
    client = zt_client(lang)
    reply = await choose(client, "USDT · Tron", "BTC · Bitcoin")
    assert reply.last.button_labels()[:2] == [
        "✓ " + t["send"].format(code="USDT"),
        t["receive"].format(code="BTC"),
    ]
    reply = await client.send("1,000")
    assert t["which"] in reply.text
    reply = await client.click(reply.last.button_labels()[0])
    assert t["gives"].format(amount=money(lang, "1000.00", "USDT")) in plain(reply.text)


async def test_zerotrace_pair_switched_off_mid_form_sends_the_customer_back(
    zt_client: Callable[[str], BotClient], zt: ZeroTraceSandbox
) -> None:
    client = zt_client("en")
    await choose(client, "USDT · Tron", "BTC · Bitcoin")
    await client.send("100")
    await client.send(BTC_ADDRESS)
    await client.send(TRC20)
    zt.market.inactive.add("btc")
    reply = await client.click("✅ Confirm")
    assert "direction is not available" in reply.text
    assert "BTC · Bitcoin" not in reply.last.button_labels()
    assert not zt.orders_of(ZT_DEMO.key)


async def test_confirm_checks_the_reserve_again_and_one_tap_receives_the_most_it_can_pay(
    talk: Callable[[str], BotClient], sandbox: SandboxExchanger, services: Services
) -> None:
    client = talk("en")
    await to_priority(client, EN)
    await client.click(re.compile(r"^Normal · "))
    await client.send("ivan@example.com")
    await client.click("✅ Yes")
    sandbox.reserves[USDT] = Decimal("50")
    services.catalogue.forget_direction("en", "102")  # as when the short direction cache expires
    reply = await client.click("✅ Confirm")
    assert "can pay at most 50.00\xa0USDT right now" in plain(reply.text)
    assert not sandbox.bids
    reply = await client.click("✅ Receive 50.00\xa0USDT")
    assert "Please check your order" in reply.text  # the filled form is kept
    assert "You receive: <b>50.00\xa0USDT</b>" in plain(reply.text)
    await client.click("✅ Confirm")
    (bid,) = sandbox.bids.values()
    assert bid.amount_get == Decimal("50")
