"""The order card: what was ordered, how to pay, and the actions the order still allows."""

from __future__ import annotations

from html import escape
from ipaddress import ip_address
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.exchanger.models import ActionMode, Order
from bot.money import format_money, format_plain
from bot.qr import qr_png
from bot.text import telegram_html
from handlers.callbacks import OrderCb


def linkable(url: str | None) -> bool:
    """Telegram refuses URL buttons to loopback and private hosts (the sandbox's): show those as text."""
    if not url:
        return False
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.hostname == "localhost":
        return False
    try:
        return ip_address(parts.hostname).is_global
    except ValueError:
        return True


def _money(amount, code: str) -> str:  # type: ignore[no-untyped-def]
    return format_money(amount, code, exact=True) if amount is not None else "—"


def card_text(order: Order, note: str | None = None) -> str:
    lines = []
    if note:
        lines += [note, ""]
    lines += [
        _("<b>Order #{id}</b>").format(id=escape(order.id)),
        _("Status: <b>{status}</b>").format(status=escape(order.status_title or order.status)),
        _("You give: {amount}").format(amount=_money(order.give_amount, order.give_currency_code))
        + (f" ({escape(order.give_payment_system)})" if order.give_payment_system else ""),
        _("You receive: {amount}").format(amount=_money(order.get_amount, order.get_currency_code))
        + (f" ({escape(order.get_payment_system)})" if order.get_payment_system else ""),
    ]
    actions = order.actions
    if not order.is_final and actions.type != "finished":
        payment = []
        if instruction := telegram_html(actions.instruction, limit=2000):
            payment.append(instruction)
        if actions.pay_amount is not None:
            payment.append(
                _("Amount to pay: <code>{amount}</code> {code}").format(
                    amount=format_plain(actions.pay_amount), code=escape(order.give_currency_code)
                )
            )
        if actions.address:
            payment.append(_("Address: <code>{address}</code>").format(address=escape(actions.address)))
        if actions.dest_tag:
            payment.append(
                _("Tag / memo: <code>{tag}</code> (required!)").format(tag=escape(actions.dest_tag))
            )
        if actions.pay.mode is ActionMode.LINK and not linkable(actions.pay.url):
            payment.append(_("Pay here: {url}").format(url=escape(actions.pay.url or "")))
        if payment:
            lines += ["", _("<b>How to pay</b>"), *payment]
    if order.url and not linkable(order.url):
        lines += ["", _("Order page: {url}").format(url=escape(order.url))]
    return "\n".join(lines)


def card_keyboard(order: Order) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    bid_id = int(order.id)
    actions = order.actions
    if not order.is_final and actions.type != "finished":
        if actions.pay.mode is ActionMode.API:
            kb.row(_button(_("✅ I have paid"), "paid", bid_id))
        elif actions.pay.mode is ActionMode.LINK and linkable(actions.pay.url):
            kb.row(InlineKeyboardButton(text=_("💳 Pay"), url=actions.pay.url))
        if actions.cancel.mode is ActionMode.API:
            kb.row(_button(_("✖️ Cancel order"), "cancel", bid_id))
        elif actions.cancel.mode is ActionMode.LINK and linkable(actions.cancel.url):
            kb.row(InlineKeyboardButton(text=_("✖️ Cancel order"), url=actions.cancel.url))
    row = [_button(_("🔄 Refresh"), "refresh", bid_id)]
    if linkable(order.url):
        row.append(InlineKeyboardButton(text=_("🌐 Order page"), url=order.url))
    kb.row(*row)
    kb.row(_button(_("📋 My orders"), "list", 0))
    return kb.as_markup()


def cancel_question_keyboard(bid_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.row(_button(_("Yes, cancel it"), "cancel_yes", bid_id), _button(_("No, keep it"), "refresh", bid_id))
    return kb.as_markup()


def _button(text: str, action: str, bid_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=OrderCb(action=action, bid_id=bid_id).pack())


async def send_order_card(
    bot: Bot, chat_id: int, order: Order, *, with_qr: bool = False, note: str | None = None
) -> None:
    """The card as a new message; with the deposit address as a QR code first, when there is one."""
    address = order.actions.address
    if with_qr and address and not order.is_final:
        photo = BufferedInputFile(qr_png(address), filename=f"order-{order.id}-address.png")
        caption = _("QR code of the address for order #{id}").format(id=escape(order.id))
        await bot.send_photo(chat_id, photo, caption=caption)
    await bot.send_message(chat_id, card_text(order, note), reply_markup=card_keyboard(order))
