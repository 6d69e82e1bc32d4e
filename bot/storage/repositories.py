"""Typed access to the bot's tables. Every timestamp is unix seconds from ``Database.now()``."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import NamedTuple

from pydantic import SecretStr

from bot.storage.crypto import SecretBox
from bot.storage.database import Database

FINAL_STATUSES: frozenset[str] = frozenset({"success", "cancel", "delete", "error"})


class Attribution(NamedTuple):
    partner_id: int
    campaign: str | None


class ChatSettingsRepository:
    LANGUAGE_CACHE_SIZE = 50_000

    def __init__(self, db: Database) -> None:
        self.db = db
        # Every update asks for the chat's language: keep the answers (write-through, one process).
        self._languages: OrderedDict[int, str | None] = OrderedDict()
        self._inactive: set[int] | None = None  # chats that blocked the bot; loaded on first use

    async def _ensure_row(self, chat_id: int) -> None:
        now = self.db.now()
        await self.db.execute(
            "INSERT OR IGNORE INTO chat_settings (chat_id, created_at, updated_at) VALUES (?, ?, ?)",
            (chat_id, now, now),
        )

    async def get_language(self, chat_id: int) -> str | None:
        if chat_id in self._languages:
            self._languages.move_to_end(chat_id)
            return self._languages[chat_id]
        language = await self.db.fetchval("SELECT language FROM chat_settings WHERE chat_id = ?", (chat_id,))
        self._remember_language(chat_id, language)
        return language

    def _remember_language(self, chat_id: int, language: str | None) -> None:
        self._languages[chat_id] = language
        self._languages.move_to_end(chat_id)
        while len(self._languages) > self.LANGUAGE_CACHE_SIZE:
            self._languages.popitem(last=False)

    async def set_language(self, chat_id: int, language: str | None) -> None:
        now = self.db.now()
        await self.db.execute(
            """
            INSERT INTO chat_settings (chat_id, language, created_at, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language, updated_at = excluded.updated_at
            """,
            (chat_id, language, now, now),
        )
        self._remember_language(chat_id, language)

    async def get_attribution(self, chat_id: int) -> Attribution | None:
        row = await self.db.fetchone(
            """
            SELECT partner_id, partner_campaign FROM chat_settings
            WHERE chat_id = ? AND partner_id IS NOT NULL
            """,
            (chat_id,),
        )
        return None if row is None else Attribution(row["partner_id"], row["partner_campaign"])

    async def attribute(self, chat_id: int, partner_id: int, campaign: str | None = None) -> bool:
        """Credit the chat to ``partner_id`` unless a partner already has it; True when this call set it."""
        async with self.db.transaction():
            await self._ensure_row(chat_id)
            changed = await self.db.execute(
                """
                UPDATE chat_settings
                SET partner_id = ?, partner_campaign = ?, attributed_at = ?, updated_at = ?
                WHERE chat_id = ? AND partner_id IS NULL
                """,
                (partner_id, campaign, self.db.now(), self.db.now(), chat_id),
            )
        return changed > 0

    async def mark_inactive(self, chat_id: int) -> None:
        """The chat cannot receive messages (the user blocked the bot)."""
        await self._set_active(chat_id, False)

    async def mark_active(self, chat_id: int) -> None:
        await self._set_active(chat_id, True)

    async def _set_active(self, chat_id: int, active: bool) -> None:
        now = self.db.now()
        await self.db.execute(
            """
            INSERT INTO chat_settings (chat_id, is_active, created_at, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (chat_id) DO UPDATE
            SET is_active = excluded.is_active, updated_at = excluded.updated_at
            WHERE chat_settings.is_active != excluded.is_active
            """,
            (chat_id, int(active), now, now),
        )
        inactive = await self._inactive_chats()
        if active:
            inactive.discard(chat_id)
        else:
            inactive.add(chat_id)

    async def _inactive_chats(self) -> set[int]:
        if self._inactive is None:
            rows = await self.db.fetchall("SELECT chat_id FROM chat_settings WHERE is_active = 0")
            self._inactive = {int(row["chat_id"]) for row in rows}
        return self._inactive

    async def is_active(self, chat_id: int) -> bool:
        """True unless the chat was marked inactive (unknown chats are active)."""
        return chat_id not in await self._inactive_chats()


@dataclass(frozen=True)
class LinkedKey:
    chat_id: int
    login: str
    key: SecretStr
    partner_id: int | None
    created_at: int


class PartnerKeyRepository:
    """Partner API keys, encrypted with a :class:`SecretBox` and bound to their chat id."""

    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    @staticmethod
    def _aad(chat_id: int) -> bytes:
        return f"partner_keys:{int(chat_id)}".encode("ascii")

    async def save(self, chat_id: int, login: str, key: SecretStr, partner_id: int | None) -> None:
        """Store (or replace) the chat's key."""
        sealed = self.box.encrypt(key.get_secret_value(), aad=self._aad(chat_id))
        await self.db.execute(
            """
            INSERT INTO partner_keys (chat_id, api_login, key_ciphertext, partner_id, created_at)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (chat_id) DO UPDATE SET api_login = excluded.api_login,
                key_ciphertext = excluded.key_ciphertext, partner_id = excluded.partner_id,
                created_at = excluded.created_at
            """,
            (chat_id, login, sealed, partner_id, self.db.now()),
        )

    async def load(self, chat_id: int) -> LinkedKey | None:
        """The chat's key, decrypted. Raises ``WrongSecretKey`` / ``DecryptionError`` from the box."""
        row = await self.db.fetchone("SELECT * FROM partner_keys WHERE chat_id = ?", (chat_id,))
        if row is None:
            return None
        key = self.box.decrypt(row["key_ciphertext"], aad=self._aad(chat_id))
        return LinkedKey(
            chat_id=row["chat_id"],
            login=row["api_login"],
            key=SecretStr(key),
            partner_id=row["partner_id"],
            created_at=row["created_at"],
        )

    async def get_login(self, chat_id: int) -> str | None:
        return await self.db.fetchval("SELECT api_login FROM partner_keys WHERE chat_id = ?", (chat_id,))

    async def delete(self, chat_id: int) -> bool:
        return await self.db.execute("DELETE FROM partner_keys WHERE chat_id = ?", (chat_id,)) > 0


class ApiIdTaken(Exception):
    def __init__(self, api_id: str) -> None:
        super().__init__(f"api_id {api_id!r} is already reserved")
        self.api_id = api_id


class BidNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Bid:
    id: int
    chat_id: int
    api_id: str
    bid_id: int | None
    bid_hash: str | None
    direction_id: int | None
    status: str | None
    status_title: str | None
    callback_token: str | None
    created_at: int
    updated_at: int | None
    status_changed_at: int | None
    give_amount: str | None = None
    get_amount: str | None = None
    give_currency_code: str | None = None
    get_currency_code: str | None = None
    notified_status: str | None = None
    checked_at: int | None = None
    next_check_at: int | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Bid:
        return cls(**{field.name: row[field.name] for field in fields(cls)})


class BidRepository:
    """Exchange orders. ``reserve`` records the ``api_id`` (the idempotency key) before ``create_bid``;
    ``attach`` fills in what the exchanger answered."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def reserve(self, chat_id: int, api_id: str, direction_id: int | None) -> None:
        """Raises :class:`ApiIdTaken` when ``api_id`` was reserved before."""
        try:
            await self.db.execute(
                "INSERT INTO bids (chat_id, api_id, direction_id, created_at) VALUES (?, ?, ?, ?)",
                (chat_id, str(api_id), direction_id, self.db.now()),
            )
        except sqlite3.IntegrityError as exc:
            if "bids.api_id" not in str(exc):
                raise
            raise ApiIdTaken(str(api_id)) from None

    async def attach(
        self,
        api_id: str,
        bid_id: int,
        bid_hash: str | None,
        status: str | None,
        status_title: str | None,
        callback_token: str | None = None,
        *,
        amounts: tuple[str | None, str | None, str | None, str | None] = (None, None, None, None),
    ) -> None:
        """Fill in the exchanger's bid. ``amounts`` is (give amount, get amount, give code, get code),
        amounts as exact decimal strings. The status it was created with counts as already notified.
        Raises :class:`BidNotFound` when ``api_id`` was never reserved."""
        now = self.db.now()
        changed = await self.db.execute(
            """
            UPDATE bids SET bid_id = ?, bid_hash = ?, status = ?, status_title = ?, callback_token = ?,
                updated_at = ?, status_changed_at = ?, notified_status = ?,
                give_amount = ?, get_amount = ?, give_currency_code = ?, get_currency_code = ?
            WHERE api_id = ?
            """,
            (bid_id, bid_hash, status, status_title, callback_token, now, now, status, *amounts, str(api_id)),
        )
        if not changed:
            raise BidNotFound(f"no bid reserved with api_id {api_id!r}")

    async def _get(self, column: str, value: object) -> Bid | None:
        row = await self.db.fetchone(f"SELECT * FROM bids WHERE {column} = ?", (value,))
        return None if row is None else Bid.from_row(row)

    async def get_by_api_id(self, api_id: str) -> Bid | None:
        return await self._get("api_id", str(api_id))

    async def get_by_bid_id(self, bid_id: int) -> Bid | None:
        return await self._get("bid_id", bid_id)

    async def get_by_callback_token(self, token: str) -> Bid | None:
        return await self._get("callback_token", token)

    async def list_for_chat(self, chat_id: int, limit: int = 10, offset: int = 0) -> list[Bid]:
        """The chat's orders (reservations that never became one are left out), newest first."""
        rows = await self.db.fetchall(
            """
            SELECT * FROM bids WHERE chat_id = ? AND bid_id IS NOT NULL
            ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?
            """,
            (chat_id, limit, offset),
        )
        return [Bid.from_row(row) for row in rows]

    async def count_for_chat(self, chat_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM bids WHERE chat_id = ? AND bid_id IS NOT NULL", (chat_id,)
            )
        )

    async def pending_reservations(self, *, chat_id: int | None = None, since: int = 0) -> list[Bid]:
        """Reservations (an api_id sent, or about to be) with no order attached yet, oldest first."""
        where = "bid_id IS NULL AND created_at >= ?" + (" AND chat_id = ?" if chat_id is not None else "")
        params: tuple[object, ...] = (since,) if chat_id is None else (since, chat_id)
        rows = await self.db.fetchall(f"SELECT * FROM bids WHERE {where} ORDER BY id", params)
        return [Bid.from_row(row) for row in rows]

    async def forget_reservation(self, api_id: str) -> bool:
        """Drop a reservation the exchanger certainly has no order for (refused, or looked up: none)."""
        return bool(
            await self.db.execute("DELETE FROM bids WHERE api_id = ? AND bid_id IS NULL", (str(api_id),))
        )

    async def update_status(self, bid_id: int, status: str, status_title: str | None) -> bool:
        """Record the bid's status; True only when the status code changed (a new title alone is saved
        but returns False)."""
        now = self.db.now()
        async with self.db.transaction():
            current = await self.db.fetchone(
                "SELECT status, status_title FROM bids WHERE bid_id = ?", (bid_id,)
            )
            if current is None:
                return False
            if current["status"] == status:
                if current["status_title"] != status_title:
                    await self.db.execute(
                        "UPDATE bids SET status_title = ?, updated_at = ? WHERE bid_id = ?",
                        (status_title, now, bid_id),
                    )
                return False
            await self.db.execute(
                """
                UPDATE bids SET status = ?, status_title = ?, updated_at = ?, status_changed_at = ?
                WHERE bid_id = ?
                """,
                (status, status_title, now, now, bid_id),
            )
            return True

    async def open_bids(self) -> list[Bid]:
        """Attached bids whose status is not final (unknown codes count as open), oldest first.

        Reservations never attached (no ``bid_id``) are left out: there is nothing to poll yet.
        """
        placeholders = ",".join("?" * len(FINAL_STATUSES))
        rows = await self.db.fetchall(
            f"""
            SELECT * FROM bids
            WHERE bid_id IS NOT NULL AND (status IS NULL OR status NOT IN ({placeholders}))
            ORDER BY id
            """,
            tuple(sorted(FINAL_STATUSES)),
        )
        return [Bid.from_row(row) for row in rows]

    # -- status notifications (bot/notifications) ------------------------------------------------

    async def mark_notified(self, bid_id: int, status: str) -> None:
        """The chat has been told about (or has seen) ``status``."""
        await self.db.execute("UPDATE bids SET notified_status = ? WHERE bid_id = ?", (status, bid_id))

    async def schedule_check(self, bid_id: int, checked_at: int | None, next_check_at: int | None) -> None:
        """When the status tracker should ask the exchanger about this bid directly next (None: a while
        after its last status change, see :meth:`due_for_check`)."""
        await self.db.execute(
            """
            UPDATE bids SET checked_at = COALESCE(?, checked_at), next_check_at = ? WHERE bid_id = ?
            """,
            (checked_at, next_check_at, bid_id),
        )

    async def due_for_check(self, now: int, unchanged_for: int, limit: int) -> list[Bid]:
        """Open bids whose ``next_check_at`` has passed (never scheduled: ``unchanged_for`` seconds after
        their last status change), the longest overdue first."""
        placeholders = ",".join("?" * len(FINAL_STATUSES))
        rows = await self.db.fetchall(
            f"""
            SELECT *, COALESCE(next_check_at, COALESCE(status_changed_at, created_at) + ?) AS due_at
            FROM bids
            WHERE bid_id IS NOT NULL AND (status IS NULL OR status NOT IN ({placeholders}))
                AND COALESCE(next_check_at, COALESCE(status_changed_at, created_at) + ?) <= ?
            ORDER BY due_at, id
            LIMIT ?
            """,
            (unchanged_for, *sorted(FINAL_STATUSES), unchanged_for, now, limit),
        )
        return [Bid.from_row(row) for row in rows]
