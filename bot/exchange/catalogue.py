"""The exchanger's currencies and directions, cached briefly: every conversation starts with them,
and they change rarely. Quotes and orders are never cached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.exchanger.base import ExchangerPlatform
from bot.exchanger.models import Currency, CurrencyLists, Direction, DirectionSummary

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


class CatalogueCache:
    """Currencies and directions per site language, for `ttl` seconds. Direction details (rates,
    reserve, fields) are cached for a shorter `direction_ttl`, since they carry the live rate."""

    def __init__(self, ttl: float = 60.0, direction_ttl: float = 10.0) -> None:
        self._currencies: _TtlCache[CurrencyLists] = _TtlCache(ttl)
        self._directions: _TtlCache[list[DirectionSummary]] = _TtlCache(ttl)
        self._direction: _TtlCache[Direction] = _TtlCache(direction_ttl)

    async def currencies(self, exchanger: ExchangerPlatform, lang: str | None) -> CurrencyLists:
        return await self._currencies.get(lang, exchanger.list_currencies)

    async def directions(self, exchanger: ExchangerPlatform, lang: str | None) -> list[DirectionSummary]:
        return await self._directions.get(lang, exchanger.list_directions)

    async def direction(self, exchanger: ExchangerPlatform, lang: str | None, direction_id: str) -> Direction:
        return await self._direction.get((lang, direction_id), lambda: exchanger.get_direction(direction_id))

    async def give_currencies(self, exchanger: ExchangerPlatform, lang: str | None) -> list[Currency]:
        """Currencies that start at least one direction, in the site's order."""
        directions = await self.directions(exchanger, lang)
        starting = {d.give.id for d in directions}
        return [c for c in (await self.currencies(exchanger, lang)).give if c.id in starting]

    async def get_currencies(
        self, exchanger: ExchangerPlatform, lang: str | None, give_id: str
    ) -> list[tuple[Currency, str]]:
        """(currency you receive, direction id) for every direction out of `give_id`."""
        directions = await self.directions(exchanger, lang)
        return [(d.get, d.id) for d in directions if d.give.id == give_id]
