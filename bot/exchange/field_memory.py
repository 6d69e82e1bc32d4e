"""The last values a chat typed into order-form fields, offered as one-tap answers next time.

Values are personal data (card numbers, wallets, e-mails): stored encrypted, bound to the chat, and
found again by a keyed digest rather than by their plaintext."""

from __future__ import annotations

import hashlib
import hmac
import re

from bot.storage.crypto import DecryptionError, SecretBox
from bot.storage.database import Database

KEEP_PER_FIELD = 3


def memory_name(name: str, pattern: str | None) -> str:
    """The name a field's values are kept under: a field whose valid answers have a shape (an address
    on one network) is kept apart per shape, so an address is offered only where it fits."""
    if not pattern:
        return name
    return f"{name}#{hashlib.sha256(pattern.encode()).hexdigest()[:12]}"


def fits(pattern: str | None, value: str) -> bool:
    """Whether ``value`` matches the field's ``pattern`` in full (no pattern: anything fits)."""
    if not pattern:
        return True
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return True


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
