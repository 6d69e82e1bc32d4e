"""Offset paging that reads a whole period and never stops silently after the first page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, TypeVar

from bot.domain.errors import UnexpectedResponse


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_HasId)


async def iterate_offset_pages(
    fetch_page: Callable[[int, int], Awaitable[list[T]]], *, page_size: int, method: str
) -> AsyncIterator[T]:
    """Yield every item of ``fetch_page(limit, offset)`` until an empty page.

    A short page does not end the loop (a server may cap ``limit`` below what was asked). Items seen on
    an earlier page (rows shifting while new ones arrive) are skipped; a page with nothing new means
    the server ignores ``offset``, which is an error rather than an endless loop.
    """
    if page_size < 1:
        raise ValueError("page_size must be positive")
    seen: set[str] = set()
    offset = 0
    while True:
        page = await fetch_page(page_size, offset)
        if not page:
            return
        fresh = [item for item in page if item.id not in seen]
        if not fresh:
            raise UnexpectedResponse(
                f"offset {offset} returned only rows already seen: paging is not supported", method=method
            )
        for item in fresh:
            seen.add(item.id)
            yield item
        offset += len(page)
