"""Callback data factories. Short prefixes and ids only: Telegram allows 64 bytes."""

from aiogram.filters.callback_data import CallbackData


class MenuCb(CallbackData, prefix="m"):
    item: str  # "main" | "help" | "language" | "currencies"


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class NavCb(CallbackData, prefix="nav"):
    action: str  # "cancel"
