"""Creating an order exactly once, however often Confirm is pressed and whatever the network does.

The platform's idempotency key is chosen and stored (with the exact request, when the platform
resends bytes) before anything is sent; every retry reuses both. How a lost answer is recovered is
the platform's own strategy (:class:`bot.platforms.base.Placement`): this module keeps the bot's side
of the bargain: the reservation, the order attached to it (its per-order secret encrypted), and the
customer's typed values remembered once the order exists.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from bot.domain.capabilities import Capability
from bot.domain.errors import ExchangerError
from bot.domain.models import Direction, FieldKind, Order, OrderRef, OrderRequest
from bot.domain.money import format_plain
from bot.exchange.field_memory import FieldMemory, memory_name
from bot.platforms.base import OrderUnreachable, PlacementUncertain, Platform
from bot.storage.repositories import ChatSettingsRepository, OrderRepository, StoredOrder

log = logging.getLogger(__name__)

CALLBACK_PATH = "/callbacks/order/{token}"
# Unsettled reservations older than this are left alone.
PENDING_MAX_AGE_SECONDS = 7 * 24 * 3600

__all__ = ["CALLBACK_PATH", "OrderPlacer", "OrderUnreachable", "Placed", "PlacementUncertain"]


@dataclass(frozen=True)
class Placed:
    order: Order
    local_id: int  # the bot's own id of the order (buttons carry it)
    recovered: bool  # found after a lost answer, rather than from the create call's own answer


def callback_url_for(public_url: str | None, token: str) -> str | None:
    """The order's push URL, or None when PUBLIC_URL is not set (the tracker then polls)."""
    if not public_url:
        return None
    return public_url.rstrip("/") + CALLBACK_PATH.format(token=token)


class OrderPlacer:
    def __init__(
        self,
        platform: Platform,
        orders: OrderRepository,
        chat_settings: ChatSettingsRepository,
        field_memory: FieldMemory,
        public_url: str | None,
        token_key: bytes,
    ) -> None:
        self.platform, self.orders, self.chat_settings = platform, orders, chat_settings
        self.field_memory = field_memory
        self.public_url = public_url
        self._token_key = token_key

    @property
    def name(self) -> str:
        return self.platform.info.name

    def new_key(self) -> str:
        assert self.platform.placement is not None
        return self.platform.placement.new_key()

    def push_token(self, key: str) -> str:
        """Unguessable, and the same for every attempt with this key: whichever attempt created the
        order, its push URL carries the token we store."""
        message = f"callback:{self.name}:{key}".encode()
        return hmac.new(self._token_key, message, hashlib.sha256).hexdigest()[:32]

    def _push_url(self, key: str) -> str | None:
        if not self.platform.info.serves(Capability.PUSH_CALLBACK):
            return None
        return callback_url_for(self.public_url, self.push_token(key))

    async def place(self, *, chat_id: int, key: str, direction: Direction, request: OrderRequest) -> Placed:
        """Raises ``PlacementUncertain`` (retry with the same key), ``OrderUnreachable`` (the order
        exists but can't be followed: start a fresh one) or the exchange's refusal."""
        placement = self.platform.placement
        assert placement is not None, "the platform takes no orders"
        existing = await self.orders.get_by_key(self.name, key)
        if existing is not None and existing.chat_id != chat_id:
            raise ValueError("the order key belongs to another chat")
        if existing is not None and existing.order_id is not None:
            if existing.unreachable:
                raise OrderUnreachable(self._known(existing))
            order = await self.platform.customer().read_order(ref_of(existing))
            return Placed(order, existing.id, recovered=True)
        attribution = await self.chat_settings.get_attribution(chat_id, self.name)
        request = request.model_copy(update={"attribution": attribution, "push_url": self._push_url(key)})
        if existing is None:
            prepared = placement.prepare(request, key)
            await self.orders.reserve(chat_id, self.name, key, direction.id, prepared)
            reserved_at, retry = self.orders.db.now(), False
        else:
            prepared = await self.orders.prepared_request(self.name, key)
            reserved_at, retry = existing.created_at, True
        try:
            order = await placement.place(request, key, prepared, reserved_at=reserved_at, retry=retry)
        except (PlacementUncertain, OrderUnreachable) as exc:
            if isinstance(exc, OrderUnreachable):
                # Kept (and followed by pushes where the platform has them), never shown as payable.
                local_id = await self._attach(key, exc.order, status_known=True)
                await self.orders.mark_unreachable(local_id)
                log.warning("order %s: created, but its access secret was lost (key kept)", exc.order.id)
            raise
        except ExchangerError:
            # The exchange answered and refused: it has no order under this key.
            await self.orders.forget_reservation(self.name, key)
            raise
        local_id = await self._attach(key, order, status_known=True)
        typed = {
            f.name: memory_name(f.name, f.pattern)
            for f in direction.fields
            if f.kind in (FieldKind.TEXT, FieldKind.TEXTAREA)
        }
        await self.field_memory.remember(
            chat_id, {typed[k]: v for k, v in request.fields.items() if k in typed and v}
        )
        return Placed(order, local_id, recovered=retry)

    def _known(self, stored: StoredOrder) -> Order:
        assert stored.order_id is not None
        return Order(
            ref=OrderRef(id=stored.order_id),
            number=stored.number or "",
            status=stored.status or self.platform.status_of(stored.status_code or ""),
        )

    async def resolve_pending(self, chat_id: int) -> list[Placed]:
        """Settle the chat's reservations whose create never got a clear answer: orders found are
        attached and returned (show them), reservations the exchange has no order for are forgotten.
        When the exchange can't be asked, they stay for the status tracker to settle later."""
        placement = self.platform.placement
        if placement is None:
            return []
        found = []
        for reservation in await self.orders.pending_reservations(
            self.name, chat_id=chat_id, since=self.recent()
        ):
            try:
                order = await placement.find(reservation.idempotency_key, reserved_at=reservation.created_at)
            except ExchangerError:
                break
            if order is None:
                await self.orders.forget_reservation(self.name, reservation.idempotency_key)
            else:
                local_id = await self._attach(reservation.idempotency_key, order, status_known=True)
                found.append(Placed(order, local_id, recovered=True))
        return found

    async def adopt(self, key: str, order: Order) -> int:
        """Attach an order found after the fact. Its status is left unknown, so recording it next
        (``OrderStatusService.record``) tells the customer about the order."""
        return await self._attach(key, order, status_known=False)

    def recent(self) -> int:
        """Reservations created since this time are still worth settling."""
        return self.orders.db.now() - PENDING_MAX_AGE_SECONDS

    async def _attach(self, key: str, order: Order, *, status_known: bool) -> int:
        await self.orders.attach(
            self.name,
            key,
            order_id=order.id,
            number=order.label,
            secret=order.ref.secret,
            status=order.status if status_known else None,
            push_token=self.push_token(key),
            give_amount=format_plain(order.give_amount) if order.give_amount is not None else None,
            get_amount=format_plain(order.get_amount) if order.get_amount is not None else None,
            give_currency_code=order.give_currency_code or None,
            get_currency_code=order.get_currency_code or None,
        )
        stored = await self.orders.get_by_key(self.name, key)
        assert stored is not None
        return stored.id


def ref_of(stored: StoredOrder) -> OrderRef:
    assert stored.order_id is not None
    return OrderRef(id=stored.order_id, secret=stored.secret)
