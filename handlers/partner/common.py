"""What every partner screen shares: the linked cabinet, errors, keyboards, figures and periods.

Handlers receive their dependencies by name; the ones every cabinet screen needs travel together as
:class:`Cabinet` (built by :func:`cabinet_of`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from html import escape
from typing import TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.capabilities import PlatformInfo
from bot.domain.errors import (
    CredentialsRejected,
    ExchangerError,
    IpNotAllowed,
    Maintenance,
    NotAPartner,
    PartnerProgramOff,
    PermissionMissing,
    RateLimited,
)
from bot.domain.models import OrderPhase, OrderStatus, PartnerSummary
from bot.domain.money import format_amount, number_style
from bot.partner.account import LinkedCabinet, open_cabinet
from bot.partner.display import utc_minute
from bot.partner.periods import Period, PeriodError, PeriodKind, parse_range, today_utc
from bot.platforms.base import PartnerCabinet, Platform
from bot.storage.repositories import PartnerCredentialRepository
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
MAINTENANCE_TEXT = 300  # the site's own words about its maintenance
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


@dataclass(frozen=True)
class Cabinet:
    """What a cabinet screen needs to reach the chat's cabinet (not the cabinet itself)."""

    platform: Platform
    partner_credentials: PartnerCredentialRepository
    locale: str | None
    site_url: str

    @property
    def info(self) -> PlatformInfo:
        return self.platform.info

    @property
    def key_page_url(self) -> str:
        """Where on the site a partner creates (and edits) the key; "" when the platform doesn't say."""
        return key_page_url(self.info, self.site_url)


def cabinet_of(
    platform: Platform, partner_credentials: PartnerCredentialRepository, locale: str | None, site_url: str
) -> Cabinet:
    return Cabinet(platform, partner_credentials, locale, site_url)


def key_page_url(info: PlatformInfo, site_url: str) -> str:
    if not info.key_page or not site_url:
        return ""
    return site_url.rstrip("/") + "/" + info.key_page.lstrip("/")


def payout_page_url(info: PlatformInfo, site_url: str) -> str:
    """Where on the site a partner asks for a payout when the API can't; "" when the platform doesn't say."""
    if not info.payout_page or not site_url:
        return ""
    return site_url.rstrip("/") + "/" + info.payout_page.lstrip("/")


def not_linked_text(access: Cabinet) -> str:
    text = _("🔑 To open your partner cabinet here, link your partner key: send /login.")
    url = access.key_page_url
    if url:
        text += "\n\n" + _(
            "You create the key in your personal account on the exchange's website: {url}"
        ).format(url=escape(url))
    return text


