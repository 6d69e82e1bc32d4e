"""Inline keyboards. Built inside handlers, so labels are translated for the current chat."""

from ipaddress import ip_address
from urllib.parse import urlsplit

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.capabilities import PlatformInfo
from bot.i18n import LANGUAGE_NAMES
from handlers.callbacks import LanguageCb, MenuCb, NavCb


def linkable(url: str | None) -> bool:
    """Telegram refuses URL buttons to loopback and private hosts (a sandbox's): show those as text."""
    if not url:
        return False
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.hostname == "localhost":
        return False
    try:
        return ip_address(parts.hostname).is_global
    except ValueError:
        return True


def support_url(contact: str | None) -> str | None:
    """Where the exchange's support is reached (``SUPPORT_CONTACT``): ``@name`` → its t.me link; a URL
    as is when Telegram can open it; None when unset or not a link a button can carry."""
    if not contact:
        return None
    if contact.startswith("@"):
        return f"https://t.me/{contact[1:]}"
    return contact if linkable(contact) else None


def support_row(contact: str | None) -> list[list[InlineKeyboardButton]]:
    url = support_url(contact)
    return [[InlineKeyboardButton(text=_("💬 Support"), url=url)]] if url else []


def main_menu(info: PlatformInfo, site_url: str = "", support: str | None = None) -> InlineKeyboardMarkup:
    """What this platform serves: the exchange and orders where the bot takes orders, else a link to
    the site; the partner cabinet where there is one; the exchange's support when configured
    (``support``: ``settings.support_contact``); language and help always."""
    cabinet = InlineKeyboardButton(text=_("🤝 Partner cabinet"), callback_data=MenuCb(item="partner").pack())
    rows: list[list[InlineKeyboardButton]] = []
    if info.has_customer_flow:
        rows.append(
            [InlineKeyboardButton(text=_("💱 Exchange"), callback_data=MenuCb(item="exchange").pack())]
        )
        orders = InlineKeyboardButton(text=_("📋 My orders"), callback_data=MenuCb(item="orders").pack())
        rows.append([orders, cabinet] if info.has_partner_cabinet else [orders])
    else:
        if info.has_partner_cabinet:
            rows.append([cabinet])
        if linkable(site_url):
            rows.append([InlineKeyboardButton(text=_("🌐 Exchange on the site"), url=site_url)])
    rows += support_row(support)
    rows.append(
        [
            InlineKeyboardButton(text=_("🌐 Language"), callback_data=MenuCb(item="language").pack()),
            InlineKeyboardButton(text=_("❓ Help"), callback_data=MenuCb(item="help").pack()),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def languages(current: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        kb.button(text=f"✓ {name}" if code == current else name, callback_data=LanguageCb(code=code))
    kb.button(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main"))
    kb.adjust(len(LANGUAGE_NAMES), 1)
    return kb.as_markup()


def retry(callback_data: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔄 Try again"), callback_data=callback_data)
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    return kb.as_markup()


def back_to_menu(support: str | None = None) -> InlineKeyboardMarkup:
    back = InlineKeyboardButton(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main").pack())
    return InlineKeyboardMarkup(inline_keyboard=[*support_row(support), [back]])
