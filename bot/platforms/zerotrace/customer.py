"""The customer flow on 0trace, in one language (:class:`~bot.platforms.base.CustomerApi`).

An order is reached with its id and its one-time token (``OrderRef.secret``). There is no cancel and
no "I have paid": an unpaid order expires, deposits are seen on-chain. The one decision a customer can
take is to continue an EMERGENCY order at the current rate.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from decimal import Decimal

from bot.domain.errors import (
    ActionNotAllowed,
    AmountOutOfLimits,
    DirectionUnavailable,
    ExchangerError,
    OrderNotFound,
    PermissionMissing,
    UnexpectedResponse,
    ValidationFailed,
)
from bot.domain.models import (
    AmountSide,
    CurrencyLists,
    Direction,
    DirectionSummary,
    Order,
    OrderRef,
    Quote,
)
from bot.platforms.zerotrace import mapping
from bot.platforms.zerotrace.client import ZeroTraceClient
from bot.platforms.zerotrace.signing import body_bytes

__all__ = ["Catalogue", "ZeroTraceCustomer", "price_body"]

log = logging.getLogger(__name__)


def price_body(give: str, get: str, amount: Decimal, side: AmountSide) -> bytes:
    return body_bytes(
        {"type": "float", "fromCcy": give, "toCcy": get, "direction": "from" if side.is_give else "to",
         "amount": amount}
    )  # fmt: skip


def token_of(ref: OrderRef) -> str | None:
    return ref.secret.get_secret_value() if ref.secret is not None else None


class Catalogue:
    """Assets and pairs from the client's 30-second cache."""

    def __init__(self, client: ZeroTraceClient) -> None:
        self._client = client

    async def assets(self) -> dict[str, mapping.Asset]:
        return mapping.assets_by_code(await self._client.cached("currencies"))

    def assets_now(self) -> dict[str, mapping.Asset]:
        """What was last read (possibly nothing), without a call: for pushes."""
        raw = self._client.cached_now("currencies")
        try:
            return mapping.assets_by_code(raw) if raw is not None else {}
        except UnexpectedResponse:
            return {}

    async def pairs(self) -> list[tuple[mapping.Asset, mapping.Asset]]:
        assets = await self.assets()
        return mapping.listed_pairs(await self._client.cached("pairs"), assets)

    async def pair(self, direction_id: str) -> tuple[mapping.Asset, mapping.Asset]:
        wanted = mapping.pair_of(direction_id)
        if wanted is not None:
            for give, get in await self.pairs():
                if (give.code, get.code) == wanted:
                    return give, get
        raise DirectionUnavailable(f"no active pair {direction_id[:40]!r}", method="pairs")


