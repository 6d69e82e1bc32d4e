"""The bot's tables, one repository each (timestamps are unix seconds from ``Database.now()``)."""

from bot.storage.chats import ChatSettingsRepository
from bot.storage.legacy import seal_legacy
from bot.storage.orders import KeyTaken, OrderNotStored, OrderRepository, StoredOrder
from bot.storage.partners import LinkedCredentials, PartnerCredentialRepository
from bot.storage.payouts import PayoutRequest, PayoutRequestRepository, PayoutState

__all__ = [
    "ChatSettingsRepository",
    "KeyTaken",
    "LinkedCredentials",
    "OrderNotStored",
    "OrderRepository",
    "PartnerCredentialRepository",
    "PayoutRequest",
    "PayoutRequestRepository",
    "PayoutState",
    "StoredOrder",
    "seal_legacy",
]
