"""Creating an order exactly once, however often Confirm is pressed and whatever the network does.

The `api_id` is chosen and stored before create_bid is sent. Before any (re)send, and after a
timeout or "api id not unique", we look the order up by that api_id: listing get_exchanges from
shortly before the first attempt and matching api_id on our side (the server's own api_id filter
is broken). Only when the exchanger certainly has no such order is create_bid sent again, with the
same api_id, so even then the server itself refuses a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from bot.exchange.field_memory import FieldMemory
from bot.exchanger.base import ExchangerPlatform
from bot.exchanger.errors import ApiIdNotUnique, ExchangerError, TransportError, UnexpectedResponse
from bot.exchanger.models import Direction, FieldType, Order, OrderRecord, OrderRequest
from bot.money import format_plain
from bot.notifications.callbacks import callback_url_for
from bot.storage.repositories import BidRepository, ChatSettingsRepository

log = logging.getLogger(__name__)

# How far before the reservation to list orders when looking one up (server clocks drift).
LOOKUP_MARGIN_SECONDS = 600
# Unsettled reservations older than this are left alone: get_exchanges is asked from their time on.
PENDING_MAX_AGE_SECONDS = 7 * 24 * 3600


class PlacementUncertain(Exception):
    """The exchanger did not answer and we could not tell whether the order exists. Retrying is safe."""


@dataclass(frozen=True)
class Placed:
    order: Order
    recovered: bool  # found by api_id after a lost answer, rather than from create_bid's own answer


class OrderPlacer:
    def __init__(
        self,
        bids: BidRepository,
        chat_settings: ChatSettingsRepository,
        field_memory: FieldMemory,
        public_url: str | None,
        token_key: bytes,
    ) -> None:
        self.bids, self.chat_settings, self.field_memory = bids, chat_settings, field_memory
        self.public_url = public_url
        self._token_key = token_key

    def callback_token(self, api_id: str) -> str:
        """Unguessable, and the same for every attempt with this api_id: whichever attempt created
        the order, its callback_url carries the token we store."""
        return hmac.new(self._token_key, f"callback:{api_id}".encode(), hashlib.sha256).hexdigest()[:32]

    async def place(
        self,
        exchanger: ExchangerPlatform,
        *,
        chat_id: int,
        api_id: str,
        direction: Direction,
        request: OrderRequest,
    ) -> Placed:
        existing = await self.bids.get_by_api_id(api_id)
        if existing is not None and existing.chat_id != chat_id:
            raise ValueError("api_id belongs to another chat")
        if existing is not None and existing.bid_id is not None:
            return Placed(await exchanger.get_order(order_id=existing.bid_id), recovered=True)
        if existing is None:
            await self.bids.reserve(chat_id, api_id, int(direction.id))
            reserved_at = self.bids.db.now()
        else:
            reserved_at = existing.created_at
            # An earlier attempt may have reached the exchanger before its answer was lost.
            if (found := await self._lookup(exchanger, api_id, reserved_at)) is not None:
                return await self._finish(chat_id, api_id, found, direction, request, recovered=True)

        token = self.callback_token(api_id)
        attribution = await self.chat_settings.get_attribution(chat_id)
        request = request.model_copy(
            update={
                "api_id": api_id,
                "partner_id": str(attribution.partner_id) if attribution else None,
                "callback_url": callback_url_for(self.public_url, token),
            }
        )
        try:
            order = await exchanger.create_order(request)
        except (TransportError, UnexpectedResponse, ApiIdNotUnique) as exc:
            # No answer we can read (a proxy's error page included): the order may exist.
            log.warning(
                "create_bid api_id %s: no clear answer (%s), looking it up", api_id, type(exc).__name__
            )
            found = await self._lookup(exchanger, api_id, reserved_at)
            if found is None:
                raise PlacementUncertain from None
            return await self._finish(chat_id, api_id, found, direction, request, recovered=True)
        except ExchangerError:
            # The exchanger answered and refused: it has no order with this api_id.
            await self.bids.forget_reservation(api_id)
            raise
        return await self._finish(chat_id, api_id, order, direction, request, recovered=False)

    async def resolve_pending(self, exchanger: ExchangerPlatform, chat_id: int) -> list[Order]:
        """Settle the chat's reservations whose create_bid never got a clear answer: orders found are
        attached and returned (show them), reservations the exchanger has no order for are forgotten.
        When the exchanger can't be asked, they stay for the status tracker to settle later."""
        found = []
        for reservation in await self.bids.pending_reservations(chat_id=chat_id, since=self.recent()):
            try:
                order = await self._lookup(exchanger, reservation.api_id, reservation.created_at)
            except PlacementUncertain:
                break
            if order is None:
                await self.bids.forget_reservation(reservation.api_id)
            else:
                await self.adopt(reservation.api_id, order, announce=False)
                found.append(order)
        return found

    async def adopt(self, api_id: str, order: Order, *, announce: bool) -> None:
        """Attach an order found by its api_id after the fact. With `announce`, its status is left
        unknown, so recording it next (OrderStatusService.record) tells the customer about the order."""
        await self._attach(api_id, order, status_known=not announce)

    def recent(self) -> int:
        """Reservations created since this time are still worth settling."""
        return self.bids.db.now() - PENDING_MAX_AGE_SECONDS

    async def _attach(self, api_id: str, order: Order, *, status_known: bool) -> None:
        amounts = (
            format_plain(order.give_amount) if order.give_amount is not None else None,
            format_plain(order.get_amount) if order.get_amount is not None else None,
            order.give_currency_code or None,
            order.get_currency_code or None,
        )
        status, title = (order.status, order.status_title) if status_known else (None, None)
        token = self.callback_token(api_id)
        await self.bids.attach(
            api_id, int(order.id), order.hash or None, status, title, token, amounts=amounts
        )

    async def find(self, exchanger: ExchangerPlatform, api_id: str, reserved_at: int) -> OrderRecord | None:
        """The order carrying `api_id`, listed from shortly before its reservation (exchanger errors
        propagate)."""
        return await exchanger.find_order_by_api_id(api_id, since=reserved_at - LOOKUP_MARGIN_SECONDS)

    async def _lookup(self, exchanger: ExchangerPlatform, api_id: str, since: int) -> Order | None:
        try:
            record = await self.find(exchanger, api_id, since)
            if record is None:
                return None
            return await exchanger.get_order(order_id=record.id)
        except ExchangerError as exc:
            raise PlacementUncertain from exc

    async def _finish(
        self,
        chat_id: int,
        api_id: str,
        order: Order,
        direction: Direction,
        request: OrderRequest,
        *,
        recovered: bool,
    ) -> Placed:
        amounts = (
            format_plain(order.give_amount) if order.give_amount is not None else None,
            format_plain(order.get_amount) if order.get_amount is not None else None,
            order.give_currency_code or None,
            order.get_currency_code or None,
        )
        token = self.callback_token(api_id)
        await self.bids.attach(
            api_id,
            int(order.id),
            order.hash or None,
            order.status,
            order.status_title,
            token,
            amounts=amounts,
        )
        typed = {f.name for f in direction.fields if f.type in (FieldType.TEXT, FieldType.TEXTAREA)}
        await self.field_memory.remember(
            chat_id, {k: v for k, v in request.fields.items() if k in typed and v}
        )
        return Placed(order, recovered)
