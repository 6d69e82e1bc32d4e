"""Amounts are written in the chat's language wherever the bot shows them: English ``1,000.50``,
Russian ``1 000,50`` (no-break space grouping, decimal comma). Driven through the production
Dispatcher (order lists, the partner cabinet) and the notification sender (no update around it),
against the PremiumExchanger sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiogram import Bot

from bot.app.wiring import Services
from bot.domain.money import format_amount
from bot.notifications import Notifications, build_notifications
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import PARTNER
from bot.platforms.premiumexchanger.statuses import status_of
from offline.bot_client import BotClient
from tests.test_notifications import FAST, FakeClock, place_order, texts

NBSP = "\u00a0"
# What 10 000 RUB -> Tether TRC20 gives in the sandbox, as each language writes it.
ORDER_AMOUNTS = {
    "en": f"10,000.00{NBSP}RUB → 104.26{NBSP}USDT",
    "ru": f"10{NBSP}000,00{NBSP}RUB → 104,26{NBSP}USDT",
}


def written(amount: str | Decimal, locale: str) -> str:
    """Two decimals, grouped as ``locale`` groups, computed here without bot.domain.money."""
    english = f"{Decimal(amount):,.2f}"
    if locale == "en":
        return english
    return english.replace(",", NBSP).replace(".", ",")


@pytest.fixture
def notifications(services: Services, bot: Bot) -> Notifications:
    return build_notifications(services, bot, FAST, FakeClock())


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_order_list_writes_amounts_in_the_chats_language(
    make_client, services: Services, locale: str
) -> None:
    client: BotClient = make_client(user_id=810001, language_code=locale)
    await client.send("/start")
    await place_order(services, client.chat.id)
    reply = await client.send("/orders")
    assert ORDER_AMOUNTS[locale] in reply.text, reply.text
    other = ORDER_AMOUNTS["ru" if locale == "en" else "en"]
    assert other not in reply.text


async def test_a_notification_is_written_in_its_chats_language(
    services: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications
) -> None:
    """The sender renders outside any update: each chat still reads its own style."""
    chats = {"en": 5101, "ru": 5102}
    for locale, chat_id in chats.items():
        await services.chat_settings.set_language(chat_id, locale)
        placed = await place_order(services, chat_id)
        sandbox.advance(placed.bid_id)
        assert await notifications.statuses.record(placed.local_id, status_of("payed", ""))
    await notifications.sender.drain()
    for locale, chat_id in chats.items():
        (text,) = texts(bot, chat_id)
        assert ORDER_AMOUNTS[locale] in text, text
    # Rendering left no locale behind: outside an update amounts read as English again.
    assert format_amount(Decimal("1000.5"), "RUB") == "1,000.50"


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_partner_cabinet_writes_amounts_in_the_chats_language(
    make_client, sandbox: SandboxExchanger, locale: str
) -> None:
    client: BotClient = make_client(user_id=810007, language_code=locale)
    await client.send("/login")
    await client.send(PARTNER.login)
    await client.send(PARTNER.key)
    reply = await client.send("/partner")
    info = sandbox.partners.info(PARTNER.user_id, sandbox.bids.values(), locale)
    assert f"<b>{written(info['balance'], locale)}</b>" in reply.text, reply.text
    assert written("10", locale) in reply.text  # the minimum payout
    rub = next(item for item in info["items"] if "RUB" in item["title"])
    assert Decimal(rub["amount"]) >= 1000, "the test needs a grouped figure"
    assert f"{written(rub['amount'], locale)} · {rub['comission']}" in reply.text, reply.text
    # PremiumExchanger's API names no currency for the balance: said once, and only of the balance.
    note = {
        "en": "The balance and the minimum payout are in the exchange's base currency",
        "ru": "Баланс и минимальная выплата указаны в базовой валюте обменника",
    }
    assert reply.text.count(note[locale]) == 1, reply.text


@pytest.mark.parametrize(("locale", "expected"), [("en", "1,500"), ("ru", f"1{NBSP}500")])
def test_chart_axis_numbers_follow_the_language(services: Services, locale: str, expected: str) -> None:
    from bot.partner.chart import _tick

    with services.i18n.context(), services.i18n.use_locale(locale):
        assert _tick(1500.0, None) == expected
        assert _tick(0.30000000000000004, None) == ("0.3" if locale == "en" else "0,3")
        assert _tick(float("nan"), None) == ""


def test_partner_figures_name_their_currency_and_the_base_currency_only_when_unknown(
    services: Services,
) -> None:
    from bot.domain.models import PartnerSummary, PayoutMethod
    from handlers.partner.cabinet import summary_lines

    named = PartnerSummary(
        partner_id="7",
        balance=Decimal("1500.5"),
        balance_currency="USDT",
        min_payout=Decimal(10),
        methods=[PayoutMethod(id="1", title="Tether", available=Decimal("1470.49"), currency_code="USDT")],
    )
    earned = PartnerSummary(partner_id="7", earned={"": Decimal("1500.5"), "USDT": Decimal(2)})
    with services.i18n.context(), services.i18n.use_locale("ru"):
        text = "\n".join(summary_lines(named))
        assert f"Баланс: <b>1{NBSP}500,50{NBSP}USDT</b>" in text, text
        assert f"1{NBSP}470,49{NBSP}USDT" in text and "базовой валюте" not in text
        text = "\n".join(summary_lines(earned))
        assert f"• 1{NBSP}500,50\n" in text and f"• 2,00{NBSP}USDT" in text, text
        assert "Вознаграждения указаны в базовой валюте обменника" in text


@pytest.mark.parametrize(
    ("locale", "expected"), [("en", f"1,500.50{NBSP}USDT"), ("ru", f"1{NBSP}500,50{NBSP}USDT")]
)
async def test_partner_news_writes_amounts_in_the_chats_language(
    services: Services, locale: str, expected: str
) -> None:
    from bot.notifications.messages import RenderContext
    from bot.notifications.titles import StatusTitles
    from bot.partner.news_messages import NEWS_KIND, render_partner_news
    from bot.storage.outbox import OutboxItem

    payload = {
        "platform": services.platform.info.name,
        "news": "payout_changed",
        "number": "PO-1",
        "status": "paid",
        "amount": "1500.5",
        "currency": "USDT",
    }
    item = OutboxItem(id=1, chat_id=1, kind=NEWS_KIND, payload=payload, created_at=0, attempts=0)
    rendered = await render_partner_news(RenderContext(services, StatusTitles()), item, locale)
    assert rendered is not None and expected in rendered.text, rendered
    broken = await render_partner_news(
        RenderContext(services, StatusTitles()),
        OutboxItem(1, 1, NEWS_KIND, {**payload, "amount": "NaN"}, 0, 0),
        locale,
    )
    assert broken is not None and "—" in broken.text  # a figure that is no number is not shown
