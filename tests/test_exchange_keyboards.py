"""Keyboards must fit Telegram's limits whatever the exchanger's form holds, and offer only what the
platform serves."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiogram.utils.i18n import I18n

from bot.app.dispatcher import commands_for, get_routers
from bot.domain.capabilities import Capability, PlatformInfo
from bot.domain.models import AmountSide, Direction, FieldKind, FieldOption, FormField
from bot.exchange.draft import ExchangeDraft
from bot.i18n import build_i18n
from bot.platforms.premiumexchanger import INFO as PE_INFO
from handlers.exchange.callbacks import ExCb
from handlers.exchange.keyboards import OPTIONS_PER_PAGE, amount_keyboard, field_keyboard
from handlers.keyboards import main_menu
from handlers.start import help_text

# A platform that serves partners only (as Lara-script's and iEXExchanger's partner APIs do).
PARTNER_ONLY = PlatformInfo(
    name="partners-only",
    title="Partners only",
    capabilities=frozenset(
        {Capability.PARTNER_SUMMARY, Capability.PARTNER_EXCHANGES, Capability.PARTNER_PAYOUTS}
    ),
)
NOTHING = PlatformInfo(name="nothing", title="Nothing", capabilities=frozenset())


@pytest.fixture
def i18n() -> I18n:
    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        yield i18n


def _labels(markup) -> list[str]:
    return [button.text for row in markup.inline_keyboard for button in row]


def test_a_long_select_is_paged_and_every_option_is_reachable(i18n: I18n) -> None:
    options = [FieldOption(f"bank-{n}", f"Bank {n}") for n in range(1, 151)]
    spec = FormField(name="bank", kind=FieldKind.SELECT, label="Bank", required=True, options=options)
    draft = ExchangeDraft()
    seen: set[str] = set()
    for page in range(8):
        draft.page = page
        labels = _labels(field_keyboard(spec, draft))
        assert len(labels) <= 100
        assert "⏭ Skip" not in labels  # required
        shown = [label for label in labels if label.startswith("Bank ")]
        assert len(shown) <= OPTIONS_PER_PAGE
        seen |= set(shown)
    assert seen == {f"Bank {n}" for n in range(1, 151)}


def test_option_buttons_carry_an_index_not_the_platforms_key(i18n: I18n) -> None:
    long_key = "k" * 200  # would never fit in 64 bytes of callback data
    spec = FormField(
        name="f", kind=FieldKind.SELECT, options=[FieldOption(long_key, "Long"), FieldOption("", "")]
    )
    markup = field_keyboard(spec, ExchangeDraft())
    data = [
        ExCb.unpack(b.callback_data)
        for row in markup.inline_keyboard
        for b in row
        if (b.callback_data or "").startswith("x:")
    ]
    assert [(d.a, d.v) for d in data[:2]] == [("op", "0"), ("op", "1")]
    assert _labels(markup)[:2] == ["Long", "?"]  # an option with neither label nor key still has text
    assert "⏭ Skip" in _labels(markup)  # optional


def test_an_option_without_a_label_shows_its_key(i18n: I18n) -> None:
    spec = FormField(
        name="cf13", kind=FieldKind.SELECT, options=[FieldOption("1", ""), FieldOption("2", "<b></b>")]
    )
    assert _labels(field_keyboard(spec, ExchangeDraft()))[:2] == ["1", "2"]


def _direction(**overrides: object) -> Direction:
    values: dict[str, object] = {
        "id": "d1",
        "give_currency_code": "RUB",
        "get_currency_code": "USDT",
        "give_rate": Decimal(95),
        "get_rate": Decimal(1),
    }
    values.update(overrides)
    return Direction.model_validate(values)


def test_amount_keyboard_offers_only_the_sides_given_and_marks_the_chosen_one(i18n: I18n) -> None:
    direction = _direction()
    draft = ExchangeDraft(side=AmountSide.GET)
    labels = _labels(amount_keyboard(direction, draft, [AmountSide.GIVE, AmountSide.GET]))
    assert labels == ["I send exactly … RUB", "✓ I receive exactly … USDT", "⬅️ Back", "✖️ Cancel"]
    # One meaning only: no choice to offer.
    assert _labels(amount_keyboard(direction, ExchangeDraft(), [AmountSide.GIVE])) == ["⬅️ Back", "✖️ Cancel"]
    labels = _labels(amount_keyboard(direction, draft, [AmountSide.GET], suggested=Decimal("10.5")))
    assert labels[0] == "✅ Use 10.50\xa0USDT"  # in the currency of the side typed


def test_main_menu_follows_the_platform(i18n: I18n) -> None:
    assert _labels(main_menu(PE_INFO, "https://site.example")) == [
        "💱 Exchange",
        "📋 My orders",
        "🤝 Partner cabinet",
        "🌐 Language",
        "❓ Help",
    ]
    menu = main_menu(PARTNER_ONLY, "https://site.example")
    assert _labels(menu) == ["🤝 Partner cabinet", "🌐 Exchange on the site", "🌐 Language", "❓ Help"]
    site = next(b for row in menu.inline_keyboard for b in row if b.url)
    assert site.url == "https://site.example"
    # Telegram refuses URL buttons to loopback: the site is named in the greeting instead.
    assert _labels(main_menu(PARTNER_ONLY, "http://127.0.0.1:8080")) == [
        "🤝 Partner cabinet",
        "🌐 Language",
        "❓ Help",
    ]
    assert _labels(main_menu(NOTHING, "")) == ["🌐 Language", "❓ Help"]


def test_commands_and_help_follow_the_platform(i18n: I18n) -> None:
    assert [c for c, _ in commands_for(PE_INFO)] == [
        "start", "exchange", "orders", "partner", "help", "language", "cancel"
    ]  # fmt: skip
    assert [c for c, _ in commands_for(PARTNER_ONLY)] == ["start", "partner", "help", "language", "cancel"]
    assert [c for c, _ in commands_for(NOTHING)] == ["start", "help", "language", "cancel"]

    text = help_text(PE_INFO, "https://site.example")
    assert "/exchange" in text and "/orders" in text and "/partner" in text and "site.example" not in text
    text = help_text(PARTNER_ONLY, "https://site.example")
    assert "/exchange" not in text and "/orders" not in text and "/partner" in text
    assert "use the exchange's site: https://site.example" in text


def test_a_platform_without_a_customer_flow_has_no_customer_routers() -> None:
    def names(routers) -> set[str]:
        found = set()
        for router in routers:
            found.add(router.name)
            found |= names(router.sub_routers)
        return found

    assert {"exchange", "orders"} <= names(get_routers(PE_INFO))
    assert not {"exchange", "orders", "customers"} & names(get_routers(PARTNER_ONLY))


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_button_labels_show_currency_codes_as_they_are_not_html_escaped(locale: str) -> None:
    """Button labels are plain text: "A&B" must not show as "A&amp;B"."""
    from handlers.exchange.keyboards import ambiguous_keyboard, over_reserve_keyboard

    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale(locale):
        direction = _direction(give_currency_code="R&B", get_currency_code="U<T>")
        draft = ExchangeDraft(side=AmountSide.GIVE)
        labels = _labels(amount_keyboard(direction, draft, [AmountSide.GIVE, AmountSide.GET], Decimal(5)))
        labels += _labels(over_reserve_keyboard(direction, draft, [AmountSide.GIVE], Decimal(7)))
        labels += _labels(ambiguous_keyboard(direction, draft, [Decimal(10000), Decimal(10)]))
    assert not any("&amp;" in label or "&lt;" in label for label in labels), labels
    assert sum("R&B" in label for label in labels) >= 4 and any("U<T>" in label for label in labels), labels
