"""What every partner screen shares: the linked cabinet, errors, keyboards, figures and periods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal, InvalidOperation
from html import escape
from typing import TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.exchanger.base import ExchangerPlatform, PartnerCabinet
from bot.exchanger.errors import (
    ApiDisabled,
    ExchangerError,
    IpBlocked,
    MethodNotSupported,
    NoActivePartnerProgram,
    NoPartnerId,
)
from bot.exchanger.models import PartnerInfo
from bot.money import format_amount
from bot.partner.account import LinkedCabinet, open_cabinet
from bot.partner.periods import Period, PeriodKind
from bot.storage.repositories import PartnerKeyRepository
from bot.text import shorten, visible_text
from handlers.callbacks import MenuCb, NavCb
from handlers.partner.callbacks import PartnerCb
from handlers.replies import show
from handlers.upstream import upstream_error_text

T = TypeVar("T")

# Telegram refuses longer messages (4096 visible characters); keep a margin for what is added around.
MESSAGE_LIMIT = 4000
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
# What a server (or a visitor of the partner's links, through the server) sends is cut to these.
SHORT_TEXT = 64  # ids, statuses, titles, commissions
CODE_TEXT = 16  # currency codes
AMOUNT_TEXT = 40
MAX_LISTED = 20  # payout currencies, campaign tags: at most this many lines
_MORE_ROOM = 60  # for the "…and N more." line


def visible_length(html_text: str) -> int:
    """How many characters Telegram counts in an HTML message: the text without tags and entities."""
    return len(visible_text(html_text))


def server_text(value: object, limit: int = SHORT_TEXT) -> str:
    """A text we did not write, for HTML: on one line, both ends kept within ``limit``, escaped."""
    return escape(shorten(" ".join(str(value or "").split()), limit))


def fit_rows(header: str, rows: Sequence[str], limit: int = MESSAGE_LIMIT) -> str:
    """``header`` and the rows, blank-line separated; when that is over ``limit`` visible characters,
    as many rows as fit and then one line saying how many were left out."""
    text = "\n\n".join([header, *rows])
    if visible_length(text) <= limit:
        return text
    text = header
    for index, row in enumerate(rows):
        candidate = text + "\n\n" + row
        if visible_length(candidate) > limit - _MORE_ROOM:
            return text + "\n\n" + _("…and {count} more.").format(count=len(rows) - index)
        text = candidate
    return text


def listed(lines: Sequence[str], limit: int = MAX_LISTED) -> list[str]:
    """At most ``limit`` of ``lines``, then one line saying how many more there are."""
    if len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], _("…and {count} more.").format(count=len(lines) - limit)]


def chat_id_of(event: Message | CallbackQuery) -> int:
    if isinstance(event, Message):
        return event.chat.id
    return event.message.chat.id if event.message is not None else event.from_user.id


def not_linked_text() -> str:
    return _(
        "🔑 To open your partner cabinet here, link your partner API key: send /login.\n\n"
        "You create the key in your personal account on the exchange's website, on the "
        "<b>API</b> page (/user-api/), with the partner methods ticked."
    )


async def require_cabinet(
    event: Message | CallbackQuery, partner_keys: PartnerKeyRepository, exchanger: ExchangerPlatform
) -> LinkedCabinet | None:
    """The chat's cabinet, or None after explaining /login (the caller just returns)."""
    linked = await open_cabinet(partner_keys, exchanger, chat_id_of(event))
    if linked is None:
        kb = InlineKeyboardBuilder()
        kb.button(text=_("🔑 Link a key"), callback_data=PartnerCb(screen="login"))
        kb.button(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main"))
        kb.adjust(1)
        await show(event, not_linked_text(), kb.as_markup())
    return linked


async def fetch_for_screen(
    event: Message | CallbackQuery,
    partner_keys: PartnerKeyRepository,
    exchanger: ExchangerPlatform,
    call: Callable[[PartnerCabinet], Awaitable[T]],
    retry: CallbackData | str,
) -> tuple[LinkedCabinet, T] | None:
    """The linked cabinet and what ``call`` read from it; or None after showing why not (no key
    linked, or the exchanger's error with a retry button). The caller just returns on None."""
    linked = await require_cabinet(event, partner_keys, exchanger)
    if linked is None:
        return None
    try:
        result = await call(linked.cabinet)
    except ExchangerError as exc:
        await show(event, partner_error_text(exc), retry_keyboard(retry))
        return None
    return linked, result


async def partner_info_for_screen(
    event: Message | CallbackQuery,
    partner_keys: PartnerKeyRepository,
    exchanger: ExchangerPlatform,
    retry: CallbackData | str,
) -> tuple[LinkedCabinet, PartnerInfo] | None:
    return await fetch_for_screen(event, partner_keys, exchanger, lambda c: c.partner_info(), retry)


def balance_line(info: PartnerInfo) -> str:
    return _("Balance: <b>{balance}</b> (minimum payout {minimum}).").format(
        balance=amount_text(info.balance), minimum=amount_text(info.min_payout)
    )


def payout_currency_lines(info: PartnerInfo) -> list[str]:
    """One line per payout currency (title: available · commission), at most ``MAX_LISTED``."""
    return listed(
        [
            _("• {title}: {amount} · {commission}").format(
                title=server_text(item.title or item.id),
                amount=amount_text(item.amount),
                commission=server_text(item.commission or "—"),
            )
            for item in info.items
        ]
    )


def partner_error_text(exc: ExchangerError) -> str:
    """An exchanger failure of a partner call, in words a partner can act on."""
    if isinstance(exc, ApiDisabled):
        return _(
            "🔑 The exchange does not accept your linked key any more: it may have been deleted, or "
            "API access was turned off for your account. Create a new key on the site and send /login."
        )
    if isinstance(exc, IpBlocked):
        return _(
            "🔒 Your key only works from certain IP addresses, and the bot's address is not one of them. "
            "Allow it in the key's settings on the site, or create a key without an IP restriction."
        )
    if isinstance(exc, MethodNotSupported):
        return _(
            "🚫 Your key is not allowed to call <code>{method}</code>. Tick it in the key's settings on "
            "the site (/user-api/), or link another key with /login."
        ).format(method=escape(exc.method or "?"))
    if isinstance(exc, NoPartnerId):
        return _(
            "🚫 This key does not belong to a partner account (it is the exchange's system key). "
            "Link the key from your own personal account with /login."
        )
    if isinstance(exc, NoActivePartnerProgram):
        return _("🚫 The partner program is switched off on this exchange.")
    return upstream_error_text(exc)


def retry_keyboard(callback_data: CallbackData | str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔄 Try again"), callback_data=callback_data)
    kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    kb.adjust(1, 2)
    return kb.as_markup()


def cancel_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    return kb.as_markup()


def amount_text(value: Decimal | None) -> str:
    """An amount whose currency the API does not name (balance, rewards): every digit it has, at
    least two decimals, thousands grouped."""
    if value is None:
        return "—"
    text = _amount(value, "")
    whole, _sep, fraction = text.partition(".")
    return shorten(f"{whole}.{fraction.ljust(2, '0')}", AMOUNT_TEXT)


def _amount(value: Decimal, currency_code: str) -> str:
    try:
        return format_amount(value, currency_code, exact=True)
    except InvalidOperation:  # more digits than Decimal's context holds: no server sends that honestly
        return format(value, "f")


def money_text(value: Decimal | None, currency_code: str) -> str:
    if value is None:
        return "—"
    if not currency_code:
        return amount_text(value)
    amount = shorten(_amount(value, currency_code), AMOUNT_TEXT)
    return f"{amount}\u00a0{server_text(currency_code, CODE_TEXT)}"


def period_name(kind: PeriodKind) -> str:
    names = {
        PeriodKind.TODAY: _("Today"),
        PeriodKind.WEEK: _("7 days"),
        PeriodKind.DAYS30: _("30 days"),
        PeriodKind.THIS_MONTH: _("This month"),
        PeriodKind.LAST_MONTH: _("Last month"),
        PeriodKind.CUSTOM: _("Custom range"),
    }
    return names[kind]


def period_label(period: Period) -> str:
    return _("{name}: {span} (UTC)").format(name=period_name(period.kind), span=period.span)


PRESETS = (PeriodKind.TODAY, PeriodKind.WEEK, PeriodKind.DAYS30, PeriodKind.THIS_MONTH, PeriodKind.LAST_MONTH)


def period_buttons(
    kb: InlineKeyboardBuilder,
    make: Callable[[PeriodKind], CallbackData],
    custom: CallbackData,
    current: PeriodKind | None = None,
) -> None:
    for kind in PRESETS:
        label = period_name(kind)
        kb.button(text=f"• {label} •" if kind == current else label, callback_data=make(kind))
    label = _("📅 Dates…")
    kb.button(text=f"• {label} •" if current == PeriodKind.CUSTOM else label, callback_data=custom)


def range_prompt() -> str:
    return _(
        "📅 Send the first and the last day of the period, for example\n"
        "<code>2026-11-01 2026-11-15</code> or <code>01.11.2026-15.11.2026</code>.\n"
        "Days are UTC days; one date means that one day."
    )


def range_error(reason: str) -> str:
    errors = {
        "format": _(
            "I could not read two dates there. Send them like <code>2026-11-01 2026-11-15</code> "
            "or <code>01.11.2026-15.11.2026</code>."
        ),
        "order": _("The last day is before the first one. Send the dates again, earliest first."),
        "future": _("That period has not started yet. Send dates up to today."),
        "too_long": _("The period is too long: at most 366 days. Send a shorter one."),
    }
    return errors.get(reason, errors["format"])