class ZeroTraceCustomer:
    def __init__(self, client: ZeroTraceClient, lang: str | None = None) -> None:
        self._client = client
        self._lang = lang
        self.catalogue = Catalogue(client)

    async def currencies(self) -> CurrencyLists:
        pairs = await self.catalogue.pairs()
        return mapping.currency_lists(await self.catalogue.assets(), pairs)

    async def directions(self) -> list[DirectionSummary]:
        return mapping.summaries(await self.catalogue.pairs())

    async def direction(self, direction_id: str) -> Direction:
        give, get = await self.catalogue.pair(direction_id)
        reference = give.min_amount or Decimal(1)
        price = await self._price(give.code, get.code, reference, AmountSide.GIVE)
        return mapping.direction(give, get, price, self._lang)

    async def _price(self, give: str, get: str, amount: Decimal, side: AmountSide) -> object:
        try:
            return await self._client.call("price", price_body(give, get, amount, side))
        except ValidationFailed as exc:
            # A pair that was listed a moment ago and can't be quoted now: deactivated in between.
            raise DirectionUnavailable(exc.text or "the pair can't be quoted", method="price") from None

    async def quote(
        self, direction_id: str, amount: Decimal, side: AmountSide, price_fields: Mapping[str, str]
    ) -> Quote:
        """The live price; an amount outside the pair's limits is moved to the nearest one
        (``adjusted``), since /v1/price itself only reports range problems."""
        give, get = await self.catalogue.pair(direction_id)
        side = AmountSide.GIVE if side.is_give else AmountSide.GET
        quoted = mapping.quote(await self._price(give.code, get.code, amount, side))
        low, high = (quoted.min_give, quoted.max_give) if side.is_give else (quoted.min_get, quoted.max_get)
        limit = None
        if low is not None and amount < low:
            limit = low
        elif high is not None and amount > high:
            limit = high
        if limit is None:
            return quoted
        return mapping.quote(await self._price(give.code, get.code, limit, side), adjusted=True)

    async def limits_error(self, direction_id: str, amount: Decimal, side: AmountSide,
                           refused: AmountOutOfLimits) -> AmountOutOfLimits:  # fmt: skip
        """A create's bare LIMIT_MIN / LIMIT_MAX with the limit filled in (in the amount's currency)."""
        try:
            quoted = await self.quote(direction_id, amount, side, {})
        except ExchangerError:
            return refused
        low, high = (quoted.min_give, quoted.max_give) if side.is_give else (quoted.min_get, quoted.max_get)
        below = refused.code == "7"
        return AmountOutOfLimits(
            refused.text, minimum=low if below else None, maximum=None if below else high,
            method=refused.method, code=refused.code, text=refused.text,
        )  # fmt: skip

    async def read_order(self, ref: OrderRef) -> Order:
        token = token_of(ref)
        if not token:
            raise OrderNotFound(
                "the order's one-time token is not known: 0trace won't show it", method="order"
            )
        data = await self._client.call("order", body_bytes({"id": ref.id, "token": token}))
        return mapping.order(data, token=token, assets=await self._assets_quietly())

    async def _assets_quietly(self) -> dict[str, mapping.Asset]:
        try:
            return await self.catalogue.assets()
        except ExchangerError:
            return self.catalogue.assets_now()

    async def cancel_order(self, ref: OrderRef) -> None:
        raise PermissionMissing("0trace has no cancel: an unpaid order expires", method="cancel_order")

    async def mark_paid(self, ref: OrderRef) -> None:
        raise PermissionMissing("0trace sees deposits on-chain: nothing to mark", method="mark_paid")

    async def continue_order(self, ref: OrderRef) -> None:
        """/v1/emergency with ``EXCHANGE``: go on at the live rate (the order leaves EMERGENCY shortly)."""
        token = token_of(ref)
        if not token:
            raise ActionNotAllowed(
                "the order's one-time token is not known: only 0trace's operator can settle it",
                method="emergency",
            )
        body = body_bytes({"id": ref.id, "token": token, "choice": "EXCHANGE"})
        try:
            await self._client.call("emergency", body)
        except ValidationFailed as exc:
            # Not (or no longer) in EMERGENCY; 0trace answers that with a bare INVALID_REQUEST.
            raise ActionNotAllowed(exc.text or "the order is not waiting for a decision", method="emergency",
                                   code=exc.code) from None  # fmt: skip

    async def qr_png(self, ref: OrderRef) -> bytes:
        """0trace's own pay-in QR (256×256 PNG of the bare address; weight 5, cached an hour server-side)."""
        token = token_of(ref)
        if not token:
            raise OrderNotFound("the order's one-time token is not known", method="qr")
        data = await self._client.call("qr", body_bytes({"id": ref.id, "token": token}))
        url = data.get("qrPng") if isinstance(data, Mapping) else None
        prefix = "data:image/png;base64,"
        if not isinstance(url, str) or not url.startswith(prefix):
            raise UnexpectedResponse("no PNG data URL", method="qr")
        try:
            return base64.b64decode(url[len(prefix) :], validate=True)
        except (binascii.Error, ValueError):
            raise UnexpectedResponse("the QR is not base64", method="qr") from None
