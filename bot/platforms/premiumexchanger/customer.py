"""The customer flow on PremiumExchanger, in one language (:class:`~bot.platforms.base.CustomerApi`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from bot.domain.errors import PermissionMissing
from bot.domain.models import (
    AmountSide,
    CurrencyLists,
    Direction,
    DirectionSummary,
    Order,
    OrderRef,
    Quote,
)
from bot.platforms.premiumexchanger import mapping
from bot.platforms.premiumexchanger.client import PremiumExchangerClient

__all__ = ["PremiumExchangerCustomer", "order_hash"]


def order_hash(ref: OrderRef) -> str | None:
    return ref.secret.get_secret_value() if ref.secret is not None else None


class PremiumExchangerCustomer:
    """A cheap view on a client scoped to one API-LANG. Order actions send the bid's id *and* hash:
    some servers find the bid of cancel_bid / pay_bid by its hash only."""

    def __init__(self, client: PremiumExchangerClient) -> None:
        self._client = client

    async def currencies(self) -> CurrencyLists:
        return mapping.currency_lists(await self._client.list_currencies())

    async def directions(self) -> list[DirectionSummary]:
        return mapping.direction_summaries(await self._client.list_directions())

    async def direction(self, direction_id: str) -> Direction:
        return mapping.direction(await self._client.get_direction(direction_id))

    async def quote(
        self, direction_id: str, amount: Decimal, side: AmountSide, price_fields: Mapping[str, str]
    ) -> Quote:
        answered = await self._client.quote(
            direction_id,
            amount,
            mapping.calc_action(side),
            cd_fields={k: v for k, v in price_fields.items() if v} or None,
        )
        return mapping.quote(answered)

    async def read_order(self, ref: OrderRef) -> Order:
        return mapping.order(await self._client.get_order(ref.id, order_hash(ref)))

    async def cancel_order(self, ref: OrderRef) -> None:
        await self._client.cancel_order(ref.id, order_hash(ref))

    async def mark_paid(self, ref: OrderRef) -> None:
        await self._client.mark_paid(ref.id, order_hash(ref))

    async def continue_order(self, ref: OrderRef) -> None:
        raise PermissionMissing(
            "PremiumExchanger has no emergency decision to take through the API",
            method="continue_order",
        )
