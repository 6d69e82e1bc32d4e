"""The last values a chat typed into order-form fields, offered as one-tap answers next time.

Values are personal data (card numbers, wallets, e-mails): stored encrypted, bound to the chat, and
found again by a keyed digest rather than by their plaintext."""

from __future__ import annotations

import hashlib
import hmac

from bot.storage.crypto import DecryptionError, SecretBox
from bot.storage.database import Database

KEEP_PER_FIELD = 3


class FieldMemory:
    def __init__(self, db: Database, box: SecretBox, digest_key: bytes) -> None:
        self.db, self.box, self._digest_key = db, box, digest_key

    def _aad(self, chat_id: int, field_name: str) -> bytes:
        return f"field_memory:{chat_id}:{field_name}".encode()

    def _digest(self, chat_id: int, field_name: str, value: str) -> str:
        message = f"{chat_id}\0{field_name}\0{value}".encode()
        return hmac.new(self._digest_key, message, hashlib.sha256).hexdigest()

    async def remember(self, chat_id: int, values: dict[str, str]) -> None:
        values = {name: value for name, value in values.items() if value}
        if not values:
            return
        now = self.db.now()
        rows = [
            (
                chat_id,
                name,
                self._digest(chat_id, name, value),
                self.box.encrypt(value, aad=self._aad(chat_id, name)),
                now,
            )
            for name, value in values.items()
        ]
        async with self.db.transaction():
            await self.db.executemany(
                """
                INSERT INTO field_memory (chat_id, field_name, value_digest, value_ciphertext, used_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (chat_id, field_name, value_digest) DO UPDATE SET used_at = excluded.used_at
                """,
                rows,
            )
            # Keep the newest few per field: rank every value of the chat's fields in one statement.
            await self.db.execute(
                """
                DELETE FROM field_memory WHERE rowid IN (
                    SELECT rowid FROM (
                        SELECT rowid, ROW_NUMBER() OVER (
                            PARTITION BY field_name ORDER BY used_at DESC, rowid DESC) AS rank
                        FROM field_memory WHERE chat_id = ?)
                    WHERE rank > ?)
                """,
                (chat_id, KEEP_PER_FIELD),
            )

    async def recall(self, chat_id: int, field_name: str) -> list[str]:
        """Most recently used first; entries that no longer decrypt (a changed SECRET_KEY) are skipped."""
        rows = await self.db.fetchall(
            """
            SELECT value_ciphertext FROM field_memory WHERE chat_id = ? AND field_name = ?
            ORDER BY used_at DESC, rowid DESC LIMIT ?
            """,
            (chat_id, field_name, KEEP_PER_FIELD),
        )
        values = []
        for row in rows:
            try:
                values.append(self.box.decrypt(row["value_ciphertext"], aad=self._aad(chat_id, field_name)))
            except DecryptionError:
                continue
        return values
