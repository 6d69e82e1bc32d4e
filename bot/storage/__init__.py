"""Persistence: one SQLite database (aiosqlite) holding FSM state, chat settings, partner keys, bids."""

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
    FINAL_STATUSES,
    ApiIdTaken,
    Attribution,
    Bid,
    BidNotFound,
    BidRepository,
    ChatSettingsRepository,
    LinkedKey,
    PartnerKeyRepository,
)

__all__ = [
    "FINAL_STATUSES",
    "LATEST_VERSION",
    "ApiIdTaken",
    "Attribution",
    "Bid",
    "BidNotFound",
    "BidRepository",
    "ChatSettingsRepository",
    "Database",
    "DecryptionError",
    "LinkedKey",
    "MigrationError",
    "PartnerKeyRepository",
    "SQLiteStorage",
    "SchemaTooNewError",
    "SecretBox",
    "SecretBoxError",
    "WrongSecretKey",
    "generate_secret_key",
    "load_or_create_secret_key",
    "verify_secret",
]
