"""Customers who started the bot through a partner's deep link (``chat_settings`` attribution)."""

from __future__ import annotations

from bot.storage.database import Database

_FAR_FUTURE = 2**62


async def customers_by_campaign(
    db: Database, partner_id: int, start_time: int | None = None, end_time: int | None = None
) -> list[tuple[str | None, int]]:
    """(campaign tag, chats) attributed to ``partner_id`` between two unix times (inclusive), most first."""
    rows = await db.fetchall(
        """
        SELECT partner_campaign, COUNT(*) AS customers FROM chat_settings
        WHERE partner_id = ? AND attributed_at >= ? AND attributed_at <= ?
        GROUP BY partner_campaign ORDER BY customers DESC, partner_campaign
        """,
        (partner_id, start_time or 0, _FAR_FUTURE if end_time is None else end_time),
    )
    return [(row["partner_campaign"], int(row["customers"])) for row in rows]


async def own_partner_id(db: Database, chat_id: int) -> int | None:
    """The partner id of the key linked in this chat (a partner can't be their own referral)."""
    value = await db.fetchval("SELECT partner_id FROM partner_keys WHERE chat_id = ?", (chat_id,))
    return None if value is None else int(value)
