"""The order card: what was ordered, how to pay, and the actions the order still allows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from html import escape

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.domain.capabilities import Capability, PlatformInfo
from bot.domain.models import (
    ActionAccess,
    ActionMode,
    DecisionReason,
    Order,
    OrderPhase,
    OrderStatus,
    PaymentDetails,
)
from bot.domain.money import current_locale, format_amount, format_money, format_plain, parse_decimal
from bot.domain.payment_uri import payment_uri
from bot.i18n import N_
from bot.notifications.titles import StatusTitles, fits
from bot.phases import PHASE_WORDS, PLAIN_PHASES
from bot.qr import qr_png
from bot.storage.orders import PAYMENT_KEPT_FIELDS
from bot.storage.repositories import OrderRepository, StoredOrder
from bot.text import shorten, telegram_html
from handlers.callbacks import MenuCb, OrderCb
from handlers.keyboards import linkable

MAX_NOTES = 3

_REASON_WORDS = {
    DecisionReason.AMOUNT_OUTSIDE_LIMITS: N_("The amount that arrived is outside the exchange's limits."),
    DecisionReason.UNDERPAID: N_("Less arrived than the order expects."),
    DecisionReason.OVERPAID: N_("More arrived than the order expects."),
    DecisionReason.EXPIRED: N_("The order ran out of time while waiting for the decision."),
}


def _money(amount: Decimal | None, code: str) -> str:
    return format_money(amount, code, exact=True) if amount is not None else "—"


def stored_money(amount: str | None, code: str | None) -> str:
    return format_money(parse_decimal(amount), code or "", exact=True) if amount else "—"


def status_text(status: OrderStatus | None, titles: StatusTitles | None = None) -> str:
    """The phase in the customer's words, with the platform's own title when it is in the chat's
    language (HTML). A status just read in the chat's language carries its title; for a stored one
    (its title's language unknown) pass ``titles``: only a title learned in the chat's language shows."""
    if status is None:
        return escape(_("not known yet"))
    words = _(PHASE_WORDS[status.phase])
    if status.phase in PLAIN_PHASES:
        return escape(words)
    locale = current_locale()
    title = (titles.for_chat(locale, status.code) if titles is not None else status.title) or ""
    title = title.strip() if fits(locale, title) else ""
    # A title that only repeats the platform's status code says nothing the phase's words don't.
    if title and title.casefold() not in (words.casefold(), status.code.casefold()):
        return f"{escape(words)} ({escape(shorten(title, 100))})"
    return escape(words)


def order_label(label: str) -> str:
    return escape(shorten(label, 40))


def _side(text: str, title: str) -> str:
    return text + (f" ({escape(shorten(title, 60))})" if title else "")


def kept_payment(payment: PaymentDetails) -> PaymentDetails:
    """What is kept of an order's payment details and repeated later: what to send, and where."""
    return PaymentDetails.model_validate(payment.model_dump(include=set(PAYMENT_KEPT_FIELDS)))


async def payment_to_show(orders: OrderRepository, local_id: int, order: Order) -> PaymentDetails | None:
    """The kept payment details to show on the card (``card_text``'s ``paid``): remembered whenever the
    exchange shows them (None is returned: the card shows its own), recalled once it stops (after "I
    have paid"), forgotten when the order is done."""
    if order.is_final:
        await orders.remember_payment(local_id, None)
        return None
    if order.payment is not None:
        kept = kept_payment(order.payment)
        if kept.address or kept.tag or kept.amount is not None:
            if await orders.kept_payment(local_id) != kept:
                await orders.remember_payment(local_id, kept)
        return None
    return await orders.kept_payment(local_id)


def _payment_lines(order: Order, *, reminder: bool = False) -> list[str]:
    """How to pay; ``reminder``: the details repeated for reference (before "I have paid", or kept
    after it), with no call to act on them."""
    payment = order.payment
    if payment is None or order.is_final:
        return []
    lines = []
    if instruction := telegram_html(payment.instruction, limit=2000):
        lines.append(instruction)
    if payment.amount is not None:
        code = payment.currency_code or order.give_currency_code
        plain, shown = format_plain(payment.amount), format_amount(payment.amount, code, exact=True)
        if shown == plain:
            text = _("Amount to pay: <code>{amount}</code> {code}")
            lines.append(text.format(amount=plain, code=escape(code)))
        else:  # read in the chat's style, copied as a wallet takes it
            lines.append(
                _("Amount to pay: <b>{amount}</b> (to copy: <code>{plain}</code>)").format(
                    amount=format_money(payment.amount, code, exact=True), plain=plain
                )
            )
    if payment.network:
        lines.append(_("Network: {network}").format(network=escape(payment.network)))
    if payment.address:
        lines.append(_("Address: <code>{address}</code>").format(address=escape(payment.address)))
    if payment.tag:
        lines.append(_("Tag / memo: <code>{tag}</code> (required!)").format(tag=escape(payment.tag)))
    if not reminder and payment.address and payment.network and payment.amount is not None:
        lines.append(
            _(
                "⚠️ Send exactly this amount, in one transfer, on the {network} network. A different "
                "amount or another network holds the order up."
            ).format(network=escape(payment.network))
        )
    if payment.pay_url and not linkable(payment.pay_url):
        lines.append(_("Pay here: {url}").format(url=escape(payment.pay_url)))
    if payment.seconds_left is not None:
        lines.append(_("⏳ Time left to pay: {left}").format(left=duration(payment.seconds_left)))
    if payment.expires_at:
        moment = datetime.fromtimestamp(payment.expires_at, UTC).strftime("%Y-%m-%d %H:%M")
        lines.append(_("Pay before {time} UTC.").format(time=moment))
    return lines


def duration(seconds: int) -> str:
    """``1 h 05 min``, ``29 min 40 s``, ``40 s`` (as of when the order was read)."""
    seconds = max(seconds, 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("{hours} h {minutes:02d} min").format(hours=hours, minutes=minutes)
    if minutes:
        return _("{minutes} min {seconds:02d} s").format(minutes=minutes, seconds=secs)
    return _("{seconds} s").format(seconds=secs)


def _decision_lines(order: Order) -> list[str]:
    """Why the exchange waits for the customer, in plain words, and what each way out means."""
    lines = [
        _("<b>The exchange needs your decision</b>"),
        _(
            "The order can't be carried out as it was quoted: for example, the amount you sent differs "
            "from the order or is outside the allowed limits."
        ),
    ]
    known = [_REASON_WORDS[r] for r in order.decision_reasons[:MAX_NOTES] if r in _REASON_WORDS]
    lines.extend(_(words) for words in known)
    others = [
        telegram_html(r, limit=300) for r in order.decision_reasons[:MAX_NOTES] if r not in _REASON_WORDS
    ]
    if others := [r for r in others if r]:
        lines.append(_("Reason given by the exchange: {reasons}").format(reasons="; ".join(others)))
    if order.actions.continue_at_current_rate:
        lines.append(
            _(
                "You can continue at the current rate: the amount you receive is recalculated for the "
                "deposit that actually arrived."
            )
        )
    if order.refund_address:
        lines.append(
            _(
                "Otherwise the exchange's support settles it, and your deposit goes back to your refund "
                "address."
            )
        )
    else:
        lines.append(_("Otherwise the exchange's support settles it with you."))
    return lines


def _transaction_lines(order: Order) -> list[str]:
    lines = []
    if order.give_tx_id:
        lines.append(_("Your deposit: <code>{tx}</code>").format(tx=escape(shorten(order.give_tx_id, 120))))
    if order.get_tx_id:
        lines.append(_("Payout to you: <code>{tx}</code>").format(tx=escape(shorten(order.get_tx_id, 120))))
    if order.refund_tx_id:
        lines.append(
            _("Refund to you: <code>{tx}</code>").format(tx=escape(shorten(order.refund_tx_id, 120)))
        )
    return lines


def card_text(order: Order, note: str | None = None, paid: PaymentDetails | None = None) -> str:
    """``paid``: the payment details kept from before the customer said they paid, shown while the
    exchange no longer shows them and the order is not done."""
    lines = []
    if note:
        lines += [note, ""]
    lines += [
        _("<b>Order #{id}</b>").format(id=order_label(order.label)),
        _("Status: <b>{status}</b>").format(status=status_text(order.status)),
        _side(
            _("You give: {amount}").format(amount=_money(order.give_amount, order.give_currency_code)),
            order.give_title,
        ),
        _side(
            _("You receive: {amount}").format(amount=_money(order.get_amount, order.get_currency_code)),
            order.get_title,
        ),
    ]
    if order.refund_address:
        lines.append(_("Refund address: <code>{address}</code>").format(address=escape(order.refund_address)))
    if order.status.phase is OrderPhase.NEEDS_DECISION:
        lines += ["", *_decision_lines(order)]
    if transactions := _transaction_lines(order):
        lines += ["", *transactions]
    notes = [telegram_html(text, limit=600) for text in order.notes[:MAX_NOTES]]
    if notes := [n for n in notes if n]:
        lines += ["", *notes]
    if payment := _payment_lines(order):
        lines += ["", _("<b>How to pay</b>"), *payment]
    elif paid is not None and (
        kept := _payment_lines(order.model_copy(update={"payment": paid}), reminder=True)
    ):
        lines += ["", _("<b>Your payment, as the order asked for it</b>"), *kept]
    if order.url and not linkable(order.url):
        lines += ["", _("Order page: {url}").format(url=escape(order.url))]
    return "\n".join(lines)


def stored_card_text(stored: StoredOrder, note: str | None = None, titles: StatusTitles | None = None) -> str:
    """The card from what the bot stored, when the exchange can't show the order right now."""
    lines = [note, ""] if note else []
    lines += [
        _("<b>Order #{id}</b>").format(id=order_label(stored.label)),
        # The stored title's language is unknown: only a title learned in the chat's language shows.
        _("Status: <b>{status}</b>").format(status=status_text(stored.status, titles or StatusTitles())),
        _("You give: {amount}").format(amount=stored_money(stored.give_amount, stored.give_currency_code)),
        _("You receive: {amount}").format(amount=stored_money(stored.get_amount, stored.get_currency_code)),
    ]
    return "\n".join(lines)


def order_shown_text(label: str) -> str:
    """The answer to a Confirm whose order's card the chat has been shown already (announced as
    created after all while the customer was retrying): one card per order."""
    return _("✅ Order #{id} was created: its card is already in this chat, above.").format(
        id=order_label(label)
    )


def unreachable_text(label: str) -> str:
    """An order the exchange created while its answer (with the secret to follow it) was lost."""
    return _(
        "⚠️ <b>Order #{id} can't be followed</b>\n\n"
        "The exchange created your order, but its answer was lost on the way, so I can't follow it or "
        "show you where to pay. <b>Please do not pay for it.</b> Nothing has been charged: the order "
        "expires unpaid by itself.\n\nStart a new exchange instead: it takes a minute."
    ).format(id=order_label(label))


def unreachable_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("💱 New exchange"), callback_data=MenuCb(item="exchange").pack())],
            [_list_button()],
        ]
    )


