"""An operator's broadcast: one message to every private chat the bot knows, through the notification
queue (the outbox), so it is paced, retried and survives restarts like any notification.

The text is kept once (``meta`` row ``broadcast.<id>``) and each chat's outbox row names only the
broadcast. Its rows go after every other notification, and its sent rows stay (they are its progress)
until it is one of more than ``KEPT`` finished broadcasts: then its rows and its text are deleted.
Cancelling deletes the rows not yet sent and marks it cancelled, so a row already picked up renders
to nothing. Chats marked inactive (they blocked the bot) are left out when it is queued and skipped
when it is sent; the sender marks chats that refuse it.

Audience: private chats that set a language, placed an order, linked a partner key or came through a
partner's link. Group chats never get it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.app.telegram_limits import MAX_TEXT, cut_html, visible_units
from bot.notifications.messages import RenderContext, Rendered, register_renderer
from bot.storage.outbox import BROADCAST_KIND, OutboxItem

if TYPE_CHECKING:
    from bot.storage.database import Database
    from bot.storage.repositories import ChatSettingsRepository

__all__ = ["BROADCAST_KIND", "KEPT", "Broadcasts", "Progress", "fits", "render_broadcast"]

KEPT = 5  # the last broadcasts whose progress can still be looked at
_LAST_ID = "broadcast.last_id"
_AUDIENCE = """
    SELECT chat_id FROM chat_settings WHERE chat_id > 0
    UNION SELECT chat_id FROM orders WHERE chat_id > 0
    UNION SELECT chat_id FROM partner_credentials WHERE chat_id > 0
    UNION SELECT chat_id FROM attributions WHERE chat_id > 0
    ORDER BY chat_id
"""
_OF_BROADCAST = "kind = ? AND json_extract(payload, '$.broadcast') = ?"


def _text_meta(broadcast_id: int) -> str:
    return f"broadcast.{broadcast_id}"


def fits(text: str) -> bool:
    """Whether a broadcast text (Telegram HTML) is within one message."""
    return 0 < visible_units(text) <= MAX_TEXT


@dataclass(frozen=True)
class Progress:
    broadcast_id: int
    total: int
    sent: int
    waiting: int
    cancelled: bool

    @property
    def skipped(self) -> int:
        """Not delivered and no longer waiting: blocked, inactive, or failed for good."""
        return max(0, self.total - self.sent - self.waiting) if not self.cancelled else 0

    @property
    def done(self) -> bool:
        return self.waiting == 0


class Broadcasts:
    def __init__(self, db: Database, chat_settings: ChatSettingsRepository) -> None:
        self.db = db
        self.chat_settings = chat_settings

    async def audience(self) -> list[int]:
        rows = await self.db.fetchall(_AUDIENCE)
        chats = [int(row[0]) for row in rows]
        return [chat for chat in chats if await self.chat_settings.is_active(chat)]

    async def start(self, text: str) -> Progress:
        """Queue ``text`` for every active chat of the audience; returns the broadcast's first progress."""
        if not fits(text):
            raise ValueError("a broadcast must be one message of at most 4096 characters")
        chats = await self.audience()
        async with self.db.transaction():
            broadcast_id = int(await self.db.get_meta(_LAST_ID) or 0) + 1
            await self.db.set_meta(_LAST_ID, str(broadcast_id))
            record = {"text": text, "total": len(chats), "cancelled": False}
            await self.db.set_meta(_text_meta(broadcast_id), json.dumps(record, ensure_ascii=False))
            payload = json.dumps({"broadcast": broadcast_id}, sort_keys=True)
            now = self.db.now()
            await self.db.executemany(
                "INSERT INTO outbox (chat_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                [(chat, BROADCAST_KIND, payload, now) for chat in chats],
            )
        await self.forget_old(keep=KEPT)
        return await self.progress(broadcast_id)

    async def forget_old(self, keep: int = KEPT) -> int:
        """Delete the rows and text of finished broadcasts older than the last ``keep``; returns how many
        broadcasts were forgotten. One still sending is kept."""
        rows = await self.db.fetchall("SELECT name FROM meta WHERE name GLOB 'broadcast.[0-9]*'")
        suffixes = (str(row[0]).removeprefix("broadcast.") for row in rows)
        ids = sorted(int(suffix) for suffix in suffixes if suffix.isdigit())
        forgotten = 0
        for broadcast_id in ids[:-keep] if keep > 0 else ids:
            async with self.db.transaction():
                waiting = await self.db.fetchval(
                    f"SELECT COUNT(*) FROM outbox WHERE {_OF_BROADCAST} AND sent_at IS NULL",
                    (BROADCAST_KIND, broadcast_id),
                )
                if waiting:
                    continue
                await self.db.execute(
                    f"DELETE FROM outbox WHERE {_OF_BROADCAST}", (BROADCAST_KIND, broadcast_id)
                )
                await self.db.execute("DELETE FROM meta WHERE name = ?", (_text_meta(broadcast_id),))
                forgotten += 1
        return forgotten

    async def _record(self, broadcast_id: int) -> dict[str, object] | None:
        raw = await self.db.get_meta(_text_meta(broadcast_id))
        if raw is None:
            return None
        try:
            record = json.loads(raw)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    async def text(self, broadcast_id: int) -> str | None:
        """The text to send, None when there is no such broadcast or it was cancelled."""
        record = await self._record(broadcast_id)
        if record is None or record.get("cancelled"):
            return None
        text = record.get("text")
        return text if isinstance(text, str) else None

    async def progress(self, broadcast_id: int) -> Progress | None:
        record = await self._record(broadcast_id)
        if record is None:
            return None
        row = await self.db.fetchone(
            "SELECT COUNT(sent_at) AS sent, COUNT(*) - COUNT(sent_at) AS waiting "
            f"FROM outbox WHERE {_OF_BROADCAST}",
            (BROADCAST_KIND, broadcast_id),
        )
        total = record.get("total")
        return Progress(
            broadcast_id=broadcast_id,
            total=total if isinstance(total, int) else 0,
            sent=int(row["sent"]) if row else 0,
            waiting=int(row["waiting"]) if row else 0,
            cancelled=bool(record.get("cancelled")),
        )

    async def cancel(self, broadcast_id: int) -> Progress | None:
        """Stop sending: the rows not yet sent are deleted. Returns the final progress."""
        async with self.db.transaction():
            record = await self._record(broadcast_id)
            if record is None:
                return None
            await self.db.execute(
                f"DELETE FROM outbox WHERE {_OF_BROADCAST} AND sent_at IS NULL",
                (BROADCAST_KIND, broadcast_id),
            )
            record["cancelled"] = True
            await self.db.set_meta(_text_meta(broadcast_id), json.dumps(record, ensure_ascii=False))
        return await self.progress(broadcast_id)


@register_renderer(BROADCAST_KIND)
async def render_broadcast(ctx: RenderContext, item: OutboxItem, locale: str) -> Rendered | None:
    services = ctx.services
    broadcast_id = item.payload.get("broadcast")
    if not isinstance(broadcast_id, int) or not await services.chat_settings.is_active(item.chat_id):
        return None
    text = await Broadcasts(services.db, services.chat_settings).text(broadcast_id)
    if text is None:
        return None  # cancelled
    return Rendered(cut_html(text, MAX_TEXT))
