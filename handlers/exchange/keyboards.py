"""Keyboards of the exchange conversation; built inside handlers so labels are translated."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TypeVar

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _

from bot.domain.models import AmountSide, Direction, FieldKind, FormField, ValueKind
from bot.domain.money import format_money, format_plain
from bot.exchange.draft import ExchangeDraft
from bot.text import plain_text, shorten
from handlers import keyboards
from handlers.callbacks import NavCb
from handlers.exchange import callbacks as cb
from handlers.exchange.callbacks import ExCb
from handlers.exchange.render import side_code, side_label

PAGE_SIZE = 10
OPTIONS_PER_PAGE = 20  # a select field's options; Telegram allows 100 buttons in all
T = TypeVar("T")


def _label_money(amount: Decimal, code: str) -> str:
    """An amount on a button: exact like the message's figure, but not HTML-escaped (labels are plain)."""
    return format_money(amount, code, exact=True, escape=False)


def _button(text: str, flow: str, action: str, value: object = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ExCb.make(flow, action, value).pack())


def _cancel() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel").pack())


def _back(flow: str) -> InlineKeyboardButton:
    return _button(_("⬅️ Back"), flow, cb.BACK)


def page_of(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> tuple[Sequence[T], int, int]:
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    return items[page * size : (page + 1) * size], page, pages


def _pager(flow: str, turn: str, page: int, pages: int) -> list[InlineKeyboardButton]:
    return [
        _button("◀️", flow, turn, (page - 1) % pages),
        _button(f"{page + 1}/{pages}", flow, turn, page),
        _button("▶️", flow, turn, (page + 1) % pages),
    ]


def paged_choices(
    items: Sequence[T],
    page: int,
    flow: str,
    *,
    label: Callable[[T], str],
    value: Callable[[T], str],
    choose: str,
    turn: str,
    back: bool,
) -> InlineKeyboardMarkup:
    shown, page, pages = page_of(items, page)
    choices = [_button(shorten(label(item), 60), flow, choose, value(item)) for item in shown]
    rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
    if pages > 1:
        rows.append(_pager(flow, turn, page, pages))
    rows.append([*([_back(flow)] if back else []), _cancel()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def amount_keyboard(
    direction: Direction, draft: ExchangeDraft, sides: Sequence[AmountSide], suggested: Decimal | None = None
) -> InlineKeyboardMarkup:
    """The amount step: "use the nearest possible amount" when there is one, and the meanings an
    amount can have here (only when there is a choice)."""
    rows: list[list[InlineKeyboardButton]] = []
    if suggested is not None:
        label = _("✅ Use {amount}").format(amount=_label_money(suggested, side_code(direction, draft.side)))
        rows.append([_button(label, draft.flow, cb.USE_AMOUNT, format_plain(suggested))])
    if len(sides) > 1:
        for side in sides:
            mark = "✓ " if side == draft.side else ""
            label = mark + side_label(side, direction, html=False)
            rows.append([_button(label, draft.flow, cb.SIDE, side.value)])
    rows.append([_back(draft.flow), _cancel()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def field_keyboard(
    spec: FormField,
    draft: ExchangeDraft,
    notes: Mapping[str, str] | None = None,
    *,
    username: str | None = None,
) -> InlineKeyboardMarkup:
    """``notes``: a figure to show on an option's button, by option key (what choosing it costs);
    ``username``: the customer's own Telegram username, offered for a username field in one tap."""
    rows: list[list[InlineKeyboardButton]] = []
    flow = draft.flow
    if spec.kind is FieldKind.SELECT:
        # Buttons carry the option's index: keys are the platform's and may not fit in callback data.
        shown, page, pages = page_of(list(enumerate(spec.options)), draft.page, OPTIONS_PER_PAGE)
        for index, option in shown:
            label = shorten(plain_text(option.label) or option.key, 60) or "?"
            if notes and (note := notes.get(option.key)):
                label = f"{shorten(label, 30)} · {note}"
            rows.append([_button(label, flow, cb.OPTION, index)])
        if pages > 1:
            rows.append(_pager(flow, cb.OPTION_PAGE, page, pages))
    elif spec.kind is FieldKind.CHECKBOX:
        rows.append([_button(_("✅ Yes"), flow, cb.CHECK, 1), _button(_("❌ No"), flow, cb.CHECK, 0)])
    else:
        own = f"@{username}" if username and spec.value_kind is ValueKind.TELEGRAM else None
        if own:
            rows.append([_button(_("Use @{username}").format(username=username), flow, cb.OWN_USERNAME)])
        for index, offer in enumerate(draft.offers):
            if offer.lower() != (own or "").lower():
                rows.append([_button("↩️ " + shorten(offer, 40), flow, cb.OFFER, index)])
    if not spec.required:
        rows.append([_button(_("⏭ Skip"), flow, cb.SKIP)])
    rows.append([_back(flow), _cancel()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def summary_keyboard(draft: ExchangeDraft, has_fields: bool) -> InlineKeyboardMarkup:
    rows = [[_button(_("✅ Confirm"), draft.flow, cb.CONFIRM)]]
    row = [_button(_("💰 Change amount"), draft.flow, cb.EDIT_AMOUNT)]
    if has_fields:
        row.insert(0, _button(_("✏️ Edit a field"), draft.flow, cb.EDIT_LIST))
    rows += [row, [_cancel()]]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def retry_keyboard(draft: ExchangeDraft, action: str) -> InlineKeyboardMarkup:
    return keyboards.retry(ExCb(flow=draft.flow, a=action).pack())


def edit_list_keyboard(direction: Direction, draft: ExchangeDraft) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for index, spec in enumerate(direction.fields):
        rows.append(
            [_button(shorten(plain_text(spec.label) or spec.name, 50), draft.flow, cb.EDIT_FIELD, index)]
        )
    rows.append([_button(_("⬅️ Back"), draft.flow, cb.BACK), _cancel()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def over_reserve_keyboard(
    direction: Direction,
    draft: ExchangeDraft,
    sides: Sequence[AmountSide],
    receive: Decimal | None,
) -> InlineKeyboardMarkup:
    """The amount step after a quote above the reserve: receive the most the exchange can pay
    (``receive``, when it can be offered) in one tap."""
    rows = amount_keyboard(direction, draft, sides).inline_keyboard
    if receive is not None:
        label = _("✅ Receive {amount}").format(amount=_label_money(receive, direction.get_currency_code))
        rows = [[_button(label, draft.flow, cb.RECEIVE_MAX, format_plain(receive))], *rows]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def ambiguous_keyboard(
    direction: Direction, draft: ExchangeDraft, choices: Sequence[Decimal]
) -> InlineKeyboardMarkup:
    """One button per reading of an ambiguous amount, in the chat's number format."""
    code = side_code(direction, draft.side)
    rows = [
        [_button(_label_money(choice, code), draft.flow, cb.USE_AMOUNT, format_plain(choice))]
        for choice in choices
    ]
    rows.append([_back(draft.flow), _cancel()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def share_phone_keyboard() -> ReplyKeyboardMarkup:
    """Telegram's own button that sends the customer's phone number as a contact."""
    button = KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)
    return ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True, one_time_keyboard=True)
