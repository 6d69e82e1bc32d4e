"""/orders and the order card's buttons. Every button names an order by the bot's own id, and
callback data can be forged: an order is shown or acted on only when this chat created it on this
platform."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.capabilities import Capability, PlatformInfo
from bot.domain.errors import ActionNotAllowed, ExchangerError, OrderNotFound
from bot.domain.models import ActionMode
from bot.exchange.ordering import ref_of
from bot.notifications.statuses import OrderStatusService
from bot.notifications.titles import StatusTitles
from bot.platforms.base import Platform
from bot.storage.repositories import OrderRepository, StoredOrder
from bot.text import shorten
from handlers import keyboards
from handlers.callbacks import MenuCb, OrderCb
from handlers.order_card import (
    card_keyboard,
    card_text,
    order_label,
    paid_question_text,
    payment_to_show,
    question_keyboard,
    send_order_card,
    status_text,
    stored_card_keyboard,
    stored_card_text,
    stored_money,
    unreachable_keyboard,
    unreachable_text,
)
from handlers.replies import show
from handlers.upstream import upstream_error_text

PAGE_SIZE = 5

# What each order action needs the platform to serve; "open" and "refresh" only read the order.
ACTIONS: dict[str, Capability | None] = {
    "open": None,
    "refresh": None,
    "paid": Capability.MARK_PAID,
    "paid_yes": Capability.MARK_PAID,
    "cancel": Capability.CANCEL,
    "cancel_yes": Capability.CANCEL,
    "continue": Capability.EMERGENCY_DECISION,
    "continue_yes": Capability.EMERGENCY_DECISION,
}

__all__ = ["create_router", "send_order_card"]


async def _not_found(callback: CallbackQuery) -> None:
    await callback.answer(_("Order not found."), show_alert=True)


async def _owned(
    callback: CallbackQuery, callback_data: OrderCb, orders: OrderRepository, info: PlatformInfo
) -> StoredOrder | None:
    stored = await orders.get(callback_data.n) if callback_data.order_in_range else None
    if (
        stored is None
        or stored.order_id is None
        or stored.platform != info.name
        or callback.message is None
        or stored.chat_id != callback.message.chat.id
    ):
        await _not_found(callback)
        return None
    return stored


def _line(stored: StoredOrder, unreachable: bool, titles: StatusTitles) -> str:
    give = _amount(stored.give_amount, stored.give_currency_code)
    get = _amount(stored.get_amount, stored.get_currency_code)
    status = _("can't be followed: do not pay for it") if unreachable else status_text(stored.status, titles)
    return f"<b>#{order_label(stored.label)}</b> · {give} → {get}\n      {status}"


def _amount(value: str | None, code: str | None) -> str:
    return stored_money(value, code) if value else "?"


async def _list(
    chat_id: int, orders: OrderRepository, info: PlatformInfo, page: int, titles: StatusTitles
) -> tuple[str, InlineKeyboardMarkup]:
    total = await orders.count_for_chat(chat_id, info.name)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = [
        o for o in await orders.list_for_chat(chat_id, info.name, PAGE_SIZE, page * PAGE_SIZE) if o.order_id
    ]
    buttons: list[list[InlineKeyboardButton]] = []
    if not rows:
        buttons.append(
            [InlineKeyboardButton(text=_("💱 Exchange"), callback_data=MenuCb(item="exchange").pack())]
        )
        buttons.append(
            [InlineKeyboardButton(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main").pack())]
        )
        return _("You have no orders yet."), InlineKeyboardMarkup(inline_keyboard=buttons)
    text = _("<b>Your orders</b>, newest first (page {page} of {pages}):").format(page=page + 1, pages=pages)
    text += "\n\n" + "\n".join([_line(stored, stored.unreachable, titles) for stored in rows])
    buttons.append(
        [
            InlineKeyboardButton(
                text=f"#{shorten(stored.label, 16)}", callback_data=OrderCb(action="open", n=stored.id).pack()
            )
            for stored in rows
        ]
    )
    turn = []
    if page > 0:
        turn.append(
            InlineKeyboardButton(text="◀️", callback_data=OrderCb(action="list", page=page - 1).pack())
        )
    if page + 1 < pages:
        turn.append(
            InlineKeyboardButton(text="▶️", callback_data=OrderCb(action="list", page=page + 1).pack())
        )
    if turn:
        buttons.append(turn)
    buttons.append([InlineKeyboardButton(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main").pack())])
    return text, InlineKeyboardMarkup(inline_keyboard=buttons)


async def orders_command(
    message: Message,
    orders: OrderRepository,
    platform_info: PlatformInfo,
    order_statuses: OrderStatusService,
) -> None:
    text, markup = await _list(message.chat.id, orders, platform_info, 0, order_statuses.titles)
    await message.answer(text, reply_markup=markup)


async def orders_button(
    callback: CallbackQuery,
    callback_data: MenuCb | OrderCb,
    orders: OrderRepository,
    platform_info: PlatformInfo,
    order_statuses: OrderStatusService,
) -> None:
    await callback.answer()
    if callback.message is None:
        return
    page = callback_data.page if isinstance(callback_data, OrderCb) else 0
    text, markup = await _list(callback.message.chat.id, orders, platform_info, page, order_statuses.titles)
    await show(callback, text, markup)


async def order_button(
    callback: CallbackQuery,
    callback_data: OrderCb,
    orders: OrderRepository,
    platform: Platform,
    platform_info: PlatformInfo,
    order_statuses: OrderStatusService,
    locale: str,
) -> None:
    action = callback_data.action
    if action not in ACTIONS:
        await _not_found(callback)
        return
    stored = await _owned(callback, callback_data, orders, platform_info)
    if stored is None:
        return
    if stored.unreachable:
        await callback.answer()
        await show(callback, unreachable_text(stored.label), unreachable_keyboard())
        return
    needs = ACTIONS[action]
    if needs is not None and not platform_info.serves(needs):
        await callback.answer(_("⚠️ This action is no longer available for this order."), show_alert=True)
        return
    if action in ("cancel", "continue"):
        await callback.answer()
        if action == "cancel":
            text = _("Cancel order #{id}? This cannot be undone.").format(id=order_label(stored.label))
        else:
            text = _(
                "Continue order #{id} at the exchange's current rate? The amount you receive may differ "
                "from the one first quoted."
            ).format(id=order_label(stored.label))
        await show(callback, text, question_keyboard(action, stored.id))
        return
    await callback.answer(_("Cancelling…") if action == "cancel_yes" else _("Updating…"))
    note = None
    customer = platform.customer(locale)
    try:
        if action == "paid_yes":
            await customer.mark_paid(ref_of(stored))
        elif action == "cancel_yes":
            await customer.cancel_order(ref_of(stored))
        elif action == "continue_yes":
            await customer.continue_order(ref_of(stored))
    except (OrderNotFound, ActionNotAllowed):
        # Some exchanges answer "not found" when the status no longer allows the action: re-read.
        note = _("⚠️ This action is no longer available for this order.")
    except ExchangerError as exc:
        await show(callback, upstream_error_text(exc), _retry(stored.id))
        return
    try:
        # The customer sees the card: record the status without pushing a notification about it.
        order = await order_statuses.refresh(stored.id, locale=locale, notify=False)
    except OrderNotFound:
        # Never tell a customer their order vanished from that alone: show what we know.
        note = _("⚠️ The exchange does not show this order right now. The last status I know:")
        text = stored_card_text(stored, note, order_statuses.titles)
        await show(callback, text, stored_card_keyboard(stored.id))
        return
    except ExchangerError as exc:
        await show(callback, upstream_error_text(exc), _retry(stored.id))
        return
    if action == "paid":
        # Asked after a fresh read, so the question repeats what the order asks to be sent, and where.
        if not order.is_final and order.actions.mark_paid.mode is ActionMode.API:
            await show(callback, paid_question_text(order), question_keyboard("paid", stored.id))
            return
        note = _("⚠️ This action is no longer available for this order.")
    elif note is None and action == "cancel_yes":
        note = _("✖️ You cancelled order #{id}.").format(id=order_label(stored.label))
    elif note is None and action == "paid_yes":
        note = _("✅ Thank you! The exchange now waits for your payment to arrive and checks it.")
    if action == "open":
        # Opened to pay, most often: the deposit QR comes with it while the order waits for payment.
        await send_order_card(
            callback.bot,  # type: ignore[arg-type]
            stored.chat_id,
            order,
            stored.id,
            platform_info,
            with_qr=True,
            orders=orders,
        )
        return
    paid = await payment_to_show(orders, stored.id, order)
    await show(callback, card_text(order, note, paid), card_keyboard(order, stored.id, platform_info))


async def malformed_order_button(callback: CallbackQuery) -> None:
    """Order buttons whose data does not even parse (forged): the same answer as a stranger's order."""
    await _not_found(callback)


def _retry(local_id: int) -> InlineKeyboardMarkup:
    return keyboards.retry(OrderCb(action="refresh", n=local_id).pack())


def create_router() -> Router:
    router = Router(name="orders")
    router.message.register(orders_command, Command("orders"))
    router.callback_query.register(orders_button, MenuCb.filter(F.item == "orders"))
    router.callback_query.register(orders_button, OrderCb.filter(F.action == "list"))
    router.callback_query.register(order_button, OrderCb.filter())
    router.callback_query.register(malformed_order_button, F.data.startswith("o:"))
    return router
