"""Versioned schema migrations, recorded in ``PRAGMA user_version``.

Append new migrations to :data:`MIGRATIONS`; never edit one that has shipped. Each runs in its own
transaction together with the ``user_version`` bump, so a failed migration leaves the previous version.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import aiosqlite


class Database(Protocol):
    """What migrating needs of :class:`bot.storage.database.Database` (which runs the migrations)."""

    @property
    def connection(self) -> aiosqlite.Connection: ...

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    async def fetchval(self, sql: str, params: Any = ()) -> Any: ...


logger = logging.getLogger(__name__)


class MigrationError(RuntimeError):
    pass


class SchemaTooNewError(MigrationError):
    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"The database schema is version {found}, but this version of the bot only knows "
            f"versions up to {known}: it was written by a newer release. Upgrade the bot "
            f"(or restore a backup made by this release); refusing to start so no data is damaged."
        )
        self.found = found
        self.known = known


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


_V1 = (
    """
    CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
    )
    """,
    """
    CREATE TABLE fsm_state (
        key TEXT PRIMARY KEY,
        state TEXT,
        data TEXT,
        updated_at INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE chat_settings (
        chat_id INTEGER PRIMARY KEY,
        language TEXT,
        partner_id INTEGER,
        partner_campaign TEXT,
        attributed_at INTEGER,
        is_active INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE partner_keys (
        chat_id INTEGER PRIMARY KEY,
        api_login TEXT NOT NULL,
        key_ciphertext BLOB NOT NULL,
        partner_id INTEGER,
        created_at INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE bids (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        api_id TEXT NOT NULL UNIQUE,
        bid_id INTEGER UNIQUE,
        bid_hash TEXT,
        direction_id INTEGER,
        status TEXT,
        status_title TEXT,
        callback_token TEXT UNIQUE,
        created_at INTEGER NOT NULL,
        updated_at INTEGER,
        status_changed_at INTEGER
    )
    """,
    "CREATE INDEX ix_bids_chat_created ON bids (chat_id, created_at)",
    "CREATE INDEX ix_bids_status ON bids (status)",
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        kind TEXT,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        sent_at INTEGER
    )
    """,
    "CREATE INDEX ix_outbox_pending ON outbox (sent_at, next_attempt_at)",
)

_V2 = (
    # What an order list shows without asking the exchanger, and the status tracker's bookkeeping.
    "ALTER TABLE bids ADD COLUMN give_amount TEXT",
    "ALTER TABLE bids ADD COLUMN get_amount TEXT",
    "ALTER TABLE bids ADD COLUMN give_currency_code TEXT",
    "ALTER TABLE bids ADD COLUMN get_currency_code TEXT",
    "ALTER TABLE bids ADD COLUMN notified_status TEXT",
    "ALTER TABLE bids ADD COLUMN checked_at INTEGER",
    "ALTER TABLE bids ADD COLUMN next_check_at INTEGER",
    # Last values a chat typed per order-form field; values are personal data, so encrypted.
    """
    CREATE TABLE field_memory (
        chat_id INTEGER NOT NULL,
        field_name TEXT NOT NULL,
        value_digest TEXT NOT NULL,
        value_ciphertext BLOB NOT NULL,
        used_at INTEGER NOT NULL,
        PRIMARY KEY (chat_id, field_name, value_digest)
    )
    """,
    # A partner's payout request, recorded before add_partner_payout so a second Confirm can't send twice.
    """
    CREATE TABLE payout_requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        request_key TEXT NOT NULL UNIQUE,
        method_id TEXT NOT NULL,
        payout_id TEXT,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER
    )
    """,
)

_V3 = (
    # Orders of any platform: string ids, the idempotency key per platform, an encrypted per-order
    # secret and (where the platform resends exact bytes) the encrypted prepared request.
    """
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        platform TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        prepared_ciphertext BLOB,
        order_id TEXT,
        number TEXT,
        secret_ciphertext BLOB,
        direction_id TEXT,
        status_code TEXT,
        status_phase TEXT,
        status_title TEXT,
        status_rank INTEGER NOT NULL DEFAULT 0,
        notified_status TEXT,
        push_token TEXT UNIQUE,
        give_amount TEXT,
        get_amount TEXT,
        give_currency_code TEXT,
        get_currency_code TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER,
        status_changed_at INTEGER,
        checked_at INTEGER,
        next_check_at INTEGER,
        -- created, but the secret to follow it was lost with the answer: never shown as payable
        unreachable INTEGER NOT NULL DEFAULT 0,
        UNIQUE (platform, idempotency_key),
        UNIQUE (platform, order_id)
    )
    """,
    "CREATE INDEX ix_orders_chat_created ON orders (chat_id, platform, created_at)",
    "CREATE INDEX ix_orders_open ON orders (platform, status_phase)",
    # Phases of the copied statuses are the platform's to say: OrderRepository.restore_phases().
    """
    INSERT INTO orders (
        id, chat_id, platform, idempotency_key, order_id, number, direction_id,
        status_code, status_phase, status_title, status_rank, notified_status, push_token,
        give_amount, get_amount, give_currency_code, get_currency_code,
        created_at, updated_at, status_changed_at, checked_at, next_check_at
    )
    SELECT id, chat_id, 'premiumexchanger', api_id, CAST(bid_id AS TEXT), CAST(bid_id AS TEXT),
        CAST(direction_id AS TEXT), status, NULL, status_title, 0, notified_status, callback_token,
        give_amount, get_amount, give_currency_code, get_currency_code,
        created_at, updated_at, status_changed_at, checked_at, next_check_at
    FROM bids
    """,
    # Queued notifications named the order by the exchange's id; the local id is the same row.
    """
    UPDATE outbox SET payload = json_object(
        'order', (SELECT id FROM bids WHERE bids.bid_id = json_extract(outbox.payload, '$.bid_id')),
        'status', json_extract(payload, '$.status'),
        'status_title', json_extract(payload, '$.status_title'),
        'title_lang', json_extract(payload, '$.title_lang')
    )
    WHERE sent_at IS NULL AND json_valid(payload) AND json_extract(payload, '$.bid_id') IS NOT NULL
    """,
    # The bid hashes are order secrets: seal_legacy() encrypts them into orders, then drops this.
    "ALTER TABLE bids RENAME TO legacy_bids",
    """
    CREATE TABLE partner_credentials (
        chat_id INTEGER NOT NULL,
        platform TEXT NOT NULL,
        sealed BLOB NOT NULL,
        partner_id TEXT,
        push_token TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (chat_id, platform),
        UNIQUE (platform, push_token)
    )
    """,
    # partner_keys (PremiumExchanger login + key) is moved by seal_legacy(), which can decrypt it.
    """
    CREATE TABLE attributions (
        chat_id INTEGER NOT NULL,
        platform TEXT NOT NULL,
        partner TEXT NOT NULL,
        campaign TEXT,
        attributed_at INTEGER NOT NULL,
        PRIMARY KEY (chat_id, platform)
    )
    """,
    "CREATE INDEX ix_attributions_partner ON attributions (platform, partner, attributed_at)",
    """
    INSERT INTO attributions (chat_id, platform, partner, campaign, attributed_at)
    SELECT chat_id, 'premiumexchanger', CAST(partner_id AS TEXT), partner_campaign,
        COALESCE(attributed_at, created_at)
    FROM chat_settings WHERE partner_id IS NOT NULL
    """,
    "ALTER TABLE payout_requests ADD COLUMN platform TEXT NOT NULL DEFAULT 'premiumexchanger'",
    # Pushes (webhooks) already handled, by the platform's deduplication key.
    """
    CREATE TABLE push_events (
        platform TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (platform, dedupe_key)
    )
    """,
    "CREATE INDEX ix_push_events_received ON push_events (received_at)",
)

# The payment details an order asked for (encrypted), shown after the exchange stops showing them.
_V4 = ("ALTER TABLE orders ADD COLUMN payment_ciphertext TEXT",)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema: meta, fsm_state, chat_settings, partner_keys, bids, outbox", _V1),
    Migration(2, "order amounts and tracking, field memory, payout requests", _V2),
    Migration(3, "platforms: orders, partner credentials, attributions and pushes per platform", _V3),
    Migration(4, "orders: the payment details each order asked for", _V4),
)

LATEST_VERSION = MIGRATIONS[-1].version


async def get_schema_version(db: Database) -> int:
    return int(await db.fetchval("PRAGMA user_version") or 0)


async def apply_migrations(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Apply the migrations newer than the database; return the resulting version."""
    _check_sequence(migrations)
    known = migrations[-1].version if migrations else 0
    current = await get_schema_version(db)
    if current > known:
        raise SchemaTooNewError(current, known)
    for migration in migrations:
        if migration.version <= current:
            continue
        async with db.transaction():
            # Re-read under the write lock: another process may have migrated meanwhile.
            if await get_schema_version(db) >= migration.version:
                continue
            for statement in migration.statements:
                await db.connection.execute(statement)
            await db.connection.execute(f"PRAGMA user_version = {int(migration.version)}")
            logger.info("Database migrated to version %d: %s", migration.version, migration.description)
    return await get_schema_version(db)


def _check_sequence(migrations: tuple[Migration, ...]) -> None:
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"Migrations must be numbered 1, 2, 3...; found {migration.version} at {expected}"
            )
