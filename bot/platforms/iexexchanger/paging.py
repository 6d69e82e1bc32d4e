"""Reading a v3 list to the end, in either pagination mode.

* **cursor** (preferred for full walks): ``pagination=cursor`` first, then ``cursor=<next_cursor>``, the
  same filters and ``per_page`` sent again every time (the docs don't say a cursor carries them). Stops
  when ``has_more`` is false or ``next_cursor`` is null, on a repeated cursor and on an empty page. A
  server that answers a cursor request in page mode is walked in page mode.
* **page**: ``page`` = 1, 2, … with ``per_page`` ≤ 100. Stops on ``has_more`` false (or, without it,
  ``current_page`` ≥ ``last_page``), on an empty page and on a page that brings nothing new (rows added
  while walking shift the pages: rows are told apart by id).

Without ``meta.pagination`` the answer is one page. The number of pages has a hard cap: reaching it
raises ``UnexpectedResponse`` rather than returning part of a list as if it were all of it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain.errors import UnexpectedResponse
from bot.platforms.iexexchanger import wire
from bot.platforms.iexexchanger.envelope import Envelope

__all__ = ["MAX_PAGES", "MAX_PER_PAGE", "PageInfo", "PageMode", "filter_params", "walk"]

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
MAX_PAGES = 500


class PageMode(StrEnum):
    PAGE = "page"
    CURSOR = "cursor"


@dataclass(frozen=True)
class PageInfo:
    mode: str | None = None
    current_page: int | None = None
    per_page: int | None = None
    total: int | None = None
    last_page: int | None = None
    next_cursor: str | None = None
    has_more: bool | None = None

    @classmethod
    def of(cls, meta: Mapping[str, Any] | None) -> PageInfo | None:
        if meta is None:
            return None
        has_more = meta.get("has_more")
        return cls(
            mode=wire.opt_text(meta.get("mode")),
            current_page=wire.opt_int(meta.get("current_page")),
            per_page=wire.opt_int(meta.get("per_page")),
            total=wire.opt_int(meta.get("total")),
            last_page=wire.opt_int(meta.get("last_page")),
            next_cursor=wire.opt_text(meta.get("next_cursor")),
            has_more=has_more if isinstance(has_more, bool) else None,
        )

    def more_pages(self, page: int) -> bool:
        if self.has_more is not None:
            return self.has_more
        current = self.current_page or page
        if self.last_page is not None:
            return current < self.last_page
        return False


Fetch = Callable[[list[tuple[str, str]]], Awaitable[Envelope]]


async def walk(
    fetch: Fetch,
    params: list[tuple[str, str]],
    *,
    method: str,
    per_page: int = MAX_PER_PAGE,
    mode: PageMode = PageMode.CURSOR,
    names: tuple[str, ...] = (),
    max_pages: int = MAX_PAGES,
) -> AsyncIterator[Mapping[str, Any]]:
    """Yield every row once (by ``id``; rows without one are yielded as they come)."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}")
    base = [(k, v) for k, v in params if k not in ("page", "per_page", "pagination", "cursor")]
    base.append(("per_page", str(per_page)))
    seen: set[str] = set()

    def fresh_of(rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        fresh = []
        for row in rows:
            row_id = wire.to_id(row.get("id"))
            if row_id is not None:
                if row_id in seen:
                    continue
                seen.add(row_id)
            fresh.append(row)
        return fresh

    pages = 0

    def count_page() -> None:
        nonlocal pages
        pages += 1
        if pages > max_pages:
            raise UnexpectedResponse(
                f"the list goes on beyond {max_pages} pages: not read to the end", method=method
            )

    page = 1
    if mode is PageMode.CURSOR:
        cursors: set[str] = set()
        cursor: str | None = None
        while True:
            count_page()
            query = [*base, ("pagination", "cursor")] + ([("cursor", cursor)] if cursor else [])
            envelope = await fetch(query)
            rows = wire.rows_of(envelope.result, names)
            info = PageInfo.of(envelope.pagination)
            for row in fresh_of(rows):
                yield row
            if info is None or not rows:
                return
            if info.mode == PageMode.PAGE.value or (
                info.next_cursor is None and info.current_page is not None and info.has_more
            ):
                log.info("%s: the server answered a cursor request in page mode; walking pages", method)
                page = (info.current_page or 1) + 1
                if not info.more_pages(page - 1):
                    return
                break
            if info.has_more is False or info.next_cursor is None:
                return
            if info.next_cursor in cursors:
                log.warning("%s: the server repeated a cursor; stopping", method)
                return
            cursors.add(info.next_cursor)
            cursor = info.next_cursor

    while True:
        count_page()
        envelope = await fetch([*base, ("page", str(page))])
        rows = wire.rows_of(envelope.result, names)
        info = PageInfo.of(envelope.pagination)
        fresh = fresh_of(rows)
        for row in fresh:
            yield row
        if info is None or not rows:
            return
        if not fresh and page > 1:
            log.warning("%s: page %d brought nothing new; stopping", method, page)
            return
        if not info.more_pages(page):
            return
        page = (info.current_page or page) + 1


def filter_params(
    filters: Mapping[str, str | None], allowed: frozenset[str], *, method: str
) -> list[tuple[str, str]]:
    """``{"status": "paid"}`` → ``[("filter[status]", "paid")]``; None values skipped. Names outside
    ``allowed`` are refused: an unknown filter is likely ignored by the server, silently returning all."""
    params = []
    for name, value in filters.items():
        if value is None:
            continue
        if name not in allowed:
            raise ValueError(f"{method}: no filter named {name!r} (known: {', '.join(sorted(allowed))})")
        params.append((f"filter[{name}]", str(value)))
    return params
