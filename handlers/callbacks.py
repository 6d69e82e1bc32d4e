"""Callback data factories. Short prefixes and ids only: Telegram allows 64 bytes."""

from aiogram.filters.callback_data import CallbackData


class MenuCb(CallbackData, prefix="m"):
    item: str  # "main" | "help" | "language" | "exchange" | "orders" | "partner"


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class NavCb(CallbackData, prefix="nav"):
    action: str  # "cancel"


class OrderCb(CallbackData, prefix="o"):
    """An order card and its actions. `bid_id` is the exchanger's order id; handlers must check that
    the order belongs to the chat pressing the button (callback data can be forged)."""

    action: str  # "open" | "refresh" | "paid" | "cancel" | "cancel_yes" | "list"
    bid_id: int = 0
    page: int = 0
