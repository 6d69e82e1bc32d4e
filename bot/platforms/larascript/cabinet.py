"""A partner's cabinet on their own Lara key (:class:`~bot.platforms.base.PartnerCabinet`).

Everything comes from the one list, through the platform's :class:`~.cache.PageCache`: ``summary``
(all time: referred, completed, earned per reward currency, ``as_of``) and ``exchanges`` (those
*created* in the period, newest first; "completed" means completed by now). No clicks, payouts or
payout requests: those raise ``PermissionMissing`` (the platform does not declare them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import SecretStr

from bot.domain.errors import PermissionMissing
from bot.domain.models import (
    PartnerClick,
    PartnerExchange,
    PartnerNews,
    PartnerNewsKind,
    PartnerPayout,
    PartnerReferral,
    PartnerStats,
    PartnerSummary,
)
from bot.platforms.base import KeyCheck, PushEvent, PushRegistration
from bot.platforms.larascript import mapping
from bot.platforms.larascript.cache import PageCache, Snapshot
from bot.platforms.larascript.push import completions_since
from bot.platforms.larascript.transport import METHOD
from bot.platforms.larascript.walk import first_url

__all__ = ["LaraCabinet"]


class LaraCabinet:
    def __init__(self, cache: PageCache, key: SecretStr, rid: str, label: str) -> None:
        self._cache = cache
        self._key = key
        self.rid = rid
        self.label = label

    def __repr__(self) -> str:
        return f"LaraCabinet(rid={self.rid!r})"

    async def check_key(self) -> KeyCheck:
        """One call (the first page at the site's default size). A wrong key raises
        ``CredentialsRejected`` carrying Lara's own text ("Invalid API key.")."""
        transport = self._cache.transport
        await transport.get_page(first_url(transport.site_url, sized=False), self._key)
        return KeyCheck(partner_id=self.rid, label=self.label)

    async def snapshot(self) -> Snapshot:
        """The rows as the cache has them now (refreshed when due); ``read_at`` says when."""
        return await self._cache.read(self._key)

    async def summary(self) -> PartnerSummary:
        snap = await self.snapshot()
        return mapping.summary(self.rid, snap.rows.values(), snap.read_at)

    async def exchanges(self, start: int, end: int) -> AsyncIterator[PartnerExchange]:
        snap = await self.snapshot()
        rows = [r for r in snap.rows.values() if r.created_at is not None and start <= r.created_at <= end]
        for row in sorted(rows, key=mapping.sort_key):
            yield mapping.partner_exchange(row)

    async def clicks(self, start: int, end: int) -> AsyncIterator[PartnerClick]:
        raise PermissionMissing("Lara-script publishes no clicks", method=METHOD)
        yield  # pragma: no cover

    async def payouts(self, start: int, end: int) -> AsyncIterator[PartnerPayout]:
        raise PermissionMissing("Lara-script publishes no payouts", method=METHOD)
        yield  # pragma: no cover

    async def referrals(self, start: int, end: int) -> AsyncIterator[PartnerReferral]:
        raise PermissionMissing("Lara-script publishes no registered referrals", method=METHOD)
        yield  # pragma: no cover

    async def request_payout(self, method_id: str, account: str) -> str:
        raise PermissionMissing("Lara-script takes no payout requests through its API", method=METHOD)

    async def statistics(self, period: str, start: int | None = None, end: int | None = None) -> PartnerStats:
        raise PermissionMissing(
            "Lara-script computes no statistics: they come from exchanges()", method=METHOD
        )

    async def register_push(self, url: str) -> PushRegistration:
        raise PermissionMissing("Lara-script pushes nothing: poll with push.completions_since", method=METHOD)

    async def unregister_push(self, endpoint_id: str) -> bool:
        return False

    async def news(self, cursor: str | None) -> tuple[list[PartnerNews], str]:
        """Completions not told yet (see :mod:`bot.platforms.larascript.push`), oldest first."""
        batch = completions_since(await self.snapshot(), cursor)
        news = [
            PartnerNews(
                kind=PartnerNewsKind.EXCHANGE_COMPLETED,
                key=f"exchange:{item.exchange.id}",
                time=item.exchange.completed_time,
                exchange=item.exchange,
            )
            for item in batch.news
        ]
        return news, batch.cursor

    async def push_news(self, event: PushEvent) -> list[PartnerNews]:
        return []  # Lara pushes nothing
