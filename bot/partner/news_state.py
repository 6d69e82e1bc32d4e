"""Per-partner news state in the ``meta`` table (plain JSON: nothing in it is secret).

``partner-news:{platform}:{chat_id}``: the platform's cursor (``PartnerCabinet.news``), the keys of
news already told (``PartnerNews.key`` → unix time, kept ``SEEN_RETENTION`` seconds), whether polling
stopped because the platform rejected the key, and the ``created_at`` of the linked key it belongs to
(a key linked again starts over). ``partner-news-off:{platform}:{chat_id}``: the partner turned the
notifications off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.storage.database import Database

SEEN_RETENTION = 30 * 86400
MAX_SEEN = 1000


def state_name(platform: str, chat_id: int) -> str:
    return f"partner-news:{platform}:{chat_id}"


def off_name(platform: str, chat_id: int) -> str:
    return f"partner-news-off:{platform}:{chat_id}"


@dataclass
class NewsState:
    since: int | None = None  # created_at of the linked key this state is for
    cursor: str | None = None
    seen: dict[str, int] = field(default_factory=dict)
    stopped: bool = False  # the platform rejected the key: not polled until it is linked again

    @classmethod
    def parse(cls, text: str | None) -> NewsState:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(
                since=None if data.get("since") is None else int(data["since"]),
                cursor=None if data.get("cursor") is None else str(data["cursor"]),
                seen={str(k): int(v) for k, v in dict(data.get("seen") or {}).items()},
                stopped=bool(data.get("stopped")),
            )
        except (ValueError, TypeError, AttributeError):
            return cls()  # unreadable: start over (the first poll tells nothing)

    def dump(self, now: int) -> str:
        recent = sorted(
            ((k, v) for k, v in self.seen.items() if v > now - SEEN_RETENTION), key=lambda kv: (kv[1], kv[0])
        )[-MAX_SEEN:]
        data = {"since": self.since, "cursor": self.cursor, "seen": dict(recent), "stopped": self.stopped}
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    def belongs_to(self, created_at: int) -> bool:
        return self.since == created_at


async def load_state(db: Database, platform: str, chat_id: int) -> NewsState:
    return NewsState.parse(await db.get_meta(state_name(platform, chat_id)))


async def save_state(db: Database, platform: str, chat_id: int, state: NewsState) -> None:
    await db.set_meta(state_name(platform, chat_id), state.dump(db.now()))


async def reset_state(db: Database, platform: str, chat_id: int) -> None:
    """Start over (a key linked again, notifications turned back on): the next poll tells nothing."""
    await db.set_meta(state_name(platform, chat_id), NewsState().dump(db.now()))


async def news_enabled(db: Database, platform: str, chat_id: int) -> bool:
    return await db.get_meta(off_name(platform, chat_id)) != "1"


async def set_news_enabled(db: Database, platform: str, chat_id: int, enabled: bool) -> None:
    async with db.transaction():
        if enabled:
            # What happened while off is not told afterwards.
            await reset_state(db, platform, chat_id)
        await db.set_meta(off_name(platform, chat_id), "0" if enabled else "1")
