"""Partners' linked keys, one per chat and platform, encrypted with a :class:`SecretBox`.

Every value the partner typed (secret or not: a login is personal data too), the label the partner
knows the key by and the platform's extras (a webhook secret) are sealed together, bound to the chat
and platform. Only the partner's id on the site and the push token (a random path segment) are clear.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from pydantic import SecretStr

from bot.domain.capabilities import PartnerCredentials
from bot.storage.crypto import SecretBox
from bot.storage.database import Database


@dataclass(frozen=True)
class LinkedCredentials:
    chat_id: int
    platform: str
    credentials: PartnerCredentials
    partner_id: str | None
    created_at: int
    push_token: str | None = None
    extra: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return self.credentials.label


class PartnerCredentialRepository:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    @staticmethod
    def _aad(chat_id: int, platform: str) -> bytes:
        return f"partner_credentials:{platform}:{int(chat_id)}".encode()

    def _seal(
        self, chat_id: int, platform: str, credentials: PartnerCredentials, extra: dict[str, str]
    ) -> bytes:
        document = {
            "values": {name: value.get_secret_value() for name, value in credentials.values.items()},
            "label": credentials.label,
            "extra": dict(extra),
        }
        return self.box.encrypt(json.dumps(document), aad=self._aad(chat_id, platform))

    def _open(self, row: sqlite3.Row) -> LinkedCredentials:
        chat_id, platform = int(row["chat_id"]), str(row["platform"])
        document = json.loads(self.box.decrypt(row["sealed"], aad=self._aad(chat_id, platform)))
        values = {name: SecretStr(value) for name, value in document["values"].items()}
        return LinkedCredentials(
            chat_id=chat_id,
            platform=platform,
            credentials=PartnerCredentials(platform, values, label=document.get("label") or ""),
            partner_id=row["partner_id"],
            created_at=row["created_at"],
            push_token=row["push_token"],
            extra=dict(document.get("extra") or {}),
        )

    async def save(
        self,
        chat_id: int,
        credentials: PartnerCredentials,
        partner_id: str | None,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Store (or replace) the chat's key for ``credentials.platform``."""
        platform = credentials.platform
        sealed = self._seal(chat_id, platform, credentials, extra or {})
        await self.db.execute(
            """
            INSERT INTO partner_credentials (chat_id, platform, sealed, partner_id, push_token, created_at)
            VALUES (?, ?, ?, ?, NULL, ?)
            ON CONFLICT (chat_id, platform) DO UPDATE SET sealed = excluded.sealed,
                partner_id = excluded.partner_id, push_token = NULL, created_at = excluded.created_at
            """,
            (chat_id, platform, sealed, None if partner_id is None else str(partner_id), self.db.now()),
        )

    async def load(self, chat_id: int, platform: str) -> LinkedCredentials | None:
        """The chat's key, decrypted. Raises ``WrongSecretKey`` / ``DecryptionError`` from the box."""
        row = await self.db.fetchone(
            "SELECT * FROM partner_credentials WHERE chat_id = ? AND platform = ?", (chat_id, platform)
        )
        return None if row is None else self._open(row)

    async def label(self, chat_id: int, platform: str) -> str | None:
        linked = await self.load(chat_id, platform)
        return None if linked is None else linked.label

    async def partner_id(self, chat_id: int, platform: str) -> str | None:
        """The site's id of the partner linked in this chat (a partner can't be their own referral)."""
        return await self.db.fetchval(
            "SELECT partner_id FROM partner_credentials WHERE chat_id = ? AND platform = ?",
            (chat_id, platform),
        )

    async def delete(self, chat_id: int, platform: str) -> bool:
        deleted = await self.db.execute(
            "DELETE FROM partner_credentials WHERE chat_id = ? AND platform = ?", (chat_id, platform)
        )
        return deleted > 0

    async def linked(self, platform: str) -> list[LinkedCredentials]:
        """Every key linked on ``platform`` (for pollers that watch each partner), oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM partner_credentials WHERE platform = ? ORDER BY created_at, chat_id", (platform,)
        )
        return [self._open(row) for row in rows]

    async def set_extra(self, chat_id: int, platform: str, extra: dict[str, str]) -> bool:
        """Replace the sealed extras (e.g. a webhook secret returned once); False when nothing is linked."""
        async with self.db.transaction():
            linked = await self.load(chat_id, platform)
            if linked is None:
                return False
            sealed = self._seal(chat_id, platform, linked.credentials, extra)
            await self.db.execute(
                "UPDATE partner_credentials SET sealed = ? WHERE chat_id = ? AND platform = ?",
                (sealed, chat_id, platform),
            )
            return True

    async def set_push_token(self, chat_id: int, platform: str, token: str | None) -> bool:
        changed = await self.db.execute(
            "UPDATE partner_credentials SET push_token = ? WHERE chat_id = ? AND platform = ?",
            (token, chat_id, platform),
        )
        return changed > 0

    async def get_by_push_token(self, platform: str, token: str) -> LinkedCredentials | None:
        row = await self.db.fetchone(
            "SELECT * FROM partner_credentials WHERE platform = ? AND push_token = ?", (platform, token)
        )
        return None if row is None else self._open(row)
