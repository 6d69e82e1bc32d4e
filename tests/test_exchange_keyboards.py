"""Keyboards must fit Telegram's limits whatever the exchanger's form holds."""

from aiogram.utils.i18n import I18n

from bot.exchange.draft import ExchangeDraft
from bot.exchanger.models import FieldOption, FieldSpec, FieldType
from bot.i18n import build_i18n
from handlers.exchange.keyboards import OPTIONS_PER_PAGE, field_keyboard


def _labels(markup) -> list[str]:
    return [button.text for row in markup.inline_keyboard for button in row]


def test_a_long_select_is_paged_and_every_option_is_reachable() -> None:
    i18n: I18n = build_i18n("en")
    options = [FieldOption("0", "No selected"), *(FieldOption(str(n), f"Bank {n}") for n in range(1, 151))]
    spec = FieldSpec(name="cfgive3", type=FieldType.SELECT, label="Bank", required=True, options=options)
    draft = ExchangeDraft()
    seen: set[str] = set()
    with i18n.context(), i18n.use_locale("en"):
        for page in range(8):
            draft.page = page
            markup = field_keyboard(spec, draft)
            labels = _labels(markup)
            assert len(labels) <= 100
            assert "No selected" not in labels
            seen |= {label for label in labels if label.startswith("Bank ")}
            assert len([label for label in labels if label.startswith("Bank ")]) <= OPTIONS_PER_PAGE
    assert seen == {f"Bank {n}" for n in range(1, 151)}


def test_an_option_without_a_label_shows_its_key() -> None:
    i18n = build_i18n("en")
    spec = FieldSpec(
        name="cf13", type=FieldType.SELECT, options=[FieldOption("1", ""), FieldOption("2", "<b></b>")]
    )
    with i18n.context(), i18n.use_locale("en"):
        labels = _labels(field_keyboard(spec, ExchangeDraft()))
    assert labels[:2] == ["1", "2"]
