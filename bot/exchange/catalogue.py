"""The exchanger's currencies and directions, cached briefly: every conversation starts with them,
and they change rarely. Quotes and orders are never cached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.domain.errors import DirectionUnavailable
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


class TtlCache(Generic[T]):
    """Per-key TTL cache whose concurrent misses for one key make one upstream call. At most
    ``max_entries`` are kept (the oldest go first), expired ones are dropped as new ones come, and a
    key's lock lives only while someone loads or waits for it: keys made of amounts and answers
    can't make it grow without end."""

    def __init__(
        self, ttl: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 1024
    ) -> None:
        self.ttl, self.clock, self.max_entries = ttl, clock, max(1, max_entries)
        # Insertion order is expiry order (one ttl, and a key set again moves to the end).
        self._entries: dict[object, _Entry[T]] = {}
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}  # lock, how many hold or wait for it

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: object, load: Callable[[], Awaitable[T]]) -> T:
        entry = self._entries.get(key)
        if entry is not None and entry.expires > self.clock():
            return entry.value
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                entry = self._entries.get(key)
                if entry is not None and entry.expires > self.clock():
                    return entry.value
                value = await load()
                self._put(key, value)
                return value
        finally:
            lock, users = self._locks[key]
            if users > 1:
                self._locks[key] = (lock, users - 1)
            else:
                del self._locks[key]

    def _put(self, key: object, value: T) -> None:
        now = self.clock()
        self._entries.pop(key, None)
        while self._entries:
            oldest = next(iter(self._entries))
            if self._entries[oldest].expires > now and len(self._entries) < self.max_entries:
                break
            del self._entries[oldest]
        self._entries[key] = _Entry(value, now + self.ttl)

    def forget(self, key: object) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


class CatalogueService:
    """The platform's currencies and directions per chat language, for ``ttl`` seconds. Direction
    details (rates, reserve, fields) are cached for a shorter ``direction_ttl``: they carry the live rate."""

    def __init__(
        self,
        platform: Platform,
        ttl: float = 60.0,
        direction_ttl: float = 10.0,
        refusal_ttl: float = 3600.0,
        gone_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.refusal_ttl, self.gone_ttl, self.clock = refusal_ttl, gone_ttl, clock
        # Directions left out of the lists until a time: refused for orders through the API (the
        # platform still lists them), or just found gone (the platform's own lists may lag behind).
        self._hidden: dict[str, float] = {}
        self._currencies: TtlCache[CurrencyLists] = TtlCache(ttl)
        self._directions: TtlCache[list[DirectionSummary]] = TtlCache(ttl)
        self._direction: TtlCache[Direction] = TtlCache(direction_ttl)

    async def currencies(self, locale: str | None) -> CurrencyLists:
        return await self._currencies.get(locale, self.platform.customer(locale).currencies)

    async def directions(self, locale: str | None) -> list[DirectionSummary]:
        return await self._directions.get(locale, self.platform.customer(locale).directions)

    async def direction(self, locale: str | None, direction_id: str) -> Direction:
        customer = self.platform.customer(locale)
        return await self._direction.get((locale, direction_id), lambda: customer.direction(direction_id))

    async def open_direction(self, locale: str | None, direction_id: str) -> Direction:
        """A direction a customer can order in: one refused or just found gone answers as gone (a
        stale button of it must not walk the customer through amount and quote again)."""
        if self.is_hidden(direction_id):
            raise DirectionUnavailable(f"direction {direction_id} is closed to orders through the bot")
        return await self.direction(locale, direction_id)

    def forget_direction(self, locale: str | None, direction_id: str) -> None:
        """After the platform said the direction is gone: don't serve it from the cache."""
        self._direction.forget((locale, direction_id))

    def direction_gone(self, locale: str | None, direction_id: str) -> None:
        """The platform says the direction is gone or closed: read it and the lists afresh (a closed
        direction leaves the lists too), in every language."""
        self.forget_direction(locale, direction_id)
        self._directions.clear()
        self._currencies.clear()
        self._hide(direction_id, self.gone_ttl)

    def refused(self, direction_id: str) -> None:
        """The platform refused an order in this direction through the API (its settings)."""
        self._hide(direction_id, self.refusal_ttl)

    def _hide(self, direction_id: str, seconds: float) -> None:
        until = self.clock() + seconds
        self._hidden[direction_id] = max(until, self._hidden.get(direction_id, until))

    def is_hidden(self, direction_id: str) -> bool:
        until = self._hidden.get(direction_id)
        if until is not None and until <= self.clock():
            del self._hidden[direction_id]
            return False
        return until is not None

    async def open_directions(self, locale: str | None) -> list[DirectionSummary]:
        """The directions a customer can order in: listed, and neither refused nor just found gone."""
        return [d for d in await self.directions(locale) if not self.is_hidden(d.id)]

    async def give_currencies(self, locale: str | None) -> list[Currency]:
        """Currencies that start at least one direction, in the site's order."""
        directions = await self.open_directions(locale)
        starting = {d.give.id for d in directions}
        return [c for c in (await self.currencies(locale)).give if c.id in starting]

    async def get_currencies(self, locale: str | None, give_id: str) -> list[tuple[Currency, str]]:
        """(currency you receive, direction id) for every direction out of ``give_id``."""
        directions = await self.open_directions(locale)
        return [(d.get, d.id) for d in directions if d.give.id == give_id]

    async def titles(self, locale: str | None, direction_id: str) -> tuple[str, str]:
        """(give title, get title) of a direction, "" when the list no longer has it."""
        for summary in await self.directions(locale):
            if summary.id == direction_id:
                return summary.give.title, summary.get.title
        return "", ""
