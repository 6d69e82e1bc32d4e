"""What a queued notification looks like, rendered at send time in the chat's language.

Each outbox ``kind`` has a renderer: ``order_status`` (an order's new status) and ``text`` (any
translated message: payload ``{"msgid": ..., "params": {...}}``; mark the msgid with ``bot.i18n.N_``).
Other code adds kinds with :func:`register_renderer` and queues them with ``Notifications.notify``.
Renderers must not use lazy strings: translate with ``ctx.gettext(msgid, locale)``.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.errors import ExchangerError
from bot.domain.models import OrderPhase
from bot.domain.money import format_money, parse_decimal
from bot.exchange.ordering import ref_of
from bot.i18n import N_
from bot.notifications.statuses import ORDER_STATUS_KIND
from bot.notifications.titles import StatusTitles, fits
from bot.phases import PHASE_WORDS, PLAIN_PHASES
from bot.storage.outbox import OutboxItem
from handlers.callbacks import OrderCb

if TYPE_CHECKING:
    from bot.app.wiring import Services

log = logging.getLogger(__name__)

TEXT_KIND = "text"


@dataclass(frozen=True)
class Rendered:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


@dataclass
class RenderContext:
    services: Services
    titles: StatusTitles
    title_timeout: float = 5.0  # asking the exchange for one status title
    order_read_timeout: float = 10.0  # reading a whole order to render its card

    def gettext(self, msgid: str, locale: str) -> str:
        return self.services.i18n.gettext(msgid, locale=locale)

    async def status_title(
        self, local_id: int, status: str, observed: str | None, observed_lang: str | None, locale: str
    ) -> str | None:
        """The status title in the chat's language: the one observed when it is in that language, else
        one learned before, else asked once from the exchange. None when the platform has no title in
        that language (the phase in words is shown then)."""
        if observed and observed_lang == locale and fits(locale, observed):
            return observed
        known = self.titles.for_chat(locale, status)
        if known:
            return known
        stored = await self.services.orders.get(local_id)
        if stored is None or stored.order_id is None or stored.platform != self.services.platform.info.name:
            return None
        try:
            async with asyncio.timeout(self.title_timeout):
                order = await self.services.platform.customer(locale).read_order(ref_of(stored))
        except (ExchangerError, TimeoutError) as exc:
            log.info("order %s: no %s status title (%s)", local_id, locale, type(exc).__name__)
            return None
        self.titles.learn(locale, order.status.code, order.status.title)
        if order.status.code == status and fits(locale, order.status.title):
            return order.status.title
        return None


Renderer = Callable[[RenderContext, OutboxItem, str], Awaitable[Rendered | None]]
RENDERERS: dict[str, Renderer] = {}


def register_renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Decorator: ``renderer(ctx, item, locale)`` returns the message, or None to drop the item."""

    def decorate(renderer: Renderer) -> Renderer:
        RENDERERS[kind] = renderer
        return renderer

    return decorate


_ORDER_STATUS = N_("🔔 Order #{id}: {status}")
_FINAL_LINES = {
    OrderPhase.DONE: N_("✅ The order is completed."),
    OrderPhase.CANCELLED: N_("The order was cancelled or has expired."),
    OrderPhase.FAILED: N_(
        "The order ended with an error. Open it for details or contact the exchange's support."
    ),
    OrderPhase.NEEDS_DECISION: N_("The exchange needs your decision: open the order."),
}
_OPEN_ORDER = N_("Open order")


@register_renderer(ORDER_STATUS_KIND)
async def render_order_status(ctx: RenderContext, item: OutboxItem, locale: str) -> Rendered | None:
    payload = item.payload
    try:
        local_id, status = int(payload["order"]), str(payload["status"])
        phase = OrderPhase(payload["phase"]) if payload.get("phase") is not None else None
    except (KeyError, TypeError, ValueError):
        return None  # not a payload this version writes (e.g. a schema-2 row that named no order)
    stored = await ctx.services.orders.get(local_id)
    if stored is None:
        return None
    if phase is None:
        # Queued before the upgrade: its phase is the stored one while the order is still there.
        current = stored.status
        if current is None or current.code != status:
            return None
        phase = current.phase
    # Sites word a cancellation as "deleted" or "refusal of payment": the phase's words say it plainly.
    title = (
        None
        if phase in PLAIN_PHASES
        else await ctx.status_title(
            local_id, status, payload.get("status_title"), payload.get("title_lang"), locale
        )
    )
    words = title or ctx.gettext(PHASE_WORDS[phase], locale)
    heading = ctx.gettext(_ORDER_STATUS, locale)
    lines = [heading.format(id=html.escape(stored.label), status=html.escape(words))]
    if stored.give_amount and stored.get_amount:
        give_amount, get_amount = parse_decimal(stored.give_amount), parse_decimal(stored.get_amount)
        give = format_money(give_amount, stored.give_currency_code or "", exact=True, locale=locale)
        get = format_money(get_amount, stored.get_currency_code or "", exact=True, locale=locale)
        lines.append(f"{give} → {get}")  # format_money escapes
    final_line = _FINAL_LINES.get(phase)
    if final_line is not None:
        lines.append(ctx.gettext(final_line, locale))
    button = InlineKeyboardButton(
        text=ctx.gettext(_OPEN_ORDER, locale), callback_data=OrderCb(action="open", n=local_id).pack()
    )
    return Rendered("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[[button]]))


@register_renderer(TEXT_KIND)
async def render_text(ctx: RenderContext, item: OutboxItem, locale: str) -> Rendered | None:
    msgid = item.payload.get("msgid")
    if not isinstance(msgid, str) or not msgid:
        return None
    params: dict[str, Any] = item.payload.get("params") or {}
    safe = {name: html.escape(str(value)) for name, value in params.items()}
    return Rendered(ctx.gettext(msgid, locale).format(**safe))
