"""PremiumExchanger User API v1, method by method, in the site's own shapes (:mod:`.models`).

The adapter (:mod:`.adapter`) maps these to the bot's neutral models; nothing outside this package
uses the client directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from bot.domain.errors import UnexpectedResponse
from bot.domain.money import format_plain
from bot.observability.exchanger import ExchangerObserver
from bot.platforms.premiumexchanger import wire
from bot.platforms.premiumexchanger.models import (
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
from bot.platforms.premiumexchanger.paging import MAX_PAGE_SIZE, iterate_pages
from bot.platforms.premiumexchanger.transport import Connection, encode_cd

__all__ = ["MAX_PAGE_SIZE", "PremiumExchangerClient"]

IdLike = str | int

T = TypeVar("T")

_RESERVED_ORDER_PARAMS = frozenset(
    {"direction_id", "calc_amount", "calc_action", "api_id", "partner_id", "callback_url"}
)


def _form(**values: Any) -> dict[str, str]:
    """Form fields without the ``None`` ones; bools as 0/1, Decimals without exponent."""
    form = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            form[name] = "1" if value else "0"
        elif isinstance(value, Decimal):
            form[name] = format_plain(value)
        elif isinstance(value, float):
            raise TypeError(f"{name}: pass a Decimal, not a float")
        else:
            form[name] = str(value)
    return form


def _check_limit(limit: int | None) -> None:
    if limit is not None and not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")


def _order_ref(order_id: IdLike | None, order_hash: str | None) -> dict[str, str]:
    """``id`` and ``hash`` both when known: some servers find a bid for an action by its hash only."""
    if order_id is None and not order_hash:
        raise ValueError("give order_id or order_hash")
    return _form(id=order_id, hash=order_hash or None)


class PremiumExchangerClient:
    """A PremiumExchanger site's User API v1.

    One instance (and its ``httpx.AsyncClient``) per process; ``scoped()`` gives cheap views with
    another chat language or key that share the connection pool. Read methods are retried on transport
    errors, timeouts and proxy/5xx pages; create_bid, pay/cancel/success_bid and add_partner_payout are
    sent exactly once.
    """

    def __init__(
        self,
        base_url: str,
        credentials: ApiCredentials,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 15.0,
        retries: int = 2,
        lang: str | None = None,
        backoff: float = 0.5,
        observer: ExchangerObserver | None = None,
    ) -> None:
        self._conn = Connection(
            base_url, http=http, timeout=timeout, retries=retries, backoff=backoff, observer=observer
        )
        self._credentials = credentials
        self._lang = lang
        self._is_root = True

    def __repr__(self) -> str:
        return (
            f"PremiumExchangerClient({self._conn.base_url!r}, login={self._credentials.login!r}, "
            f"lang={self._lang!r})"
        )

    @property
    def base_url(self) -> str:
        return self._conn.base_url

    @property
    def lang(self) -> str | None:
        return self._lang

    @property
    def login(self) -> str:
        return self._credentials.login

    def scoped(
        self, *, lang: str | None = None, credentials: ApiCredentials | None = None
    ) -> PremiumExchangerClient:
        view = object.__new__(PremiumExchangerClient)
        view._conn = self._conn
        view._credentials = credentials or self._credentials
        view._lang = lang if lang is not None else self._lang
        view._is_root = False
        return view

    async def aclose(self) -> None:
        """Close the connection pool if this client created it (scoped views never close it)."""
        if self._is_root:
            await self._conn.aclose()

    async def __aenter__(self) -> PremiumExchangerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _call(self, method: str, form: Mapping[str, str], parse: Callable[[Any], T]) -> T:
        data = await self._conn.call(method, form, credentials=self._credentials, lang=self._lang)
        try:
            return parse(data)
        except ValidationError as exc:
            where = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'data'}: {e['type']}" for e in exc.errors()[:5]
            )
            raise UnexpectedResponse(f"unexpected data shape ({where})", method=method) from None
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise UnexpectedResponse(f"unexpected data shape ({exc})", method=method) from None

    # Catalogue

    async def list_currencies(
        self, give_id: IdLike | None = None, get_id: IdLike | None = None
    ) -> CurrencyLists:
        form = _form(currency_id_give=give_id, currency_id_get=get_id)
        return await self._call("get_direction_currencies", form, wire.parse_currency_lists)

    async def list_directions(
        self, give_id: IdLike | None = None, get_id: IdLike | None = None
    ) -> list[DirectionSummary]:
        form = _form(currency_id_give=give_id, currency_id_get=get_id)
        return await self._call("get_directions", form, wire.parse_direction_summaries)

    async def get_direction(
        self,
        direction_id: IdLike | None = None,
        *,
        give_id: IdLike | None = None,
        get_id: IdLike | None = None,
    ) -> Direction:
        if direction_id is None and (give_id is None or get_id is None):
            raise ValueError("give direction_id, or both give_id and get_id")
        form = _form(direction_id=direction_id, currency_id_give=give_id, currency_id_get=get_id)
        return await self._call("get_direction", form, wire.parse_direction)

    # Quoting

    async def quote(
        self,
        direction_id: IdLike,
        amount: Decimal,
        action: CalcAction = CalcAction.GIVE,
        cd_fields: Mapping[str, str] | None = None,
    ) -> Quote:
        form = _form(
            direction_id=direction_id,
            calc_amount=Decimal(amount) if isinstance(amount, (int, str)) else amount,
            calc_action=int(CalcAction(action)),
            cd=encode_cd(cd_fields) if cd_fields else None,
        )
        return await self._call("get_calc", form, wire.parse_quote)

    # Orders

    async def create_order(self, request: OrderRequest) -> Order:
        clashes = _RESERVED_ORDER_PARAMS & request.fields.keys()
        if clashes:
            raise ValueError(f"order fields may not be named {sorted(clashes)}")
        form = _form(
            direction_id=request.direction_id,
            calc_amount=request.amount,
            calc_action=int(request.action),
            api_id=request.api_id,
            partner_id=request.partner_id,
            callback_url=request.callback_url,
        )
        form.update({str(k): str(v) for k, v in request.fields.items()})
        return await self._call("create_bid", form, wire.parse_order)

    # Give both id and hash where known (the adapter always does).

    async def get_order(self, order_id: IdLike | None = None, order_hash: str | None = None) -> Order:
        return await self._call("bid_info", _order_ref(order_id, order_hash), wire.parse_order)

    async def cancel_order(self, order_id: IdLike | None = None, order_hash: str | None = None) -> str:
        return await self._call("cancel_bid", _order_ref(order_id, order_hash), wire.parse_status_code)

    async def mark_paid(self, order_id: IdLike | None = None, order_hash: str | None = None) -> str:
        return await self._call("pay_bid", _order_ref(order_id, order_hash), wire.parse_status_code)

    async def mark_success(self, order_id: IdLike | None = None, order_hash: str | None = None) -> str:
        return await self._call("success_bid", _order_ref(order_id, order_hash), wire.parse_status_code)

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
        """One page of get_exchanges. The server's api_id filter is broken: see find_order_by_api_id."""
        _check_limit(limit)
        form = _form(
            start_time=start_time,
            end_time=end_time,
            ip=ip,
            id=order_id,
            hash=order_hash,
            api_id=api_id,
            status_history=status_history or None,
            limit=limit,
            offset=offset,
        )
        return await self._call("get_exchanges", form, wire.parse_order_records)

    def iter_orders(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        ip: str | None = None,
        status_history: bool = False,
        page_size: int = MAX_PAGE_SIZE,
        until_empty: bool = True,
        key: Callable[[OrderRecord], object] | None = None,
    ) -> AsyncIterator[OrderRecord]:
        """Every bid whose last change is in the period, newest change first. Bids that change during
        the walk are not lost (see :mod:`.paging`); with ``key=lambda r: (r.id, r.time)`` such a bid
        is yielded again with its new status."""

        async def page(limit: int, offset: int | None, end: int | None) -> list[OrderRecord]:
            return await self.list_orders(
                start_time=start_time, end_time=end, ip=ip, status_history=status_history,
                limit=limit, offset=offset,
            )  # fmt: skip

        extra = {} if key is None else {"key": key}
        return iterate_pages(
            page, page_size=page_size, method="get_exchanges", end_time=end_time, moving=True,
            until_empty=until_empty, **extra,
        )  # fmt: skip

    async def find_order_by_api_id(self, api_id: str | int, since: int) -> OrderRecord | None:
        """The bid created with ``api_id``, listed from ``since`` (the server's clock!) and matched here:
        the server's own api_id filter compares with the bid id."""
        wanted = str(api_id).strip()
        async for record in self.iter_orders(start_time=since):
            if record.api_id == wanted:
                return record
        return None

    # Partner cabinet

    async def whoami(self) -> ApiIdentity:
        return await self._call("test", {}, wire.parse_identity)

    async def partner_info(self) -> PartnerInfo:
        return await self._call("get_partner_info", {}, wire.parse_partner_info)

    async def partner_clicks(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        ip: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[PartnerClick]:
        _check_limit(limit)
        form = _form(start_time=start_time, end_time=end_time, ip=ip, limit=limit, offset=offset)
        return await self._call("get_partner_links", form, wire.parse_partner_clicks)

    def iter_partner_clicks(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        ip: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[PartnerClick]:
        async def page(limit: int, offset: int | None, end: int | None) -> list[PartnerClick]:
            return await self.partner_clicks(
                start_time=start_time, end_time=end, ip=ip, limit=limit, offset=offset
            )

        return iterate_pages(page, page_size=page_size, method="get_partner_links", end_time=end_time)

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
    ) -> list[PartnerExchange]:
        _check_limit(limit)
        form = _form(
            start_time=start_time,
            end_time=end_time,
            ip=ip,
            id=order_id,
            hash=order_hash,
            status_history=status_history or None,
            limit=limit,
            offset=offset,
        )
        return await self._call("get_partner_exchanges", form, wire.parse_partner_exchanges)

    def iter_partner_exchanges(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        ip: str | None = None,
        status_history: bool = False,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[PartnerExchange]:
        async def page(limit: int, offset: int | None, end: int | None) -> list[PartnerExchange]:
            return await self.partner_exchanges(
                start_time=start_time, end_time=end, ip=ip, status_history=status_history,
                limit=limit, offset=offset,
            )  # fmt: skip

        return iterate_pages(
            page, page_size=page_size, method="get_partner_exchanges", end_time=end_time, moving=True
        )

    async def partner_payouts(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        payout_id: IdLike | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[PartnerPayout]:
        _check_limit(limit)
        form = _form(start_time=start_time, end_time=end_time, id=payout_id, limit=limit, offset=offset)
        return await self._call("get_partner_payouts", form, wire.parse_partner_payouts)

    def iter_partner_payouts(
        self,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[PartnerPayout]:
        async def page(limit: int, offset: int | None, end: int | None) -> list[PartnerPayout]:
            return await self.partner_payouts(start_time=start_time, end_time=end, limit=limit, offset=offset)

        return iterate_pages(page, page_size=page_size, method="get_partner_payouts", end_time=end_time)

    async def request_payout(self, method_id: IdLike, account: str) -> str:
        form = _form(method_id=method_id, account=account)
        return await self._call("add_partner_payout", form, wire.parse_payout_id)
