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
from bot.domain.models import Direction, Order, OrderRef, OrderRequest
from bot.domain.money import format_plain
from bot.exchange.field_memory import FieldMemory
from bot.observability.metrics import Metrics
from bot.platforms.base import OrderUnreachable, Placement, PlacementUncertain, Platform
from bot.storage.outbox import OutboxRepository
from bot.storage.repositories import ChatSettingsRepository, OrderRepository, StoredOrder

log = logging.getLogger(__name__)

CALLBACK_PATH = "/callbacks/order/{token}"
# The outbox kind of "your order was created after all" (bot/notifications/adoption.py renders it).
ADOPTED_KIND = "order_adopted"
# Unsettled reservations older than this are left alone.
PENDING_MAX_AGE_SECONDS = 7 * 24 * 3600

__all__ = [
    "CALLBACK_PATH",
    "OrderPlacer",
    "OrderUnreachable",
    "Placed",
    "PlacementUncertain",
    "RequestChanged",
]


class RequestChanged(Exception):
    """A retry under a key whose create had no clear answer, with a request other than the one the key
    was first sent with: nothing is sent. Only a new key may carry another amount or other answers."""


@dataclass(frozen=True)
class Placed:
    order: Order
    local_id: int  # the bot's own id of the order (buttons carry it)
    recovered: bool  # found after a lost answer, rather than from the create call's own answer
    unreachable: bool = False  # created, but its access secret was lost: never show it as payable
    # Its card was (or is being) shown by another path already: the announcement of an adoption that
    # went out, or a concurrent Confirm. Showing it again would be a second card for one order.
    shown_elsewhere: bool = False


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
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self.platform, self.orders, self.chat_settings = platform, orders, chat_settings
        self.metrics = metrics
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

    async def place(
        self, *, chat_id: int, key: str, direction: Direction, request: OrderRequest, lang: str | None = None
    ) -> Placed:
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
            order = await self.platform.customer(lang).read_order(ref_of(existing))
            shown = not await self.withdraw_announcement(existing.id)
            return Placed(order, existing.id, recovered=True, shown_elsewhere=shown)
        attribution = await self.chat_settings.get_attribution(chat_id, self.name)
        request = request.model_copy(update={"attribution": attribution, "push_url": self._push_url(key)})
        if existing is None:
            prepared = placement.prepare(request, key)
            await self.orders.reserve(chat_id, self.name, key, direction.id, prepared)
            reserved_at, retry = self.orders.db.now(), False
        else:
            prepared = await self.orders.prepared_request(self.name, key)
            if not _sends_the_same(placement, existing, direction, request, key, prepared):
                raise RequestChanged(f"order key of chat {chat_id}: a retry with another request")
            reserved_at, retry = existing.created_at, True
        try:
            order = await placement.place(
                request, key, prepared, reserved_at=reserved_at, retry=retry, lang=lang
            )
        except (PlacementUncertain, OrderUnreachable) as exc:
            if isinstance(exc, OrderUnreachable):
                # Kept (and followed by pushes where the platform has them), never shown as payable.
                await self._attach(key, exc.order)
                local_id = await self._local_id(key)
                await self.orders.mark_unreachable(local_id)
                log.warning("order %s: created, but its access secret was lost (key kept)", exc.order.id)
            raise
        except ExchangerError:
            # The exchange answered and refused: it has no order under this key, unless an earlier
            # attempt without an answer may still be committed (then the key stays pending).
            if not retry:
                await self.orders.forget_reservation(self.name, key)
            raise
        # Only onto the reservation: a lookup may have adopted the order meanwhile (and queued its
        # announcement), and its row and notified status stay as they are then.
        attached = await self._attach(key, order, if_pending=True)
        local_id = await self._local_id(key)
        await self.field_memory.remember_form(chat_id, direction.fields, request.fields)
        if not attached:  # adopted and counted already: shown here only instead of its announcement
            shown = not await self.withdraw_announcement(local_id)
            return Placed(order, local_id, recovered=True, shown_elsewhere=shown)
        self._count(recovered=None)
        return Placed(order, local_id, recovered=retry)

    async def withdraw_announcement(self, local_id: int) -> bool:
        """The customer's own retry shows an adopted order: withdraw its queued "created after all", so
        the chat gets one card. False when none was waiting (sent already, or never queued)."""
        return await OutboxRepository(self.orders.db).withdraw_for_order(ADOPTED_KIND, local_id)

    async def reservation(self, key: str) -> StoredOrder | None:
        """What is stored under ``key``: None when no order can exist under it (never sent, refused,
        or looked up in vain past the commit horizon); ``order_id`` None while that is not known."""
        return await self.orders.get_by_key(self.name, key)

    def _known(self, stored: StoredOrder) -> Order:
        assert stored.order_id is not None
        return Order(
            ref=OrderRef(id=stored.order_id),
            number=stored.number or "",
            status=stored.status or self.platform.status_of(stored.status_code or ""),
        )

    async def resolve_pending(self, chat_id: int) -> list[Placed]:
        """Look up the chat's reservations whose create never got a clear answer: orders found are
        attached and returned (show them; an ``unreachable`` one as such). A reservation the exchange
        has no order for is forgotten only once the exchange can no longer commit it
        (:meth:`past_horizon`); until then, and when the exchange can't be asked, the status tracker
        keeps looking for it."""
        placement = self.platform.placement
        if placement is None:
            return []
        found = []
        for reservation in await self.orders.pending_reservations(
            self.name, chat_id=chat_id, since=self.recent()
        ):
            try:
                order = await self.find(reservation)
            except OrderUnreachable as exc:
                local_id = await self.adopt_unreachable(reservation.idempotency_key, exc.order, how="pending")
                if local_id is not None:
                    found.append(Placed(exc.order, local_id, recovered=True, unreachable=True))
                continue
            except ExchangerError:
                break
            if order is None:
                await self.forget_if_past_horizon(reservation)
                continue
            local_id = await self.adopt(reservation.idempotency_key, order, how="pending")
            if local_id is not None:
                found.append(Placed(order, local_id, recovered=True))
        return found

    async def find(self, reservation: StoredOrder) -> Order | None:
        """The exchange's order under a reservation's key (see ``Placement.find``)."""
        placement = self.platform.placement
        assert placement is not None
        key = reservation.idempotency_key
        prepared = await self.orders.prepared_request(self.name, key)
        return await placement.find(key, reserved_at=reservation.created_at, prepared=prepared)

    def past_horizon(self, reservation: StoredOrder) -> bool:
        """Whether the exchange can no longer commit a create sent under this reservation."""
        placement = self.platform.placement
        assert placement is not None
        return self.orders.db.now() >= reservation.created_at + placement.commit_horizon_seconds

    async def forget_if_past_horizon(self, reservation: StoredOrder) -> bool:
        """After a lookup found nothing: drop the reservation when no late commit can come any more."""
        if not self.past_horizon(reservation):
            return False
        return await self.orders.forget_reservation(self.name, reservation.idempotency_key)

    async def adopt(self, key: str, order: Order, *, how: str = "adopted") -> int | None:
        """Attach an order found after the fact, with its current status as the one the customer is
        told about by whoever adopts it. Returns its local id, or None when it was attached already
        (by the customer's own retry, or another lookup): then that one has shown it. Counted once,
        as recovered ``how`` ("pending": by the customer's next /exchange; "adopted": in the background)."""
        if not await self._attach(key, order, if_pending=True):
            return None
        local_id = await self._local_id(key)
        await self.orders.schedule_check(local_id, None, None)  # a reservation's lookups are over
        self._count(recovered=how)
        return local_id

    async def adopt_unreachable(self, key: str, order: Order, *, how: str = "adopted") -> int | None:
        """An order found after the fact whose access secret went with a lost answer: kept (never shown
        as payable), so no order of ours is unknown to the bot."""
        if not await self._attach(key, order, if_pending=True):
            return None
        local_id = await self._local_id(key)
        await self.orders.mark_unreachable(local_id)
        await self.orders.schedule_check(local_id, None, None)
        self._count(recovered=how)
        log.warning("order %s: created after all, but its access secret was lost (key kept)", order.id)
        return local_id

    def _count(self, *, recovered: str | None) -> None:
        if self.metrics is None:
            return
        if recovered is None:
            self.metrics.order_created(self.name)
        else:
            self.metrics.order_recovered(self.name, recovered)

    def recent(self) -> int:
        """Reservations created since this time are still worth settling."""
        return self.orders.db.now() - PENDING_MAX_AGE_SECONDS

    async def _attach(self, key: str, order: Order, *, if_pending: bool = False) -> bool:
        return await self.orders.attach(
            self.name,
            key,
            order_id=order.id,
            number=order.label,
            secret=order.ref.secret,
            status=order.status,
            push_token=self.push_token(key),
            give_amount=format_plain(order.give_amount) if order.give_amount is not None else None,
            get_amount=format_plain(order.get_amount) if order.get_amount is not None else None,
            give_currency_code=order.give_currency_code or None,
            get_currency_code=order.get_currency_code or None,
            if_pending=if_pending,
        )

    async def _local_id(self, key: str) -> int:
        stored = await self.orders.get_by_key(self.name, key)
        assert stored is not None
        return stored.id


def _sends_the_same(
    placement: Placement,
    stored: StoredOrder,
    direction: Direction,
    request: OrderRequest,
    key: str,
    prepared: bytes | None,
) -> bool:
    """Whether a retry sends what the key was first sent with: the same direction and, where the
    platform stored the exact bytes, the same bytes rebuilt from ``request`` (where it rebuilds the
    request on every attempt, the caller keeps ``request`` the same)."""
    if stored.direction_id is not None and stored.direction_id != direction.id:
        return False
    if prepared is None:
        return True
    try:
        return placement.prepare(request, key) == prepared
    except ExchangerError:  # can't be rebuilt now (the catalogue moved): the stored bytes are resent
        log.info("order key %s: the retry's request could not be rebuilt to compare", key)
        return True


def ref_of(stored: StoredOrder) -> OrderRef:
    assert stored.order_id is not None
    return OrderRef(id=stored.order_id, secret=stored.secret)
