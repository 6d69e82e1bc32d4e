"""Reading a PremiumExchanger list method to the end, whatever the server does with paging.

The lists (get_exchanges, get_partner_*) come newest first and are paged by ``limit``/``offset``.
Three things go wrong on real servers, and :func:`iterate_pages` survives each:

- **offset ignored** (the partner lists do not document it): a page that brings nothing new switches
  the walk to ``end_time``, stepping back from the oldest ``time`` seen (the filter is inclusive, so
  rows of that second come again and are skipped as seen);
- **limit capped** below what was asked: a short page ends the walk only when ``until_empty`` is off
  and the page is shorter than both ``page_size`` and the server's default of 100;
- **rows move** (lists ordered by last change): a bid that changes while the pages are walked jumps to
  the top and would be skipped. With ``moving=True``, after a walk of more than one page the first
  pages are read again until one brings nothing new.

Rows are told apart by ``key`` (the id by default): pass ``(id, time)`` to see a row again when it
changed during the walk. A server that ignores both ``offset`` and ``end_time`` can't be read
completely: that raises :class:`~bot.domain.errors.UnexpectedResponse` rather than stopping silently.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Protocol, TypeVar

from bot.domain.errors import UnexpectedResponse

__all__ = ["MAX_PAGE_SIZE", "SERVER_DEFAULT_LIMIT", "iterate_pages"]

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500  # the most get_exchanges and the partner lists return per call
SERVER_DEFAULT_LIMIT = 100  # what a server that ignores ``limit`` answers
MAX_REREAD_PAGES = 5


class Row(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def time(self) -> int: ...


R = TypeVar("R", bound=Row)
# (limit, offset, end_time) -> one page; offset and end_time None mean "not sent"
FetchPage = Callable[[int, int | None, int | None], Awaitable[list[R]]]


def _by_id(row: Row) -> Hashable:
    return row.id


async def iterate_pages(
    fetch: FetchPage[R],
    *,
    page_size: int,
    method: str,
    end_time: int | None = None,
    moving: bool = False,
    until_empty: bool = True,
    key: Callable[[R], Hashable] = _by_id,
) -> AsyncIterator[R]:
    """Yield every row of the list once per ``key``, newest first as the server sends them."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    seen: set[Hashable] = set()

    def fresh_of(page: list[R]) -> list[R]:
        fresh = []
        for row in page:
            k = key(row)
            if k not in seen:
                seen.add(k)
                fresh.append(row)
        return fresh

    def is_last(page: list[R]) -> bool:
        if until_empty:
            return not page
        return len(page) < page_size and len(page) != SERVER_DEFAULT_LIMIT

    pages = 0
    offset = 0
    by_time: int | None = None  # the end_time walk, once offset turned out to be ignored
    while True:
        if by_time is None:
            page = await fetch(page_size, offset or None, end_time)
        else:
            page = await fetch(page_size, None, by_time)
        pages += 1
        if not page:
            break
        fresh = fresh_of(page)
        for row in fresh:
            yield row
        oldest = min(row.time for row in page)
        if by_time is None:
            if fresh:
                if is_last(page):
                    break
                offset += len(page)
                continue
            log.info("%s: offset %d brought nothing new, walking back by end_time", method, offset)
            by_time = oldest
            continue
        if any(row.time > by_time for row in page):
            raise UnexpectedResponse(
                f"rows after end_time {by_time} came back: offset and end_time are both ignored, "
                "the list can't be read completely",
                method=method,
            )
        if fresh:
            if len(page) < min(page_size, SERVER_DEFAULT_LIMIT):
                break
            by_time = oldest
        elif oldest == by_time:
            # A whole page within one second, all seen: step past it (rows beyond it are lost).
            log.warning("%s: more than %d rows at time %d; skipping past them", method, len(page), by_time)
            by_time -= 1
        else:
            break

    if moving and pages > 1:
        offset = 0
        for _ in range(MAX_REREAD_PAGES):
            page = await fetch(page_size, offset or None, end_time)
            fresh = fresh_of(page)
            for row in fresh:
                yield row
            if not fresh or len(page) < page_size:
                break
            offset += len(page)
