"""Telling a partner when a referred exchange completes, once per exchange, across restarts.

Lara pushes nothing, so a poller reads the list through the page cache (only the newest pages on a
refresh, one full walk per ``full_interval``) and compares it with a *cursor* the core stores per
linked partner (plain JSON: a watermark of completion times and the ids told near it; no secret)::

    batch = completions_since(await cabinet.snapshot(), stored_cursor)
    for news in batch.news:                 # oldest completion first
        await tell_partner(news.exchange)   # "+12.50 USDT reward, BTC → USDTTRC20, campaign spring"
        store(news.cursor)                  # after each message: a restart repeats nothing
    store(batch.cursor)

The first poll of a partner (no cursor) tells nothing and only sets the cursor: linking a key never
floods the chat with history. A completion is told when its ``completed_at`` is later than the
watermark minus ``GRACE`` and its id was not told before; ``GRACE`` is longer than the cache's full
walk interval, so a completion of an old exchange found only by a full walk is still told. Rows
completed without a ``completed_at`` can't be placed in time and are not told.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.domain.models import PartnerExchange
from bot.platforms.larascript import mapping
from bot.platforms.larascript.cache import Snapshot
from bot.platforms.larascript.wire import ReferralExchange

__all__ = ["GRACE", "CompletionBatch", "CompletionNews", "completions_since"]

GRACE = 4 * 3600  # seconds; must exceed the page cache's full_interval (30 min by default)
MAX_NEWS = 50  # per poll; the rest comes next time (the cursor says where)


@dataclass(frozen=True)
class CompletionNews:
    exchange: PartnerExchange
    cursor: str  # store it once this completion was told


@dataclass(frozen=True)
class CompletionBatch:
    news: list[CompletionNews]
    cursor: str  # store it after the batch (also when ``news`` is empty)


@dataclass
class _Cursor:
    watermark: int
    told: dict[str, int]  # id -> completed_at, for completions within GRACE of the watermark

    @classmethod
    def load(cls, text: str | None) -> _Cursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            told = {str(k): int(v) for k, v in dict(data.get("told", {})).items()}
            return cls(int(data["w"]), told)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None  # unreadable: start over (tells nothing this time)

    def dump(self) -> str:
        floor = self.watermark - GRACE
        told = {k: v for k, v in sorted(self.told.items()) if v > floor}
        return json.dumps({"w": self.watermark, "told": told}, separators=(",", ":"))

    def tell(self, row: ReferralExchange) -> None:
        assert row.completed_at is not None
        self.told[row.id] = row.completed_at
        self.watermark = max(self.watermark, row.completed_at)


def _completed(rows: list[ReferralExchange]) -> list[ReferralExchange]:
    done = [r for r in rows if r.is_completed and r.completed_at is not None]
    return sorted(done, key=lambda r: (r.completed_at or 0, r.id))


def completions_since(snap: Snapshot, cursor: str | None) -> CompletionBatch:
    """The completions in ``snap`` (a cabinet's snapshot) not told yet (at most ``MAX_NEWS``), each
    with the cursor to store after it."""
    completed = _completed(list(snap.rows.values()))
    state = _Cursor.load(cursor)
    if state is None:
        start = _Cursor(int(snap.read_at), {})
        for row in completed:
            if row.completed_at and row.completed_at > start.watermark - GRACE:
                start.tell(row)
        return CompletionBatch([], start.dump())
    floor = state.watermark - GRACE
    news: list[CompletionNews] = []
    for row in completed:
        if row.completed_at is None or row.completed_at <= floor or row.id in state.told:
            continue
        if len(news) == MAX_NEWS:
            break
        state.tell(row)
        news.append(CompletionNews(mapping.partner_exchange(row), state.dump()))
    return CompletionBatch(news, state.dump())
