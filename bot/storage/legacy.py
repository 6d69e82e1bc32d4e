"""Moves what schema 2 kept under a key only Python can use: it ran on PremiumExchanger alone.

Migration 3 renames ``bids`` to ``legacy_bids`` after copying everything but the bid hashes; here the
hashes become encrypted order secrets, and ``partner_keys`` (login in clear, key encrypted under the
old binding) become sealed partner credentials. Both legacy tables are dropped in the same
transaction, so this runs once; later starts find nothing to do.
"""

from __future__ import annotations

import logging

from pydantic import SecretStr

from bot.domain.capabilities import PartnerCredentials
from bot.storage.crypto import SecretBox
from bot.storage.database import Database
from bot.storage.orders import OrderRepository
from bot.storage.partners import PartnerCredentialRepository

log = logging.getLogger(__name__)

LEGACY_PLATFORM = "premiumexchanger"


async def _has_table(db: Database, name: str) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))


async def seal_legacy(db: Database, box: SecretBox) -> None:
    async with db.transaction():
        if await _has_table(db, "legacy_bids"):
            rows = await db.fetchall(
                "SELECT api_id, bid_hash FROM legacy_bids WHERE bid_hash IS NOT NULL AND bid_hash != ''"
            )
            for row in rows:
                aad = OrderRepository._aad("secret", LEGACY_PLATFORM, row["api_id"])
                await db.execute(
                    "UPDATE orders SET secret_ciphertext = ? WHERE platform = ? AND idempotency_key = ?",
                    (box.encrypt(row["bid_hash"], aad=aad), LEGACY_PLATFORM, row["api_id"]),
                )
            await db.execute("DROP TABLE legacy_bids")
            log.info("Moved %d order secrets of schema 2 under encryption", len(rows))
        if await _has_table(db, "partner_keys"):
            keys = PartnerCredentialRepository(db, box)
            rows = await db.fetchall("SELECT * FROM partner_keys")
            for row in rows:
                chat_id = int(row["chat_id"])
                key = box.decrypt(row["key_ciphertext"], aad=f"partner_keys:{chat_id}".encode("ascii"))
                values = {"login": SecretStr(row["api_login"]), "key": SecretStr(key)}
                credentials = PartnerCredentials(LEGACY_PLATFORM, values, label=row["api_login"])
                partner_id = None if row["partner_id"] is None else str(row["partner_id"])
                await keys.save(chat_id, credentials, partner_id)
            await db.execute("DROP TABLE partner_keys")
            log.info("Moved %d linked partner keys of schema 2 to sealed credentials", len(rows))
