"""Orders the exchange created after the bot stopped waiting for them (an answer lost, a create
committed late), found later by their idempotency key and told to the customer.

:func:`adopt_and_announce` attaches such an order to its reservation and queues ONE ``order_adopted``
notification in the same transaction (whoever attaches it first announces it: the customer's own
retry, ``/exchange``, the tracker or a push). The message is rendered at send time in the chat's
language: "your order was created after all" with the order card as the exchange shows it then, and
its buttons (Cancel where the platform allows it); the stored card when the exchange can't be read.
An order whose access secret was lost is kept but never shown as payable: the customer is told not
to pay it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.domain.errors import ExchangerError
from bot.domain.models import Order
from bot.exchange.ordering import ADOPTED_KIND, ref_of
from bot.i18n import N_
from bot.notifications.messages import RenderContext, Rendered, register_renderer
from bot.storage.outbox import OutboxItem

if TYPE_CHECKING:
    from bot.app.wiring import Services
    from bot.notifications.statuses import OrderStatusService

log = logging.getLogger(__name__)

_CREATED_AFTER_ALL = N_("🔔 Your order was created after all: the exchange confirmed it late.")


async def adopt_and_announce(
    services: Services,
    statuses: OrderStatusService,
    key: str,
    order: Order,
    *,
    unreachable: bool = False,
) -> int | None:
    """Attach ``order`` (found after the fact under ``key``) and queue its announcement. Returns the
    local id, or None when the order was attached already (then it was shown or announced then)."""
    ordering, db = services.ordering, services.db
    enqueued = False
    async with db.transaction():
        if unreachable:
            local_id = await ordering.adopt_unreachable(key, order)
        else:
            local_id = await ordering.adopt(key, order)
        if local_id is None:
            return None
        stored = await services.orders.get(local_id)
        assert stored is not None
        if await services.chat_settings.is_active(stored.chat_id):
            await statuses.outbox.enqueue(stored.chat_id, ADOPTED_KIND, {"order": local_id})
            enqueued = True
    log.info("order %s: created after all, adopted as %s%s", order.id, local_id,
             " (customer told)" if enqueued else "")  # fmt: skip
    if enqueued and statuses.on_enqueued is not None:
        statuses.on_enqueued()
    return local_id


@register_renderer(ADOPTED_KIND)
async def render_adopted(ctx: RenderContext, item: OutboxItem, locale: str) -> Rendered | None:
    # Imported here: the card lives with the handlers, which import this package.
    from handlers.order_card import (
        card_keyboard,
        card_text,
        payment_to_show,
        stored_card_keyboard,
        stored_card_text,
        unreachable_keyboard,
        unreachable_text,
    )

    try:
        local_id = int(item.payload["order"])
    except (KeyError, TypeError, ValueError):
        return None
    services = ctx.services
    stored = await services.orders.get(local_id)
    if stored is None or stored.order_id is None or stored.platform != services.platform.info.name:
        return None
    i18n = services.i18n
    if stored.unreachable:
        with i18n.context(), i18n.use_locale(locale):
            return Rendered(unreachable_text(stored.label), unreachable_keyboard())
    order = None
    try:
        async with asyncio.timeout(ctx.order_read_timeout):
            order = await services.platform.customer(locale).read_order(ref_of(stored))
    except (ExchangerError, TimeoutError) as exc:
        log.info("order %s: shown as stored in its announcement (%s)", local_id, type(exc).__name__)
    note = ctx.gettext(_CREATED_AFTER_ALL, locale)
    paid = await payment_to_show(services.orders, local_id, order) if order is not None else None
    with i18n.context(), i18n.use_locale(locale):
        if order is None:
            return Rendered(stored_card_text(stored, note, ctx.titles), stored_card_keyboard(local_id))
        return Rendered(card_text(order, note, paid), card_keyboard(order, local_id, services.platform.info))