def _api(access: ActionAccess, info: PlatformInfo, capability: Capability) -> bool:
    return access.mode is ActionMode.API and info.serves(capability)


def _link(access: ActionAccess) -> str | None:
    return access.url if access.mode is ActionMode.LINK and linkable(access.url) else None


def card_keyboard(order: Order, local_id: int, info: PlatformInfo) -> InlineKeyboardMarkup:
    """Only the actions the order allows now, the way the platform allows them: through the API (a
    button), on the site (a URL button), or not at all."""
    rows: list[list[InlineKeyboardButton]] = []
    actions = order.actions
    if not order.is_final:
        pay_url = order.payment.pay_url if order.payment is not None else None
        if pay_url and linkable(pay_url):
            rows.append([InlineKeyboardButton(text=_("💳 Pay"), url=pay_url)])
        if _api(actions.mark_paid, info, Capability.MARK_PAID):
            rows.append([_button(_("✅ I have paid"), "paid", local_id)])
        elif (url := _link(actions.mark_paid)) and url != pay_url:
            rows.append([InlineKeyboardButton(text=_("✅ I have paid"), url=url)])
        if actions.continue_at_current_rate and info.serves(Capability.EMERGENCY_DECISION):
            rows.append([_button(_("▶️ Continue at the current rate"), "continue", local_id)])
        if _api(actions.cancel, info, Capability.CANCEL):
            rows.append([_button(_("✖️ Cancel order"), "cancel", local_id)])
        elif url := _link(actions.cancel):
            rows.append([InlineKeyboardButton(text=_("✖️ Cancel order"), url=url)])
    rows.append(refresh_row(local_id, order.url))
    rows.append([_list_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def refresh_row(local_id: int, url: str = "") -> list[InlineKeyboardButton]:
    row = [_button(_("🔄 Refresh"), "refresh", local_id)]
    if linkable(url):
        row.append(InlineKeyboardButton(text=_("🌐 Order page"), url=url))
    return row


def stored_card_keyboard(local_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[refresh_row(local_id), [_list_button()]])


def question_keyboard(action: str, local_id: int) -> InlineKeyboardMarkup:
    """Yes / No for an action that can't be undone (``action``: "cancel", "continue" or "paid")."""
    yes, no = {
        "cancel": (_("Yes, cancel it"), _("No, keep it")),
        "continue": (_("Yes, continue"), _("No, wait")),
        "paid": (_("Yes, I have paid"), _("No, not yet")),
    }[action]
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button(yes, f"{action}_yes", local_id), _button(no, "refresh", local_id)]]
    )


