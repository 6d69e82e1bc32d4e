"""The ``outbox`` table: notifications persisted before they are sent, so none is lost to a crash,
a restart or Telegram being down. Rows are kept with ``sent_at`` once sent; dropped rows are deleted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.storage.database import Database

SENT_RETENTION_SECONDS = 7 * 24 * 3600
# An operator's broadcast (bot/admin/broadcast.py): its rows go after every other kind, so order news is
# not held up behind a broadcast to many chats, and its sent rows are kept (they are its progress) until
# the broadcast itself is forgotten.
BROADCAST_KIND = "broadcast"


@dataclass(frozen=True)
class OutboxItem:
    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    created_at: int
    attempts: int


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int:
        """Add a notification (joins the caller's transaction, if any); returns its id."""
        return await self.db.execute_insert(
            "INSERT INTO outbox (chat_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
            (chat_id, kind, json.dumps(payload, ensure_ascii=False, sort_keys=True), self.db.now()),
        )

    async def heads(self, limit: int) -> list[OutboxItem]:
        """The oldest unsent notification of each chat, oldest first: a chat's messages go out in order,
        and one chat's backlog does not hold up the others. Broadcast rows come after every other kind,
        in a chat and across chats."""
        rows = await self.db.fetchall(
            """
            SELECT * FROM outbox WHERE id IN (
                SELECT COALESCE(MIN(CASE WHEN kind IS NOT :bulk THEN id END), MIN(id))
                FROM outbox WHERE sent_at IS NULL GROUP BY chat_id
            )
            ORDER BY kind IS :bulk, id LIMIT :limit
            """,
            {"bulk": BROADCAST_KIND, "limit": limit},
        )
        return [
            OutboxItem(
                id=row["id"],
                chat_id=row["chat_id"],
                kind=row["kind"] or "",
                payload=json.loads(row["payload"]),
                created_at=row["created_at"],
                attempts=row["attempts"],
            )
            for row in rows
        ]

    async def pending_count(self, chat_id: int | None = None) -> int:
        if chat_id is None:
            return int(await self.db.fetchval("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"))
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND chat_id = ?", (chat_id,)
            )
        )

    async def mark_sent(self, item_id: int) -> None:
        await self.db.execute(
            "UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?", (self.db.now(), item_id)
        )

    async def record_failure(self, item_id: int, next_attempt_at: int | None) -> None:
        await self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
            (next_attempt_at, item_id),
        )

    async def drop(self, item_id: int) -> None:
        await self.db.execute("DELETE FROM outbox WHERE id = ? AND sent_at IS NULL", (item_id,))

    async def withdraw_for_order(self, kind: str, local_id: int) -> bool:
        """Delete the unsent notification of ``kind`` about the order ``local_id`` (its payload's
        ``order``); False when none was waiting."""
        return bool(
            await self.db.execute(
                "DELETE FROM outbox WHERE kind = ? AND sent_at IS NULL"
                " AND json_extract(payload, '$.order') = ?",
                (kind, local_id),
            )
        )

    async def oldest_due_at(self) -> int | None:
        """``created_at`` of the oldest unsent notification that is due now (not waiting for a retry)."""
        value = await self.db.fetchval(
            "SELECT MIN(created_at) FROM outbox WHERE sent_at IS NULL "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?)",
            (self.db.now(),),
        )
        return None if value is None else int(value)

    async def drop_chat(self, chat_id: int) -> int:
        """Forget every unsent notification of the chat; returns how many."""
        return await self.db.execute("DELETE FROM outbox WHERE chat_id = ? AND sent_at IS NULL", (chat_id,))

    async def prune_sent(self, older_than: int = SENT_RETENTION_SECONDS) -> int:
        """Delete sent rows older than ``older_than`` seconds, except broadcasts' (see BROADCAST_KIND)."""
        return await self.db.execute(
            "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ? AND kind IS NOT ?",
            (self.db.now() - older_than, BROADCAST_KIND),
        )
