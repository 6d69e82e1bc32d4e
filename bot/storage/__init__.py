"""Persistence: one SQLite database (aiosqlite) holding FSM state, chat settings, partner
credentials, orders, notifications and payout requests."""

from bot.storage.crypto import (
    DecryptionError,
    SecretBox,
    SecretBoxError,
    WrongSecretKey,
    generate_secret_key,
    load_or_create_secret_key,
    verify_secret,
)
from bot.storage.database import Database
from bot.storage.fsm import SQLiteStorage
from bot.storage.migrations import LATEST_VERSION, MigrationError, SchemaTooNewError
from bot.storage.repositories import (
    ChatSettingsRepository,
    KeyTaken,
    LinkedCredentials,
    OrderNotStored,
    OrderRepository,
    PartnerCredentialRepository,
    StoredOrder,
    seal_legacy,
)

__all__ = [
    "LATEST_VERSION",
    "ChatSettingsRepository",
    "Database",
    "DecryptionError",
    "KeyTaken",
    "LinkedCredentials",
    "MigrationError",
    "OrderNotStored",
    "OrderRepository",
    "PartnerCredentialRepository",
    "SQLiteStorage",
    "SchemaTooNewError",
    "SecretBox",
    "SecretBoxError",
    "StoredOrder",
    "WrongSecretKey",
    "generate_secret_key",
    "load_or_create_secret_key",
    "seal_legacy",
    "verify_secret",
]
