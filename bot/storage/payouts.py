"""Payout requests of the partner cabinet, recorded before ``add_partner_payout`` is called.

The API has nothing to look a payout request up by, so a second Confirm must be stopped here: the
request key is unique, and only the caller that moved a row into ``sending`` may call the API.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from enum import StrEnum

from bot.storage.database import Database


class PayoutState(StrEnum):
    SENDING = "sending"  # the API call is (or was, if we crashed) under way
    DONE = "done"  # the exchanger answered with payout_id
    REFUSED = "refused"  # the exchanger refused it: nothing was created
    FAILED = "failed"  # the exchanger answered with another error: nothing was created, may retry
    UNKNOWN = "unknown"  # the answer was lost: it may or may not exist, never resend


@dataclass(frozen=True)
class PayoutRequest:
    id: int
    chat_id: int
    platform: str
    request_key: str
    method_id: str
    payout_id: str | None
    state: PayoutState
    created_at: int
    updated_at: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> PayoutRequest:
        values = {f.name: row[f.name] for f in fields(cls)}
        values["state"] = PayoutState(values["state"])
        return cls(**values)


class PayoutRequestRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, chat_id: int, platform: str, request_key: str, method_id: str) -> bool:
        """Record the request as ``sending``; True when this caller may call the API now.

        False when the key is already known and not in ``failed`` (a FAILED one is claimed again)."""
        now = self.db.now()
        async with self.db.transaction():
            inserted = await self.db.execute(
                """
                INSERT INTO payout_requests (
                    chat_id, platform, request_key, method_id, state, created_at, updated_at
                )
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_key) DO NOTHING
                """,
                (chat_id, platform, request_key, str(method_id), PayoutState.SENDING.value, now, now),
            )
            if inserted:
                return True
            retried = await self.db.execute(
                """
                UPDATE payout_requests SET state = ?, updated_at = ?
                WHERE request_key = ? AND chat_id = ? AND state = ?
                """,
                (PayoutState.SENDING.value, now, request_key, chat_id, PayoutState.FAILED.value),
            )
            return retried > 0

    async def finish(self, request_key: str, state: PayoutState, payout_id: str | None = None) -> None:
        await self.db.execute(
            "UPDATE payout_requests SET state = ?, payout_id = ?, updated_at = ? WHERE request_key = ?",
            (state.value, payout_id, self.db.now(), request_key),
        )

    async def get(self, chat_id: int, request_key: str) -> PayoutRequest | None:
        row = await self.db.fetchone(
            "SELECT * FROM payout_requests WHERE request_key = ? AND chat_id = ?", (request_key, chat_id)
        )
        return None if row is None else PayoutRequest.from_row(row)

    async def list_for_chat(self, chat_id: int, platform: str, limit: int = 20) -> list[PayoutRequest]:
        rows = await self.db.fetchall(
            "SELECT * FROM payout_requests WHERE chat_id = ? AND platform = ? ORDER BY id DESC LIMIT ?",
            (chat_id, platform, limit),
        )
        return [PayoutRequest.from_row(row) for row in rows]
