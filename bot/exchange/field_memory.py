"""The last values a chat typed into order-form fields, offered as one-tap answers next time.

Values are kept by what they are (:func:`memory_key`: an address per network, a card per currency, an
e-mail, a phone), never by a platform's field name, which different directions reuse for different
things. Values are personal data: stored encrypted, bound to the chat, and found again by a keyed
digest rather than by their plaintext."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

from bot.domain.models import FieldKind, FormField, ValueKind
from bot.exchange.validation import network_id
from bot.storage.crypto import DecryptionError, SecretBox
from bot.storage.database import Database

KEEP_PER_FIELD = 3
# Keys of this scheme start with it; rows under older keys (a platform's field name) are dropped.
KEY_PREFIX = "v2:"
_PERSONAL = {ValueKind.EMAIL, ValueKind.PHONE, ValueKind.TELEGRAM, ValueKind.NAME, ValueKind.FIRST_NAME,
             ValueKind.MIDDLE_NAME, ValueKind.LAST_NAME}  # fmt: skip


def memory_key(spec: FormField) -> str | None:
    """What a field's values are kept and offered under; None for values that aren't kept (free text,
    an address on a network we can't name)."""
    if spec.kind is not FieldKind.TEXT:
        return None
    if spec.value_kind is ValueKind.ADDRESS:
        network = network_id(spec.network, spec.currency) or " ".join((spec.network or "").lower().split())
        return f"{KEY_PREFIX}address:{network}" if network else None
    if spec.value_kind is ValueKind.CARD:
        return f"{KEY_PREFIX}card:{(spec.currency or '').strip().upper()}"
    if spec.value_kind in _PERSONAL:
        return f"{KEY_PREFIX}{spec.value_kind.value}"
    return None


class FieldMemory:
    def __init__(self, db: Database, box: SecretBox, digest_key: bytes) -> None:
        self.db, self.box, self._digest_key = db, box, digest_key

    def _aad(self, chat_id: int, field_name: str) -> bytes:
        return f"field_memory:{chat_id}:{field_name}".encode()

    def _digest(self, chat_id: int, field_name: str, value: str) -> str:
        message = f"{chat_id}\0{field_name}\0{value}".encode()
        return hmac.new(self._digest_key, message, hashlib.sha256).hexdigest()

    async def remember_form(self, chat_id: int, fields: list[FormField], values: dict[str, str]) -> None:
        """Keep the answers of an order the platform accepted, each under its field's key. Two fields
        sharing a key (a receiving and a refund address on one network) both keep their answer."""
        keys = {spec.name: key for spec in fields if (key := memory_key(spec)) is not None}
        await self.remember(chat_id, [(keys[name], value) for name, value in values.items() if name in keys])

    async def forget(self, chat_id: int, key: str, value: str) -> None:
        """The platform refused ``value``: stop offering it."""
        await self.db.execute(
            "DELETE FROM field_memory WHERE chat_id = ? AND field_name = ? AND value_digest = ?",
            (chat_id, key, self._digest(chat_id, key, value)),
        )

    async def remember(self, chat_id: int, values: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        """``values`` by :func:`memory_key` (a mapping, or pairs when one key has several values)."""
        pairs = values.items() if isinstance(values, Mapping) else values
        kept = list(dict.fromkeys((name, value) for name, value in pairs if value))
        if not kept:
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
            for name, value in kept
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
            await self.db.execute(  # kept under a platform's field name by an older version
                "DELETE FROM field_memory WHERE chat_id = ? AND substr(field_name, 1, ?) != ?",
                (chat_id, len(KEY_PREFIX), KEY_PREFIX),
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
