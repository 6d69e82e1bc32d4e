"""Live quotes for a draft: the amount the customer typed, on the side they chose, with the answers
that change the price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.domain.models import AmountSide, Direction
from bot.exchange.draft import ExchangeDraft, QuoteSnapshot
from bot.platforms.base import Platform


@dataclass(frozen=True)
class Quoted:
    snapshot: QuoteSnapshot
    adjusted: bool  # the exchange moved the amount into its limits
    amount: Decimal  # the amount on the side the customer typed, as the exchange quoted it


class QuotingService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def sides(self, direction: Direction) -> list[AmountSide]:
        """The amount meanings this direction offers, in the platform's order."""
        offered = [side for side in self.platform.info.amount_sides if side in direction.sides]
        return offered or [AmountSide.GIVE]

    async def quote(self, locale: str | None, draft: ExchangeDraft, direction: Direction) -> Quoted:
        assert draft.amount is not None and draft.direction_id is not None
        price_fields = {
            spec.name: draft.fields[spec.name]
            for spec in direction.price_fields
            if draft.fields.get(spec.name)
        }
        quote = await self.platform.customer(locale).quote(
            draft.direction_id, draft.amount, draft.side, price_fields
        )
        side = quote.amount_on(draft.side)
        return Quoted(QuoteSnapshot.of(quote), quote.adjusted, side if side is not None else draft.amount)
