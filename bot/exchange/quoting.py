"""Live quotes for a draft: the amount the customer typed, on the side they chose, with the answers
that change the price."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from bot.domain.errors import ExchangerError
from bot.domain.models import AmountSide, Direction, FormField, Quote
from bot.exchange.catalogue import TtlCache
from bot.exchange.draft import ExchangeDraft, QuoteSnapshot
from bot.observability import deadline
from bot.platforms.base import Platform

T = TypeVar("T")

# A select with more options than this shows prices on the first ones only: one quote per option.
MAX_PRICED_OPTIONS = 8
# Option prices are asked this many at a time (a slow exchanger is not hit with all of them at once).
PRICE_CONCURRENCY = 3
# An optional call (a preview, a second look on an error path) leaves this much of the update's
# deadline for the answer itself, and is not made when less than MIN_OPTIONAL_SECONDS would remain.
ANSWER_SECONDS = 4.0
MIN_OPTIONAL_SECONDS = 1.0


@dataclass(frozen=True)
class Quoted:
    snapshot: QuoteSnapshot
    adjusted: bool  # the exchange moved the amount into its limits
    amount: Decimal  # the amount on the side the customer typed, as the exchange quoted it
    reserve: Decimal | None = None  # the most the exchange can pay now (receive currency), if it says

    @property
    def over_reserve(self) -> Decimal | None:
        """The reserve, when the customer would receive more than that: never offer this quote."""
        return beyond_reserve(self.snapshot.receives, self.reserve)


def reserve_of(direction: Direction, quote: Quote | None = None) -> Decimal | None:
    """The most the exchange can pay now: the fresh quote's figure where it states one, else the
    direction's (read at most ``CatalogueService.direction_ttl`` ago)."""
    return quote.reserve if quote is not None and quote.reserve is not None else direction.reserve


def beyond_reserve(receives: Decimal | None, reserve: Decimal | None) -> Decimal | None:
    """``reserve`` when the customer would receive more than it (never offer that), else None. The one
    reserve rule: at the quote, the summary and Confirm."""
    if reserve is not None and receives is not None and receives > reserve:
        return reserve
    return None


async def optional_call(call: Callable[[], Awaitable[T]]) -> T | None:
    """An exchanger call the answer can do without (a preview, a second look on an error path), in
    what the update's deadline leaves after ``ANSWER_SECONDS`` for the answer; None, not called, when
    that is less than ``MIN_OPTIONAL_SECONDS``. Exchange errors propagate."""
    left = deadline.remaining()
    if left is None:
        return await call()
    spare = left - ANSWER_SECONDS
    if spare < MIN_OPTIONAL_SECONDS:
        return None
    with deadline.within(spare):
        return await call()


def receive_side(sides: list[AmountSide]) -> AmountSide | None:
    return next((side for side in sides if not side.is_give), None)


class QuotingService:
    """Quotes for the summary and the order are always fresh; the prices shown on the options of a
    price-changing select are kept for ``preview_ttl`` seconds (going back and forth costs nothing)."""

    def __init__(self, platform: Platform, preview_ttl: float = 30.0) -> None:
        self.platform = platform
        self._previews: TtlCache[Quote] = TtlCache(preview_ttl)

    def sides(self, direction: Direction) -> list[AmountSide]:
        """What a typed amount can mean here, at most two: exactly what the customer sends (fees come
        out of it) and exactly what they receive (fees are added to what they send). Where the platform
        quotes a "with fees" side, that is the exact one, whatever the direction's sample figures show:
        a fee may apply to some amounts or answers only."""
        quoted = self.platform.info.amount_sides
        sides = []
        for plain, with_fees in (
            (AmountSide.GIVE, AmountSide.GIVE_WITH_FEES),
            (AmountSide.GET, AmountSide.GET_WITH_FEES),
        ):
            if plain not in direction.sides and with_fees not in direction.sides:
                continue
            if with_fees in quoted:
                sides.append(with_fees)
            elif plain in quoted:
                sides.append(plain)
        return sides or [AmountSide.GIVE]

    async def quote(
        self,
        locale: str | None,
        draft: ExchangeDraft,
        direction: Direction,
        *,
        amount: Decimal | None = None,
        side: AmountSide | None = None,
    ) -> Quoted:
        """The draft's quote, or the one it would have with ``amount`` on ``side``."""
        amount = draft.amount if amount is None else amount
        side = draft.side if side is None else side
        assert amount is not None and draft.direction_id is not None
        quote = await self.platform.customer(locale).quote(
            draft.direction_id, amount, side, _price_fields(direction, draft.fields)
        )
        return _quoted(quote, side, amount, direction)

    async def option_prices(
        self, locale: str | None, draft: ExchangeDraft, direction: Direction, spec: FormField
    ) -> dict[str, QuoteSnapshot]:
        """What choosing each option of the price-changing select ``spec`` would make the quote, by
        option key; options that can't be quoted now are left out (the step still works)."""
        if draft.amount is None or draft.direction_id is None or not spec.changes_price:
            return {}
        customer = self.platform.customer(locale)
        amount, side, direction_id = draft.amount, draft.side, draft.direction_id

        async def one(key: str) -> tuple[str, Quote | None]:
            fields = _price_fields(direction, {**draft.fields, spec.name: key})
            cache_key = (locale, direction_id, side, amount, tuple(sorted(fields.items())))
            try:
                quote = await self._previews.get(
                    cache_key, lambda: customer.quote(direction_id, amount, side, fields)
                )
            except ExchangerError:
                return key, None
            return key, quote

        gate = asyncio.Semaphore(PRICE_CONCURRENCY)

        async def gated(key: str) -> tuple[str, Quote | None]:
            async with gate:
                return await one(key)

        async def all_of() -> list[tuple[str, Quote | None]]:
            keys = [option.key for option in spec.options[:MAX_PRICED_OPTIONS]]
            return await asyncio.gather(*(gated(key) for key in keys))

        found = await optional_call(all_of) or []  # no time left: the options show without prices
        return {key: QuoteSnapshot.of(quote) for key, quote in found if quote is not None}


def _price_fields(direction: Direction, answers: Mapping[str, str]) -> dict[str, str]:
    return {spec.name: answers[spec.name] for spec in direction.price_fields if answers.get(spec.name)}


def _quoted(quote: Quote, side: AmountSide, typed: Decimal, direction: Direction) -> Quoted:
    on_side = quote.amount_on(side)
    reserve = reserve_of(direction, quote)
    return Quoted(QuoteSnapshot.of(quote), quote.adjusted, on_side if on_side is not None else typed, reserve)
