"""The exchanger's currencies and directions, cached briefly: every conversation starts with them,
and they change rarely. Quotes and orders are never cached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.domain.models import Currency, CurrencyLists, Direction, DirectionSummary
from bot.platforms.base import Platform

T = TypeVar("T")

# ЙЦУКЕН keys typed on a QWERTY layout and back: "ecl" means "усд" was meant as "usd", and so on.
_RU = "йцукенгшщзхъфывапролджэячсмитьбю"
_EN = "qwertyuiop[]asdfghjkl;'zxcvbnm,."
_TO_EN = str.maketrans(_RU, _EN)
_TO_RU = str.maketrans(_EN, _RU)


_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip


def _latin(text: str) -> str:
    return "".join(_TRANSLIT.get(char, char) for char in text)


def matches(title: str, query: str) -> bool:
    """Case-insensitive substring match that forgives a wrong keyboard layout and Cyrillic typed
    for a Latin title ("сбер" finds "Sberbank", "ecler" typed for "усдт" finds "USDT")."""
    haystack = title.casefold()
    query = query.casefold().strip()
    if not query:
        return False
    variants = {query, query.translate(_TO_EN), query.translate(_TO_RU)}
    variants |= {_latin(variant) for variant in variants}
    return any(variant in haystack or variant in _latin(haystack) for variant in variants)


def filter_currencies(currencies: list[Currency], query: str) -> list[Currency]:
    return [c for c in currencies if matches(c.title, query)]


@dataclass
class _Entry(Generic[T]):
    value: T
    expires: float


class _TtlCache(Generic[T]):
    """Per-key TTL cache whose concurrent misses for one key make one upstream call."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._entries: dict[object, _Entry[T]] = {}
        self._locks: dict[object, asyncio.Lock] = {}

    async def get(self, key: object, load: Callable[[], Awaitable[T]]) -> T:
        entry = self._entries.get(key)
        if entry is not None and entry.expires > self.clock():
            return entry.value
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > self.clock():
                return entry.value
            value = await load()
            self._entries[key] = _Entry(value, self.clock() + self.ttl)
            return value

    def forget(self, key: object) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


class CatalogueService:
    """The platform's currencies and directions per chat language, for ``ttl`` seconds. Direction
    details (rates, reserve, fields) are cached for a shorter ``direction_ttl``: they carry the live rate."""

    def __init__(self, platform: Platform, ttl: float = 60.0, direction_ttl: float = 10.0) -> None:
        self.platform = platform
        self._currencies: _TtlCache[CurrencyLists] = _TtlCache(ttl)
        self._directions: _TtlCache[list[DirectionSummary]] = _TtlCache(ttl)
        self._direction: _TtlCache[Direction] = _TtlCache(direction_ttl)

    async def currencies(self, locale: str | None) -> CurrencyLists:
        return await self._currencies.get(locale, self.platform.customer(locale).currencies)

    async def directions(self, locale: str | None) -> list[DirectionSummary]:
        return await self._directions.get(locale, self.platform.customer(locale).directions)

    async def direction(self, locale: str | None, direction_id: str) -> Direction:
        customer = self.platform.customer(locale)
        return await self._direction.get((locale, direction_id), lambda: customer.direction(direction_id))

    def forget_direction(self, locale: str | None, direction_id: str) -> None:
        """After the platform said the direction is gone: don't serve it from the cache."""
        self._direction.forget((locale, direction_id))

    def direction_gone(self, locale: str | None, direction_id: str) -> None:
        """The platform says the direction is gone or closed: read it and the lists afresh (a closed
        direction leaves the lists too), in every language."""
        self.forget_direction(locale, direction_id)
        self._directions.clear()
        self._currencies.clear()

    async def give_currencies(self, locale: str | None) -> list[Currency]:
        """Currencies that start at least one direction, in the site's order."""
        directions = await self.directions(locale)
        starting = {d.give.id for d in directions}
        return [c for c in (await self.currencies(locale)).give if c.id in starting]

    async def get_currencies(self, locale: str | None, give_id: str) -> list[tuple[Currency, str]]:
        """(currency you receive, direction id) for every direction out of ``give_id``."""
        directions = await self.directions(locale)
        return [(d.get, d.id) for d in directions if d.give.id == give_id]

    async def titles(self, locale: str | None, direction_id: str) -> tuple[str, str]:
        """(give title, get title) of a direction, "" when the list no longer has it."""
        for summary in await self.directions(locale):
            if summary.id == direction_id:
                return summary.give.title, summary.get.title
        return "", ""