def _button(text: str, action: str, local_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=OrderCb(action=action, n=local_id).pack())


def _list_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("📋 My orders"), callback_data=OrderCb(action="list").pack())


async def send_order_card(
    bot: Bot,
    chat_id: int,
    order: Order,
    local_id: int,
    info: PlatformInfo,
    *,
    with_qr: bool = False,
    note: str | None = None,
    orders: OrderRepository | None = None,
) -> None:
    """The card as a new message; with the deposit address as a QR code first, when there is one.
    ``orders``: where its payment details are kept and recalled (see :func:`payment_to_show`)."""
    paid = await payment_to_show(orders, local_id, order) if orders is not None else None
    if with_qr and (data := deposit_qr_data(order)) is not None:
        photo = BufferedInputFile(qr_png(data), filename=f"order-{local_id}-address.png")
        caption = _("QR code of the address for order #{id}").format(id=order_label(order.label))
        await bot.send_photo(chat_id, photo, caption=caption)
    text = card_text(order, note, paid)
    await bot.send_message(chat_id, text, reply_markup=card_keyboard(order, local_id, info))


def deposit_qr_data(order: Order) -> str | None:
    """What the deposit QR holds: the coin's payment URI with the amount where there is one, else the
    address; None when there is nothing to pay to."""
    payment = order.payment
    if payment is None or not payment.address or order.is_final:
        return None
    return payment_uri(
        payment.address,
        currency=payment.currency_code or order.give_currency_code,
        network=payment.network,
        amount=payment.amount,
        tag=payment.tag,
    )


def paid_question_text(order: Order) -> str:
    """The "I have paid" question, repeating what the order asks to be sent and where."""
    lines = [
        _(
            "Have you sent the payment for order #{id}? Confirm only once the money has left your "
            "account or wallet: the exchange then starts looking for it."
        ).format(id=order_label(order.label))
    ]
    if order.payment is not None:
        kept = kept_payment(order.payment)
        if details := _payment_lines(order.model_copy(update={"payment": kept}), reminder=True):
            lines += ["", *details]
    return "\n".join(lines)
