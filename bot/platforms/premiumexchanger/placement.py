"""Creating a PremiumExchanger bid exactly once per idempotency key, whatever the network does.

The key is create_bid's ``api_id`` (numeric, unique per API login on the server); the core stores it
before create_bid is first sent. Before a resend, and after a timeout, an unreadable answer or
"api id not unique", the bid is looked up by that api_id: listing get_exchanges from shortly before the
first attempt and matching api_id on our side (the server's own api_id filter is broken: it compares
with the bid id). Only when the exchange certainly has no such bid is create_bid sent again, with the
same api_id, so even then the server itself refuses a duplicate.

The lookup window comes from the bot's clock, but the server filters on its ``time``, which is the
site's local time read as UTC (hours off the real moment). The window therefore starts
``LOOKUP_MARGIN_SECONDS`` (clock drift) plus ``UTC_OFFSET_ALLOWANCE`` (the farthest zone) before the
reservation; a late end does not matter, the window is open-ended.

A create_bid whose answer was lost may still be committed by the site well after our request timed
out (PHP keeps running after the client has gone, until the web server's own time limit).
``COMMIT_HORIZON_SECONDS`` bounds that; until then a lookup that finds nothing proves nothing. The
horizon is a duration since the reservation (which is before the site can have received the call),
so the site's shifted clock does not enter it; the open-ended window sees a bid stamped with any
commit time.
"""

from __future__ import annotations

import logging
import secrets
import time

from bot.domain.errors import (
    ExchangerError,
    IdempotencyConflict,
    OrderNotFound,
    TransportError,
    UnexpectedResponse,
    ValidationFailed,
)
from bot.domain.models import Order, OrderRequest
from bot.platforms.base import PlacementUncertain
from bot.platforms.premiumexchanger import mapping
from bot.platforms.premiumexchanger import models as pe
from bot.platforms.premiumexchanger.client import PremiumExchangerClient
from bot.platforms.premiumexchanger.info import api_locale

__all__ = [
    "COMMIT_HORIZON_SECONDS",
    "LOOKUP_MARGIN_SECONDS",
    "UTC_OFFSET_ALLOWANCE",
    "PremiumExchangerPlacement",
    "new_api_id",
]

log = logging.getLogger(__name__)

# How far before the reservation to list orders when looking one up (server clocks drift).
LOOKUP_MARGIN_SECONDS = 600
# The server's `time` runs ahead of the real moment east of UTC and behind it west of UTC (to UTC-12);
# 14 h covers every zone.
UTC_OFFSET_ALLOWANCE = 14 * 3600
# How long after the reservation a create_bid may still be committed (well over PHP-FPM's usual limits).
COMMIT_HORIZON_SECONDS = 30 * 60


def new_api_id() -> str:
    """The idempotency key of create_bid: numeric (the server requires it), unique per API login."""
    return f"{time.time_ns() // 1000}{secrets.randbelow(1000):03d}"


def lookup_since(reserved_at: int) -> int:
    """Where (in the server's clock) to start listing for a bid reserved at ``reserved_at`` (ours)."""
    return max(reserved_at - LOOKUP_MARGIN_SECONDS - UTC_OFFSET_ALLOWANCE, 1)


class PremiumExchangerPlacement:
    """:class:`~bot.platforms.base.Placement` on create_bid's ``api_id``. Nothing to prepare: the
    request is rebuilt from the same :class:`OrderRequest` on every attempt."""

    def __init__(
        self, client: PremiumExchangerClient, *, commit_horizon: int = COMMIT_HORIZON_SECONDS
    ) -> None:
        self._client = client
        self.commit_horizon_seconds = commit_horizon

    def new_key(self) -> str:
        return new_api_id()

    def prepare(self, request: OrderRequest, key: str) -> bytes | None:
        return None

    async def place(
        self,
        request: OrderRequest,
        key: str,
        prepared: bytes | None,
        *,
        reserved_at: int,
        retry: bool,
        lang: str | None = None,
    ) -> Order:
        if lang is not None:  # the bid's instructions and status title come in the chat's language
            scoped = PremiumExchangerPlacement(
                self._client.scoped(lang=api_locale(lang)), commit_horizon=self.commit_horizon_seconds
            )
            return await scoped.place(request, key, prepared, reserved_at=reserved_at, retry=retry)
        if retry:
            # An earlier attempt may have reached the exchange before its answer was lost.
            found = await self._lookup(key, reserved_at)
            if found is not None:
                return found
        try:
            created = await self._client.create_order(self._bid_request(request, key))
        except (TransportError, UnexpectedResponse, IdempotencyConflict) as exc:
            # No answer we can read (a proxy's error page included): the bid may exist.
            log.warning("create_bid api_id %s: no clear answer (%s), looking it up", key, type(exc).__name__)
            found = await self._lookup(key, reserved_at)
            if found is None:
                raise PlacementUncertain(f"no bid found for api_id {key} ({type(exc).__name__})") from None
            log.info("create_bid api_id %s: found bid %s after a lost answer", key, found.id)
            return found
        except ValidationFailed as exc:
            # The exchange answered and refused: it has no bid with this api_id.
            raise ValidationFailed(
                exc.text, mapping.neutral_field_errors(exc.field_errors), method=exc.method, code=exc.code
            ) from None
        return mapping.order(created)

    async def find(self, key: str, *, reserved_at: int, prepared: bytes | None = None) -> Order | None:
        """The bid carrying ``key`` as its api_id, listed from well before its reservation (exchange
        errors propagate: then it can't be told)."""
        record = await self._client.find_order_by_api_id(key, since=lookup_since(reserved_at))
        if record is None:
            return None
        try:
            return mapping.order(await self._client.get_order(record.id, record.hash))
        except OrderNotFound:
            # bid_info also says "no bid exists" once the bid's direction was disabled: the listing
            # proves the bid exists, so answer with what it showed.
            return mapping.order_from_record(record)

    async def _lookup(self, key: str, reserved_at: int) -> Order | None:
        try:
            return await self.find(key, reserved_at=reserved_at)
        except ExchangerError as exc:
            raise PlacementUncertain(f"api_id {key} could not be looked up ({type(exc).__name__})") from exc

    @staticmethod
    def _bid_request(request: OrderRequest, key: str) -> pe.OrderRequest:
        attribution = request.attribution
        return pe.OrderRequest(
            direction_id=request.direction_id,
            amount=request.amount,
            action=mapping.calc_action(request.side),
            fields={name: value for name, value in request.fields.items() if value},
            api_id=key,
            partner_id=attribution.partner if attribution and attribution.partner else None,
            callback_url=request.push_url,
        )
