"""Inline keyboards. Built inside handlers, so labels are translated for the current chat."""

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import LANGUAGE_NAMES
from handlers.callbacks import LanguageCb, MenuCb, NavCb


def main_menu() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("💱 Exchange"), callback_data=MenuCb(item="exchange"))
    kb.button(text=_("📋 My orders"), callback_data=MenuCb(item="orders"))
    kb.button(text=_("🤝 Partner cabinet"), callback_data=MenuCb(item="partner"))
    kb.button(text=_("🌐 Language"), callback_data=MenuCb(item="language"))
    kb.button(text=_("❓ Help"), callback_data=MenuCb(item="help"))
    kb.adjust(1, 2, 2)
    return kb.as_markup()


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


def back_to_menu() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main"))
    return kb.as_markup()
