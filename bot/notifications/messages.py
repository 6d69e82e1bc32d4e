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

from bot.exchanger.errors import ExchangerError
from bot.i18n import API_LOCALES, N_
from bot.notifications.outbox import OutboxItem
from bot.notifications.statuses import ORDER_STATUS_KIND
from bot.notifications.titles import StatusTitles
from handlers.callbacks import OrderCb

if TYPE_CHECKING:
    from bot.services import Services

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
    title_timeout: float = 5.0

    def gettext(self, msgid: str, locale: str) -> str:
        return self.services.i18n.gettext(msgid, locale=locale)

    async def status_title(
        self, bid_id: int, status: str, observed: str | None, observed_lang: str | None, locale: str
    ) -> str:
        """The status title in the chat's language: the one observed when it is in that language, else
        one learned before, else asked once from the exchanger; the observed title or the code as a
        last resort."""
        api_lang = API_LOCALES.get(locale, locale)
        if observed and observed_lang == api_lang:
            return observed
        known = self.titles.get(api_lang, status)
        if known:
            return known
        try:
            async with asyncio.timeout(self.title_timeout):
                order = await self.services.exchanger.scoped(lang=api_lang).get_order(bid_id)
        except (ExchangerError, TimeoutError) as exc:
            log.info("order %s: no %s status title (%s)", bid_id, api_lang, type(exc).__name__)
        else:
            self.titles.learn(api_lang, order.status, order.status_title)
            if order.status == status and order.status_title:
                return order.status_title
        return observed or status


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
    "success": N_("✅ The order is completed."),
    "cancel": N_("The order was cancelled."),
    "delete": N_("The order was deleted."),
    "error": N_("The order ended with an error. Open it for details or contact the exchange's support."),
}
_OPEN_ORDER = N_("Open order")


@register_renderer(ORDER_STATUS_KIND)
async def render_order_status(ctx: RenderContext, item: OutboxItem, locale: str) -> Rendered | None:
    payload = item.payload
    bid_id, status = int(payload["bid_id"]), str(payload["status"])
    title = await ctx.status_title(
        bid_id, status, payload.get("status_title"), payload.get("title_lang"), locale
    )
    lines = [ctx.gettext(_ORDER_STATUS, locale).format(id=bid_id, status=html.escape(title))]
    bid = await ctx.services.bids.get_by_bid_id(bid_id)
    if bid is not None and bid.give_amount and bid.get_amount:
        give = f"{bid.give_amount} {bid.give_currency_code or ''}".strip()
        get = f"{bid.get_amount} {bid.get_currency_code or ''}".strip()
        lines.append(html.escape(f"{give} → {get}"))
    final_line = _FINAL_LINES.get(status.lower())
    if final_line is not None:
        lines.append(ctx.gettext(final_line, locale))
    button = InlineKeyboardButton(
        text=ctx.gettext(_OPEN_ORDER, locale), callback_data=OrderCb(action="open", bid_id=bid_id).pack()
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
