"""Walking the list page after page, safely (the reference page, "How to walk the list safely").

- The first URL asks for ``PAGE_SIZE`` under both spellings (``perPage`` and ``per_page``): valid
  whichever one the site reads. A 422 makes the walk start again once without them.
- The next URL is ``links.next_page``, followed only on the configured host and port (an ``http://``
  link of a site behind a TLS proxy is rebuilt on the configured scheme; never a downgrade). A link
  that lost the page size gets it back.
- Stops on ``next_page`` null or empty, an empty ``data``, a URL already requested, a ``page`` not
  greater than the last one, ``counts.last_page`` + 1 pages, or ``MAX_PAGES``.

Pages are handed to the caller as they come (:class:`PageVisit`): the page cache decides what to keep.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from bot.domain.errors import UnexpectedResponse
from bot.platforms.larascript.transport import ENDPOINT, METHOD, PageSizeRejected, Transport
from bot.platforms.larascript.wire import Page

__all__ = ["MAX_PAGES", "PAGE_SIZE", "SIZE_PARAMS", "PageVisit", "first_url", "walk"]

log = logging.getLogger("bot.platforms.larascript")

PAGE_SIZE = 200  # the server's maximum (a larger value gets a 422)
SIZE_PARAMS = ("perPage", "per_page")
MAX_PAGES = 1000


@dataclass(frozen=True)
class PageVisit:
    url: str  # as requested
    number: int | None  # its ``page`` parameter
    page: Page


def first_url(site_url: str, *, sized: bool = True) -> str:
    query = urlencode([(name, PAGE_SIZE) for name in SIZE_PARAMS]) if sized else ""
    return urlunsplit((*urlsplit(site_url)[:2], ENDPOINT, query, ""))


def on_site(url: str, site_url: str) -> str:
    """``url`` when it is on the configured site, rebuilt on the site's scheme when only the scheme
    differs; UnexpectedResponse otherwise (the key must never go to another host)."""
    site, link = urlsplit(site_url), urlsplit(url)
    if not link.scheme and not link.netloc:  # a relative link: resolve it on the site
        return urlunsplit((site.scheme, site.netloc, link.path or ENDPOINT, link.query, ""))
    if link.scheme not in ("http", "https") or (link.hostname or "") != (site.hostname or ""):
        raise UnexpectedResponse("next_page points to another host: not followed", method=METHOD)
    # Only the scheme may differ (a site behind a TLS proxy writes http:// links): the request goes
    # to the configured scheme, host and port whatever the link says.
    if link.port != site.port:
        raise UnexpectedResponse("next_page points to another port: not followed", method=METHOD)
    return urlunsplit((site.scheme, site.netloc, link.path, link.query, ""))


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def _page_number(url: str) -> int | None:
    values = [v for k, v in _query(url) if k == "page"]
    return int(values[-1]) if values and values[-1].isdigit() else None


def _canonical(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    return parts.path.rstrip("/"), tuple(sorted(_query(url)))


def _with_size(url: str, size: list[tuple[str, str]]) -> str:
    """Put the page size back when ``next_page`` dropped it (same spellings, same value)."""
    present = {k for k, _v in _query(url)}
    missing = [(k, v) for k, v in size if k not in present]
    if not missing:
        return url
    parts = urlsplit(url)
    query = urlencode([*_query(url), *missing])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


async def walk(
    transport: Transport, key: SecretStr, start_url: str | None = None, *, sized: bool = True
) -> AsyncIterator[PageVisit]:
    """Every page from ``start_url`` (default: the first page) to the end. A 422 on the first request
    of a sized walk starts it again once without the page size."""
    url = start_url or first_url(transport.site_url, sized=sized)
    try:
        first = await transport.get_page(url, key)
    except PageSizeRejected:
        if not any(k in SIZE_PARAMS for k, _v in _query(url)):
            raise
        log.warning("%s: the site refused the page size; walking at its default size", METHOD)
        url = _without_size(url)
        first = await transport.get_page(url, key)
    async for visit in _follow(transport, key, url, first):
        yield visit


def _without_size(url: str) -> str:
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in _query(url) if k not in SIZE_PARAMS])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


async def _follow(transport: Transport, key: SecretStr, url: str, page: Page) -> AsyncIterator[PageVisit]:
    size = [(k, v) for k, v in _query(url) if k in SIZE_PARAMS]
    requested = {_canonical(url)}
    number = _page_number(url) or 1
    pages = 1
    while True:
        yield PageVisit(url, number, page)
        if not page.next_url or page.raw_count == 0:
            return
        cap = MAX_PAGES if page.last_page is None else min(MAX_PAGES, page.last_page + 1)
        if pages >= cap:
            log.warning("%s: stopped after %d pages (the page cap)", METHOD, pages)
            return
        url = _with_size(on_site(page.next_url, transport.site_url), size)
        next_number = _page_number(url)
        if _canonical(url) in requested or (next_number is not None and next_number <= number):
            log.warning("%s: next_page loops back to a page already read; the walk stops", METHOD)
            return
        requested.add(_canonical(url))
        number = next_number if next_number is not None else number + 1
        page = await transport.get_page(url, key)
        pages += 1
