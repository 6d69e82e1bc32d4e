"""/orders and the order card's buttons. Every button names an order by id, and callback data can
be forged: an order is acted on only when this chat created it."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.exchanger.base import ExchangerPlatform
from bot.exchanger.errors import ActionDisabled, ExchangerError, NoBid
from bot.money import format_money, parse_decimal
from bot.notifications.statuses import OrderStatusService
from bot.storage.repositories import Bid, BidRepository
from handlers import keyboards
from handlers.callbacks import MenuCb, OrderCb
from handlers.order_card import cancel_question_keyboard, card_keyboard, card_text, send_order_card
from handlers.replies import show
from handlers.upstream import upstream_error_text

PAGE_SIZE = 5

__all__ = ["create_router", "send_order_card"]


async def _owned(callback: CallbackQuery, bids: BidRepository, bid_id: int) -> Bid | None:
    bid = await bids.get_by_bid_id(bid_id) if bid_id else None
    if bid is None or callback.message is None or bid.chat_id != callback.message.chat.id:
        await callback.answer(_("Order not found."), show_alert=True)
        return None
    return bid


def _line(bid: Bid) -> str:
    def amount(value: str | None, code: str | None) -> str:
        return format_money(parse_decimal(value), code or "", exact=True) if value else "?"

    give = amount(bid.give_amount, bid.give_currency_code)
    get = amount(bid.get_amount, bid.get_currency_code)
    status = escape(bid.status_title or bid.status or "")
    return f"<b>#{bid.bid_id}</b> · {give} → {get}\n      {status}"


async def _list(chat_id: int, bids: BidRepository, page: int) -> tuple[str, InlineKeyboardMarkup]:
    total = await bids.count_for_chat(chat_id)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = [b for b in await bids.list_for_chat(chat_id, PAGE_SIZE, page * PAGE_SIZE) if b.bid_id]
    kb = InlineKeyboardBuilder()
    if not rows:
        kb.button(text=_("💱 Exchange"), callback_data=MenuCb(item="exchange"))
        kb.button(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main"))
        kb.adjust(1)
        return _("You have no orders yet."), kb.as_markup()
    text = _("<b>Your orders</b>, newest first (page {page} of {pages}):").format(page=page + 1, pages=pages)
    text += "\n\n" + "\n".join(_line(bid) for bid in rows)
    for bid in rows:
        kb.button(text=f"#{bid.bid_id}", callback_data=OrderCb(action="open", bid_id=bid.bid_id or 0))
    kb.adjust(PAGE_SIZE)
    if pages > 1:
        kb.row(
            *(
                [InlineKeyboardButton(text="◀️", callback_data=OrderCb(action="list", page=page - 1).pack())]
                if page > 0
                else []
            ),
            *(
                [InlineKeyboardButton(text="▶️", callback_data=OrderCb(action="list", page=page + 1).pack())]
                if page + 1 < pages
                else []
            ),
        )
    kb.row(InlineKeyboardButton(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main").pack()))
    return text, kb.as_markup()


async def orders_command(message: Message, bids: BidRepository) -> None:
    text, markup = await _list(message.chat.id, bids, 0)
    await message.answer(text, reply_markup=markup)


async def orders_button(
    callback: CallbackQuery, bids: BidRepository, callback_data: MenuCb | OrderCb
) -> None:
    await callback.answer()
    assert callback.message is not None
    page = callback_data.page if isinstance(callback_data, OrderCb) else 0
    text, markup = await _list(callback.message.chat.id, bids, page)
    await show(callback, text, markup)


async def order_button(
    callback: CallbackQuery,
    callback_data: OrderCb,
    bids: BidRepository,
    exchanger: ExchangerPlatform,
    order_statuses: OrderStatusService,
) -> None:
    bid = await _owned(callback, bids, callback_data.bid_id)
    if bid is None or bid.bid_id is None:
        return
    action = callback_data.action
    if action == "cancel":
        await callback.answer()
        text = _("Cancel order #{id}? This cannot be undone.").format(id=bid.bid_id)
        await show(callback, text, cancel_question_keyboard(bid.bid_id))
        return
    await callback.answer(_("Cancelling…") if action == "cancel_yes" else _("Updating…"))
    note = None
    try:
        if action == "paid":
            await exchanger.mark_paid(order_id=bid.bid_id)
        elif action == "cancel_yes":
            await exchanger.cancel_order(order_id=bid.bid_id)
    except (NoBid, ActionDisabled):
        # The server says "no bid exists" when the status no longer allows the action: re-read.
        note = _("⚠️ This action is no longer available for this order.")
    except ExchangerError as exc:
        await show(callback, upstream_error_text(exc), _retry(bid.bid_id))
        return
    try:
        # The customer sees the card: record the status without pushing a notification about it.
        order = await order_statuses.refresh(bid.bid_id, exchanger=exchanger, notify=False)
    except ExchangerError as exc:
        await show(callback, upstream_error_text(exc), _retry(bid.bid_id))
        return
    if action == "open":
        await send_order_card(callback.bot, bid.chat_id, order)  # type: ignore[arg-type]
        return
    await show(callback, card_text(order, note), card_keyboard(order))


def _retry(bid_id: int) -> InlineKeyboardMarkup:
    return keyboards.retry(OrderCb(action="refresh", bid_id=bid_id).pack())


def create_router() -> Router:
    router = Router(name="orders")
    router.message.register(orders_command, Command("orders"))
    router.callback_query.register(orders_button, MenuCb.filter(F.item == "orders"))
    router.callback_query.register(orders_button, OrderCb.filter(F.action == "list"))
    router.callback_query.register(order_button, OrderCb.filter())
    return router
