"""Every bid of the bot's API login whose status changed since a cursor (:class:`OrderFeed`).

One get_exchanges page (500 bids) lists every bid whose last change is inside the window, newest
change first, so a call costs one request however many orders are open; more pages only when more
than a page changed (a server that answers its default 100 rows is paged on too). The window starts
``overlap`` seconds before the cursor, for clock skew and changes committed late. The returned cursor
is the newest ``time`` seen, in the server's own (shifted) clock, which its filter uses as well.

A bid that changes while the pages are walked moves to the top of the list: after a multi-page walk
the first pages are read again (:mod:`.paging`) and such a bid is reported with its newer status; the
next call starts from the newest time seen. Bids are deduplicated by id, the latest change winning.
"""

from __future__ import annotations

from bot.platforms.base import FeedPage
from bot.platforms.premiumexchanger import mapping
from bot.platforms.premiumexchanger.client import PremiumExchangerClient
from bot.platforms.premiumexchanger.models import OrderRecord
from bot.platforms.premiumexchanger.paging import MAX_PAGE_SIZE

__all__ = ["DEFAULT_OVERLAP", "PremiumExchangerFeed"]

DEFAULT_OVERLAP = 300


def _change(record: OrderRecord) -> tuple[str, int, str]:
    return record.id, record.time, record.status


class PremiumExchangerFeed:
    def __init__(
        self,
        client: PremiumExchangerClient,
        *,
        page_size: int = MAX_PAGE_SIZE,
        overlap: int = DEFAULT_OVERLAP,
    ) -> None:
        self._client = client
        self.page_size = page_size
        self.overlap = overlap

    async def changed_since(self, cursor: int) -> FeedPage:
        """Bids whose last change is at or after ``cursor - overlap`` (any int; 1 at the least)."""
        start = max(cursor - self.overlap, 1)
        latest: dict[str, OrderRecord] = {}
        rows = self._client.iter_orders(
            start_time=start, page_size=self.page_size, until_empty=False, key=_change
        )
        async for record in rows:
            known = latest.get(record.id)
            if known is None or record.time >= known.time:  # a later read of the same second wins
                latest[record.id] = record
        newest = max((r.time for r in latest.values()), default=cursor)
        return FeedPage([mapping.observation(r) for r in latest.values()], cursor=max(newest, cursor))
