"""The platform-neutral interface the bot's handlers depend on.

A platform implements the capabilities it has; a method it lacks raises ``MethodNotSupported``.
Every method may raise the errors in :mod:`bot.exchanger.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Protocol, runtime_checkable

from bot.exchanger.models import (
    ApiCredentials,
    ApiIdentity,
    CalcAction,
    CurrencyLists,
    Direction,
    DirectionSummary,
    Order,
    OrderRecord,
    OrderRequest,
    PartnerClick,
    PartnerExchange,
    PartnerInfo,
    PartnerPayout,
    Quote,
)

__all__ = [
    "MAX_PAGE_SIZE",
    "ApiCredentials",
    "Catalogue",
    "ExchangerPlatform",
    "IdLike",
    "Orders",
    "PartnerCabinet",
    "Quoting",
]

MAX_PAGE_SIZE = 500

IdLike = str | int


@runtime_checkable
class Catalogue(Protocol):
    async def list_currencies(
        self, give_id: IdLike | None = None, get_id: IdLike | None = None
    ) -> CurrencyLists: ...

    async def list_directions(
        self, give_id: IdLike | None = None, get_id: IdLike | None = None
    ) -> list[DirectionSummary]: ...

    async def get_direction(
        self,
        direction_id: IdLike | None = None,
        *,
        give_id: IdLike | None = None,
        get_id: IdLike | None = None,
    ) -> Direction:
        """By id, or by the (give currency, get currency) pair."""
        ...


@runtime_checkable
class Quoting(Protocol):
    async def quote(
        self,
        direction_id: IdLike,
        amount: Decimal,
        action: CalcAction = CalcAction.GIVE,
        cd_fields: Mapping[str, str] | None = None,
    ) -> Quote:
        """``cd_fields``: values of the direction's ``price_fields`` (fields with ``changes_price``)."""
        ...


@runtime_checkable
class Orders(Protocol):
    async def create_order(self, request: OrderRequest) -> Order:
        """Never retried. On ``TransportError``/``ExchangerTimeout`` look the order up by ``api_id``."""
        ...

    async def get_order(self, order_id: IdLike | None = None, order_hash: str | None = None) -> Order: ...

    async def cancel_order(self, order_id: IdLike | None = None, order_hash: str | None = None) -> str:
        """Returns the new status code."""
        ...

    async def mark_paid(self, order_id: IdLike | None = None, order_hash: str | None = None) -> str: ...

    async def mark_success(self, order_id: IdLike | None = None, order_hash: str | None = None) -> str: ...

    async def list_orders(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        ip: str | None = None,
        order_id: IdLike | None = None,
        order_hash: str | None = None,
        api_id: str | None = None,
        status_history: bool = False,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[OrderRecord]:
        """One page of orders created with this key."""
        ...

    def iter_orders(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        ip: str | None = None,
        status_history: bool = False,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[OrderRecord]:
        """Every order of the period, page after page."""
        ...

    async def find_order_by_api_id(self, api_id: str | int, since: int) -> OrderRecord | None:
        """The order created with ``api_id``, listed from unix time ``since``.

        Take ``since`` a little before the send: clocks differ.
        """
        ...


@runtime_checkable
class PartnerCabinet(Protocol):
    async def whoami(self) -> ApiIdentity: ...

    async def partner_info(self) -> PartnerInfo: ...

    async def partner_clicks(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        ip: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[PartnerClick]: ...

    def iter_partner_clicks(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        ip: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[PartnerClick]: ...

    async def partner_exchanges(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        ip: str | None = None,
        order_id: IdLike | None = None,
        order_hash: str | None = None,
        status_history: bool = False,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[PartnerExchange]: ...

    def iter_partner_exchanges(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        ip: str | None = None,
        status_history: bool = False,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[PartnerExchange]: ...

    async def partner_payouts(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        payout_id: IdLike | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[PartnerPayout]: ...

    def iter_partner_payouts(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[PartnerPayout]: ...

    async def request_payout(self, method_id: IdLike, account: str) -> str:
        """Never retried. Returns the payout id; ``PayoutRefused`` carries the server's reason."""
        ...


@runtime_checkable
class ExchangerPlatform(Catalogue, Quoting, Orders, PartnerCabinet, Protocol):
    """One exchange site. ``scoped`` views share the connection pool; close the root with ``aclose``."""

    platform: str  # e.g. "premiumexchanger"

    def scoped(
        self, *, lang: str | None = None, credentials: ApiCredentials | None = None
    ) -> ExchangerPlatform:
        """A cheap view with another language and/or key. ``None`` keeps the current value."""
        ...

    async def aclose(self) -> None: ...
