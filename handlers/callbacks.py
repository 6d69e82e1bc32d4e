"""Callback data factories. Short prefixes and ids only: Telegram allows 64 bytes."""

from aiogram.filters.callback_data import CallbackData

# The bot's own order ids are SQLite row ids; anything outside this range is forged.
MAX_ORDER_NUMBER = 2**53


class MenuCb(CallbackData, prefix="m"):
    item: str  # "main" | "help" | "language" | "exchange" | "orders" | "partner"


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class NavCb(CallbackData, prefix="nav"):
    action: str  # "cancel"


class OrderCb(CallbackData, prefix="o"):
    """An order card and its actions. ``n`` is the bot's own (local) order id, never the platform's.
    Callback data can be forged: handlers check ``n`` is in range and the order belongs to the chat."""

    action: str  # see handlers.orders.ACTIONS, and "list"
    n: int = 0
    page: int = 0

    @property
    def order_in_range(self) -> bool:
        return 1 <= self.n <= MAX_ORDER_NUMBER
