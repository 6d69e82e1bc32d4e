"""Per-chat settings (language, whether the chat can be reached) and partner attribution per platform."""

from __future__ import annotations

from collections import OrderedDict

from bot.domain.models import Attribution
from bot.storage.database import Database

_FAR_FUTURE = 2**62


class ChatSettingsRepository:
    LANGUAGE_CACHE_SIZE = 50_000

    def __init__(self, db: Database) -> None:
        self.db = db
        # Every update asks for the chat's language: keep the answers (write-through, one process).
        self._languages: OrderedDict[int, str | None] = OrderedDict()
        self._inactive: set[int] | None = None  # chats that blocked the bot; loaded on first use
        self._known: set[int] = set()  # chats remember_chat has written this process

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

    async def get_attribution(self, chat_id: int, platform: str) -> Attribution | None:
        row = await self.db.fetchone(
            "SELECT partner, campaign FROM attributions WHERE chat_id = ? AND platform = ?",
            (chat_id, platform),
        )
        return None if row is None else Attribution(partner=row["partner"], campaign=row["campaign"])

    async def attribute(self, chat_id: int, platform: str, partner: str, campaign: str | None = None) -> bool:
        """Credit the chat to ``partner`` on ``platform`` unless a partner already has it; True when
        this call set it."""
        inserted = await self.db.execute(
            """
            INSERT INTO attributions (chat_id, platform, partner, campaign, attributed_at)
            VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, platform) DO NOTHING
            """,
            (chat_id, platform, str(partner), campaign, self.db.now()),
        )
        return inserted > 0

    async def customers_by_campaign(
        self, platform: str, partner: str, start: int | None = None, end: int | None = None
    ) -> list[tuple[str | None, int]]:
        """(campaign tag, chats) attributed to ``partner`` between two unix times (inclusive), most first."""
        rows = await self.db.fetchall(
            """
            SELECT campaign, COUNT(*) AS customers FROM attributions
            WHERE platform = ? AND partner = ? AND attributed_at >= ? AND attributed_at <= ?
            GROUP BY campaign ORDER BY customers DESC, campaign
            """,
            (platform, str(partner), start or 0, _FAR_FUTURE if end is None else end),
        )
        return [(row["campaign"], int(row["customers"])) for row in rows]

    async def remember_chat(self, chat_id: int) -> None:
        """The chat has talked to the bot (an /admin broadcast reaches it): a row with no settings.
        Written once per chat and process."""
        if chat_id in self._known:
            return
        now = self.db.now()
        await self.db.execute(
            "INSERT INTO chat_settings (chat_id, created_at, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO NOTHING",
            (chat_id, now, now),
        )
        self._known.add(chat_id)
        while len(self._known) > self.LANGUAGE_CACHE_SIZE:
            self._known.pop()

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