async def require_cabinet(event: Message | CallbackQuery, access: Cabinet) -> LinkedCabinet | None:
    """The chat's cabinet, or None after explaining /login (the caller just returns)."""
    linked = await open_cabinet(access.partner_credentials, access.platform, chat_id_of(event), access.locale)
    if linked is None:
        kb = InlineKeyboardBuilder()
        kb.button(text=_("🔑 Link a key"), callback_data=PartnerCb(screen="login"))
        kb.button(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main"))
        kb.adjust(1)
        await show(event, not_linked_text(access), kb.as_markup())
    return linked


async def fetch_for_screen(
    event: Message | CallbackQuery,
    access: Cabinet,
    call: Callable[[PartnerCabinet], Awaitable[T]],
    retry: CallbackData | str,
) -> tuple[LinkedCabinet, T] | None:
    """The linked cabinet and what ``call`` read from it; or None after showing why not (no key
    linked, or the exchange's error with a retry button). The caller just returns on None."""
    linked = await require_cabinet(event, access)
    if linked is None:
        return None
    try:
        result = await call(linked.cabinet)
    except ExchangerError as exc:
        await show(event, partner_error_text(exc, access.key_page_url), retry_keyboard(retry))
        return None
    return linked, result


async def summary_for_screen(
    event: Message | CallbackQuery, access: Cabinet, retry: CallbackData | str
) -> tuple[LinkedCabinet, PartnerSummary] | None:
    return await fetch_for_screen(event, access, lambda cabinet: cabinet.summary(), retry)


def balance_text(summary: PartnerSummary) -> str:
    return money_text(summary.balance, summary.balance_currency)


def minimum_text(summary: PartnerSummary) -> str:
    return money_text(summary.min_payout, summary.balance_currency)


def balance_line(summary: PartnerSummary) -> str:
    return _("Balance: <b>{balance}</b> (minimum payout {minimum}).").format(
        balance=balance_text(summary), minimum=minimum_text(summary)
    )


def base_currency_note(summary: PartnerSummary) -> str | None:
    """Said only where the platform does not name a currency: the balance's (and so the minimum
    payout's), or that of rewards earned. A payout method's amount is in that method's currency."""
    notes = []
    if summary.balance is not None and not summary.balance_currency:
        notes.append(
            _(
                "The balance and the minimum payout are in the exchange's base currency: the exchange "
                "does not name it."
            )
        )
        if any(method.available is not None and not method.currency_code for method in summary.methods):
            notes.append(_("What each payout currency offers is in that currency."))
    elif "" in summary.earned:
        notes.append(_("Rewards are in the exchange's base currency, as the site shows them."))
    return " ".join(notes) or None


def payout_method_lines(summary: PartnerSummary) -> list[str]:
    """One line per payout method (title: available · commission), at most ``MAX_LISTED``."""
    return listed(
        [
            _("• {title}: {amount} · {commission}").format(
                title=server_text(method.title or method.id),
                amount=money_text(method.available, method.currency_code),
                commission=server_text(method.fee_text or "—"),
            )
            for method in summary.methods
        ]
    )


def phase_text(phase: OrderPhase) -> str:
    names = {
        OrderPhase.AWAITING_PAYMENT: _("awaiting payment"),
        OrderPhase.CONFIRMING_PAYMENT: _("payment being confirmed"),
        OrderPhase.PROCESSING: _("in progress"),
        OrderPhase.NEEDS_DECISION: _("waiting for the customer's decision"),
        OrderPhase.DONE: _("completed"),
        OrderPhase.CANCELLED: _("cancelled"),
        OrderPhase.FAILED: _("failed"),
    }
    return names[phase]


def status_text(status: OrderStatus) -> str:
    """``✅ completed`` in words, with the site's own title when it gives one."""
    if status.phase is OrderPhase.DONE:
        icon = "✅"
    elif status.is_final:
        icon = "❌"
    else:
        icon = "⏳"
    text = f"{icon} {phase_text(status.phase)}"
    title = server_text(status.title, SHORT_TEXT)
    # A title that only repeats the platform's status code ("cancel", "verify") is no word for people.
    if title and title.casefold() not in (phase_text(status.phase).casefold(), status.code.casefold()):
        text += f" ({title})"
    return text


def partner_error_text(exc: ExchangerError, key_page: str = "") -> str:
    """An exchange failure of a partner call, in words a partner can act on. ``key_page``: where the
    key's settings are on the site, when known."""
    if isinstance(exc, CredentialsRejected):
        return _(
            "🔑 The exchange does not accept your linked key any more: it may have been deleted, or "
            "API access was turned off for your account. Create a new key on the site and send /login."
        )
    if isinstance(exc, IpNotAllowed):
        return _(
            "🔒 Your key only works from certain IP addresses, and the bot's address is not one of them. "
            "Allow it in the key's settings on the site, or create a key without an IP restriction."
        )
    if isinstance(exc, PermissionMissing):
        return permission_text(exc.permission, key_page) + "\n" + _("Or link another key with /login.")
    if isinstance(exc, NotAPartner):
        return _(
            "🚫 This key does not belong to a partner account. Link the key of your own personal "
            "account with /login."
        )
    if isinstance(exc, PartnerProgramOff):
        return _("🚫 The partner program is switched off on this exchange.")
    if isinstance(exc, RateLimited) and (
        getattr(exc, "quota_exhausted", False) or (exc.retry_after or 0) > LONG_WAIT
    ):
        return quota_text(exc.retry_after)
    if isinstance(exc, RateLimited):
        if exc.retry_after:
            return _("⏳ The exchange asks the bot to slow down. Please try again in {seconds} s.").format(
                seconds=max(1, min(int(exc.retry_after + 0.999), 3600))
            )
        return _("⏳ The exchange asks the bot to slow down. Please try again in a minute.")
    if isinstance(exc, Maintenance):
        text = _("🛠 The exchange is closed for maintenance. Please try again later.")
        if exc.text:
            text += "\n" + server_text(exc.text, MAINTENANCE_TEXT)
        return text
    return upstream_error_text(exc)


LONG_WAIT = 600  # seconds: a longer wait asked for is a used-up quota, not a burst


def quota_text(retry_after: float | None, now: float | None = None) -> str:
    """The key's request quota is used up: when to come back (UTC), when the exchange said."""
    if not retry_after:
        return _(
            "⏳ Your key has used up its request quota on the exchange. It renews later (usually the "
            "next day): please try again then."
        )
    wait = int(retry_after + 0.999)
    at = utc_minute(int(time.time() if now is None else now) + wait)
    if wait < 5400:
        return _(
            "⏳ Your key has used up its request quota on the exchange. Please try again in about "
            "{minutes} min (after {time} UTC)."
        ).format(minutes=max(1, (wait + 59) // 60), time=at)
    return _(
        "⏳ Your key has used up its request quota on the exchange. Please try again in about "
        "{hours} h (after {time} UTC)."
    ).format(hours=(wait + 1799) // 3600, time=at)


def permission_text(permission: str | None, key_page: str = "") -> str:
    """The key lacks ``permission``: where to tick it."""
    if key_page:
        return _(
            "🚫 Your key is not allowed to do this. Tick <code>{permission}</code> in the key's settings "
            "on the site ({url})."
        ).format(permission=server_text(permission or "?"), url=escape(key_page))
    return _(
        "🚫 Your key is not allowed to do this. Tick <code>{permission}</code> in the key's settings on "
        "the site."
    ).format(permission=server_text(permission or "?"))


def retry_keyboard(callback_data: CallbackData | str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔄 Try again"), callback_data=callback_data)
    kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    kb.adjust(1, 2)
    return kb.as_markup()


def cancel_keyboard(back: CallbackData | None = None) -> InlineKeyboardMarkup:
    """Cancel (to the main menu); with ``back``, a way back to the screen the partner came from first."""
    kb = InlineKeyboardBuilder()
    if back is not None:
        kb.button(text=_("⬅️ Back"), callback_data=back)
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    kb.adjust(1)
    return kb.as_markup()


def amount_text(value: Decimal | None) -> str:
    """An amount whose currency the platform does not name (balance, rewards): every digit it has,
    at least two decimals, thousands grouped."""
    if value is None:
        return "—"
    mark = number_style().decimal
    whole, _sep, fraction = _amount(value, "").partition(mark)
    return shorten(f"{whole}{mark}{fraction.ljust(2, '0')}", AMOUNT_TEXT)


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
        PeriodKind.YEAR: _("365 days"),
        PeriodKind.CUSTOM: _("Custom range"),
    }
    return names[kind]


def period_label(period: Period) -> str:
    return _("{name}: {span} (UTC)").format(name=period_name(period.kind), span=period.span)


PRESETS = (PeriodKind.TODAY, PeriodKind.WEEK, PeriodKind.DAYS30, PeriodKind.THIS_MONTH, PeriodKind.LAST_MONTH)
LONG_PRESETS = (*PRESETS, PeriodKind.YEAR)


def period_buttons(
    kb: InlineKeyboardBuilder,
    make: Callable[[PeriodKind], CallbackData],
    custom: CallbackData,
    current: PeriodKind | None = None,
    presets: Sequence[PeriodKind] = PRESETS,
) -> None:
    for kind in presets:
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


async def typed_range(message: Message, back: CallbackData | None = None) -> Period | None:
    """The period the partner typed; None after telling them what is wrong (the step stays; ``back``:
    the screen the date entry came from)."""
    try:
        return parse_range(message.text or "", today_utc())
    except PeriodError as exc:
        await message.answer(range_error(exc.reason.value), reply_markup=cancel_keyboard(back))
        return None
