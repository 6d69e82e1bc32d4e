"""The exchange conversation's handlers: parse the update, pick the next step, call a service.

Handlers receive what they use by name (:func:`bot.app.wiring.dependencies`) and build the
conversation's :class:`~handlers.exchange.steps.Conversation` from it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.capabilities import PlatformInfo
from bot.domain.errors import (
    AmountOutOfLimits,
    DirectionProhibited,
    DirectionUnavailable,
    ExchangerError,
    ExchangerUnavailable,
    IdempotencyConflict,
    ValidationFailed,
)
from bot.domain.models import (
    AMOUNT_FIELD,
    AmountSide,
    Direction,
    FieldKind,
    FormField,
    OrderRequest,
    ValueKind,
)
from bot.domain.money import AmbiguousAmount, AmountError, parse_decimal, parse_user_amount
from bot.exchange.catalogue import CatalogueService
from bot.exchange.draft import ExchangeDraft
from bot.exchange.field_memory import FieldMemory, memory_key
from bot.exchange.ordering import OrderPlacer, OrderUnreachable, Placed, PlacementUncertain, RequestChanged
from bot.exchange.quoting import QuotingService, beyond_reserve, optional_call, receive_side, reserve_of
from bot.exchange.validation import check
from bot.text import plain_text, shorten
from handlers.callbacks import MenuCb
from handlers.exchange import callbacks as cb
from handlers.exchange import keyboards, render, steps
from handlers.exchange.callbacks import ExCb
from handlers.exchange.field_errors import problem_text
from handlers.exchange.states import Exchange
from handlers.exchange.steps import Conversation
from handlers.filters import TYPED_TEXT
from handlers.order_card import (
    order_shown_text,
    send_order_card,
    stored_card_keyboard,
    stored_card_text,
    unreachable_keyboard,
    unreachable_text,
)
from handlers.replies import drop_keyboard, show

log = logging.getLogger(__name__)


async def start(
    event: Message | CallbackQuery,
    state: FSMContext,
    locale: str,
    catalogue: CatalogueService,
    quoting: QuotingService,
    field_memory: FieldMemory,
    ordering: OrderPlacer,
    platform_info: PlatformInfo,
) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()
    conv = Conversation(event, state, locale, catalogue, quoting, field_memory)
    # An earlier Confirm whose answer was lost may have made an order: settle that before a new one.
    await _show_found(conv, await ordering.resolve_pending(conv.chat_id), platform_info, ordering)
    await steps.show_give(conv, ExchangeDraft())


async def _show_found(
    conv: Conversation, found: list[Placed], info: PlatformInfo, ordering: OrderPlacer
) -> None:
    """Orders found after their create's answer was lost: each card, or why it can't be followed."""
    bot = conv.event.bot
    assert bot is not None
    for placed in found:
        if placed.unreachable:
            await bot.send_message(
                conv.chat_id, unreachable_text(placed.order.label), reply_markup=unreachable_keyboard()
            )
            continue
        note = _("ℹ️ Your earlier order was created after all:")
        orders = ordering.orders
        await send_order_card(
            bot, conv.chat_id, placed.order, placed.local_id, info, with_qr=True, note=note, orders=orders
        )


# -- typed text, per step ------------------------------------------------------------------------


async def typed_give(
    message: Message,
    state: FSMContext,
    locale: str,
    catalogue: CatalogueService,
    quoting: QuotingService,
    field_memory: FieldMemory,
) -> None:
    conv = Conversation(message, state, locale, catalogue, quoting, field_memory)
    await steps.show_give(conv, await conv.draft(), query=message.text or "")


async def typed_get(
    message: Message,
    state: FSMContext,
    locale: str,
    catalogue: CatalogueService,
    quoting: QuotingService,
    field_memory: FieldMemory,
) -> None:
    conv = Conversation(message, state, locale, catalogue, quoting, field_memory)
    draft = await conv.draft()
    if draft.give_id is None:
        await steps.show_give(conv, draft)
        return
    await steps.show_get(conv, draft, query=message.text or "")


async def typed_amount(
    message: Message,
    state: FSMContext,
    locale: str,
    catalogue: CatalogueService,
    quoting: QuotingService,
    field_memory: FieldMemory,
) -> None:
    conv = Conversation(message, state, locale, catalogue, quoting, field_memory)
    draft = await conv.draft()
    if draft.direction_id is None:
        await steps.show_give(conv, draft)
        return
    try:
        amount = parse_user_amount(message.text or "")
    except AmbiguousAmount as exc:  # "10,000": ask which was meant, never guess
        direction = await _direction(conv, draft, cb.EDIT_AMOUNT)
        if direction is not None:
            text = render.ambiguous_amount(exc.choices, render.side_code(direction, draft.side))
            markup = keyboards.ambiguous_keyboard(direction, draft, exc.choices)
            await message.answer(text, reply_markup=markup)
        return
    except AmountError as exc:
        direction = await _direction(conv, draft, cb.EDIT_AMOUNT)
        if direction is not None:
            sides = conv.quoting.sides(direction)
            prompt = render.amount_prompt(direction, draft.side, sides)
            text = f"⚠️ {render.amount_error(exc.reason)}\n\n{prompt}"
            await message.answer(text, reply_markup=keyboards.amount_keyboard(direction, draft, sides))
        return
    await _take_amount(conv, draft, amount)


async def _direction(conv: Conversation, draft: ExchangeDraft, retry: str) -> Direction | None:
    """The draft's direction; None when it is gone (the list is offered again) or the exchange failed
    (with a Try again button sending ``retry``)."""
    try:
        return await conv.direction(draft)
    except DirectionUnavailable:
        await steps.direction_gone(conv, draft)
    except ExchangerError as exc:
        await conv.upstream_failed(draft, exc, retry)
    return None


async def _take_amount(conv: Conversation, draft: ExchangeDraft, amount: Decimal) -> None:
    direction = await _direction(conv, draft, cb.EDIT_AMOUNT)
    if direction is None:
        return
    draft.amount = amount
    quoted = await steps.quote(conv, draft, direction, cb.EDIT_AMOUNT)
    if quoted is None:
        return
    if (reserve := quoted.over_reserve) is not None:  # also a limit it moved the amount to: never offered
        await steps.over_reserve(conv, draft, direction, reserve)
        return
    if quoted.adjusted:
        draft.amount = None
        await conv.save(draft, Exchange.amount)
        text = render.out_of_limits(quoted.snapshot, draft.side, direction, quoted.amount)
        sides = conv.quoting.sides(direction)
        await show(conv.event, text, keyboards.amount_keyboard(direction, draft, sides, quoted.amount))
        return
    draft.quote = quoted.snapshot
    if draft.editing or not direction.fields:
        await steps.show_summary(conv, draft)
        return
    draft.field_index, draft.page = 0, 0
    await steps.show_field(conv, draft, note="\n".join(render.quote_lines(quoted.snapshot)))


async def typed_field(
    message: Message,
    state: FSMContext,
    locale: str,
    catalogue: CatalogueService,
    quoting: QuotingService,
    field_memory: FieldMemory,
) -> None:
    conv = Conversation(message, state, locale, catalogue, quoting, field_memory)
    draft = await conv.draft()
    spec = await _typed_into(conv, draft)
    if spec is None:
        return
    if spec.kind not in (FieldKind.TEXT, FieldKind.TEXTAREA):
        await steps.show_field(conv, draft, error=_("Please choose with the buttons below."))
        return
    await _accept(conv, draft, spec, message.text or "")


async def shared_contact(
    message: Message,
    state: FSMContext,
    locale: str,
    catalogue: CatalogueService,
    quoting: QuotingService,
    field_memory: FieldMemory,
) -> None:
    """A contact sent with the "share my phone number" button: only the sender's own number."""
    conv = Conversation(message, state, locale, catalogue, quoting, field_memory)
    draft = await conv.draft()
    spec = await _typed_into(conv, draft)
    if spec is None:
        return
    contact = message.contact
    if spec.kind is not FieldKind.TEXT or spec.value_kind is not ValueKind.PHONE or contact is None:
        await steps.show_field(conv, draft, error=_("A phone number is not asked here."))
        return
    if message.from_user is None or contact.user_id != message.from_user.id:
        error = _("Please share your own phone number with the button below, or type it.")
        await steps.show_field(conv, draft, error=error)
        return
    phone = contact.phone_number.strip()
    await _accept(conv, draft, spec, phone if phone.startswith("+") else f"+{phone}")


async def _typed_into(conv: Conversation, draft: ExchangeDraft) -> FormField | None:
    """The field a message answers; None when there is none (the right step has been shown)."""
    if draft.direction_id is None:
        await steps.show_give(conv, draft)
        return None
    try:
        spec = await _current_field(conv, draft)
    except DirectionUnavailable:
        await steps.direction_gone(conv, draft)
        return None
    except ExchangerError as exc:
        await conv.upstream_failed(draft, exc, cb.OPTION_PAGE)
        return None
    if spec is None:
        await steps.show_summary(conv, draft)
    return spec


async def typed_in_summary(
    message: Message,
    state: FSMContext,
    locale: str,
    catalogue: CatalogueService,
    quoting: QuotingService,
    field_memory: FieldMemory,
    ordering: OrderPlacer,
    platform_info: PlatformInfo,
) -> None:
    conv = Conversation(message, state, locale, catalogue, quoting, field_memory)
    draft = await conv.draft()
    if draft.direction_id is None:
        await steps.show_give(conv, draft)
        return
    if await _settle(conv, draft, ordering, platform_info):
        return
    await steps.show_summary(conv, draft, note=_("Please use the buttons below."))


async def _current_field(conv: Conversation, draft: ExchangeDraft) -> FormField | None:
    fields = (await conv.direction(draft)).fields
    return fields[draft.field_index] if 0 <= draft.field_index < len(fields) else None


async def _accept(conv: Conversation, draft: ExchangeDraft, spec: FormField, value: str) -> None:
    """Take an answer that passes the checks we can make and go on: to the next field, the next field
    the exchange refused, or back to the summary. Otherwise say what is wrong and stay."""
    if spec.kind in (FieldKind.TEXT, FieldKind.TEXTAREA):
        checked = check(spec, value)
        if checked.problem is not None:
            await steps.show_field(conv, draft, error=problem_text(spec, checked.problem, checked.value))
            return
        value = checked.value
    elif spec.required and not value:
        await steps.show_field(conv, draft, error=_("This field is required."))
        return
    draft.fields[spec.name] = value
    draft.rejected.pop(spec.name, None)
    draft.page = 0
    if value:
        echo = _("✅ {label}: {value}").format(
            label=escape(plain_text(spec.label) or spec.name), value=render.display_value(spec, value)
        )
        await steps.close_contact_keyboard(conv, draft, echo)
    else:
        await steps.close_contact_keyboard(conv, draft, _("⏭ Skipped."))
    if await _fix_next(conv, draft):
        return
    if draft.editing:
        await steps.show_summary(conv, draft)
        return
    draft.field_index += 1
    await steps.show_field(conv, draft)


async def _fix_next(conv: Conversation, draft: ExchangeDraft) -> bool:
    """On to the next answer the exchange refused at create (the amount comes last); False when
    none is left. Fields are kept by name: the direction read now may list them otherwise."""
    if not draft.fixing:
        return False
    try:
        direction = await conv.direction(draft)
    except DirectionUnavailable:
        await steps.direction_gone(conv, draft)
        return True
    except ExchangerError as exc:
        await conv.save(draft, Exchange.field)
        await conv.upstream_failed(draft, exc, cb.OPTION_PAGE)
        return True
    while draft.fixing:
        name = draft.fixing.pop(0)
        if name == AMOUNT_FIELD:
            draft.editing = True
            reason = draft.rejected.pop(AMOUNT_FIELD, "") or _("The exchange did not accept this amount.")
            await steps.amount_refused(conv, draft, direction, reason)
            return True
        index = next((i for i, spec in enumerate(direction.fields) if spec.name == name), None)
        if index is not None:
            draft.field_index, draft.page = index, 0
            await steps.show_field(conv, draft)
            return True
    return False


# -- buttons ---------------------------------------------------------------------------------------


async def button(
    callback: CallbackQuery,
    callback_data: ExCb,
    state: FSMContext,
    locale: str,
    catalogue: CatalogueService,
    quoting: QuotingService,
    field_memory: FieldMemory,
    ordering: OrderPlacer,
    platform_info: PlatformInfo,
) -> None:
    conv = Conversation(callback, state, locale, catalogue, quoting, field_memory)
    data = await state.get_data()
    draft = conv.load(data)
    if draft is None or draft.flow != callback_data.flow:
        if data.get("last_flow") == callback_data.flow and data.get("last_order"):
            text = _("Order #{id} is already created.").format(id=data["last_order"])
            await callback.answer(text, show_alert=True)
        else:
            await callback.answer(_("This button is no longer active. Send /exchange to start again."))
        return
    if callback_data.a == cb.CONFIRM:
        await _confirm(conv, callback, draft, ordering, platform_info)
        return
    await callback.answer()
    handler = _BUTTONS.get(callback_data.a)
    if handler is None:
        return
    if await _settle(conv, draft, ordering, platform_info):  # nothing changes a draft an order may have
        return
    try:
        await handler(conv, draft, callback_data.value, await state.get_state())
    except DirectionUnavailable:
        await steps.direction_gone(conv, draft)
    except (ValueError, IndexError, KeyError):
        # Forged or mangled data in a button of this conversation: ignore it, keep the step.
        log.info("ignored a malformed exchange button %r", callback_data.pack())


Button = Callable[[Conversation, ExchangeDraft, str, str | None], Awaitable[None]]


def _page(value: str) -> int:
    page = int(value or 0)
    if not 0 <= page < 10_000:
        raise ValueError("not a page")
    return page


async def _give_page(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    draft.page = _page(value)
    await steps.show_give(conv, draft)


async def _give(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if state == Exchange.give.state or draft.give_id is None:
        if value not in {c.id for c in await conv.catalogue.give_currencies(conv.locale)}:
            raise ValueError("not a currency that starts a direction")
        draft = ExchangeDraft(flow=draft.flow, give_id=value)
    else:  # "Try again" after a failure on the get step
        draft.page = 0
    await steps.show_get(conv, draft)


async def _get_page(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if draft.give_id is None:
        raise ValueError("no currency chosen yet")
    draft.page = _page(value)
    await steps.show_get(conv, draft)


async def _get(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if state != Exchange.get.state:
        if draft.direction_id is None:
            raise ValueError("no direction chosen yet")
        await steps.show_amount(conv, draft)  # "Try again" after a failure loading the direction
        return
    if draft.give_id is None:
        raise ValueError("no currency chosen yet")
    if conv.catalogue.is_hidden(value):  # an older list's button: say so rather than ignore it
        raise DirectionUnavailable(f"direction {value} is closed to orders through the bot")
    options = await conv.catalogue.get_currencies(conv.locale, draft.give_id)
    if value not in {direction_id for _, direction_id in options}:
        raise ValueError("not a direction out of the chosen currency")
    draft = ExchangeDraft(flow=draft.flow, give_id=draft.give_id, direction_id=value)
    await steps.show_amount(conv, draft)


async def _side(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if state != Exchange.amount.state:
        raise ValueError("not on the amount step")
    side = AmountSide(value)
    if side not in conv.quoting.sides(await conv.direction(draft)):
        raise ValueError("a side this direction does not offer")
    draft.side = side
    await steps.show_amount(conv, draft)


def _button_amount(value: str) -> Decimal:
    """An amount our own button carries; forged data may name any number, so keep it in the range
    of real amounts (at most 18 whole digits and 18 decimals) before it reaches the exchange."""
    amount = parse_decimal(value)
    exponent = amount.as_tuple().exponent
    if amount <= 0 or amount.adjusted() >= 18 or (isinstance(exponent, int) and exponent < -18):
        raise ValueError("not a usable amount")
    return amount


async def _use_amount(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if state != Exchange.amount.state:
        raise ValueError("not on the amount step")
    amount = _button_amount(value)  # a limit the exchange named, or a reading of an ambiguous amount
    await _take_amount(conv, draft, amount)


async def _receive_max(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    """Receive exactly the most the exchange can pay (the reserve, from our button)."""
    if state != Exchange.amount.state:
        raise ValueError("not on the amount step")
    amount = _button_amount(value)
    side = receive_side(conv.quoting.sides(await conv.direction(draft)))
    if side is None:
        raise ValueError("this direction takes no amount to receive")
    draft.side = side
    await _take_amount(conv, draft, amount)


async def _resume(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    """Back to the step the conversation is on (after "No, keep it" to discarding the form)."""
    if state == Exchange.summary.state:
        await steps.show_summary(conv, draft)
    elif state == Exchange.field.state and draft.direction_id is not None:
        await steps.show_field(conv, draft)
    elif state == Exchange.amount.state and draft.direction_id is not None:
        await steps.show_amount(conv, draft)
    elif state == Exchange.get.state and draft.give_id is not None:
        await steps.show_get(conv, draft)
    else:
        await steps.show_give(conv, draft)


async def _edit_amount(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if draft.direction_id is None:
        raise ValueError("no direction chosen yet")
    draft.editing = draft.editing or state == Exchange.summary.state
    await steps.show_amount(conv, draft)


async def _field_button(conv: Conversation, draft: ExchangeDraft, action: str, value: str) -> None:
    if draft.direction_id is None:
        raise ValueError("no direction chosen yet")
    spec = await _current_field(conv, draft)
    if spec is None:
        raise ValueError("no field is being filled")
    if action == cb.SKIP:
        if spec.required:
            raise ValueError("required fields can't be skipped")
        await _accept(conv, draft, spec, "")
    elif action == cb.OPTION and spec.kind is FieldKind.SELECT:
        await _accept(conv, draft, spec, spec.options[_index(value)].key)
    elif action == cb.CHECK and spec.kind is FieldKind.CHECKBOX:
        if value == "1":
            await _accept(conv, draft, spec, spec.options[0].key if spec.options else "1")
        elif spec.required:
            await steps.show_field(conv, draft, error=_("To continue, this box must be ticked."))
        else:
            await _accept(conv, draft, spec, "")
    elif action == cb.OFFER and spec.kind in (FieldKind.TEXT, FieldKind.TEXTAREA):
        await _accept(conv, draft, spec, draft.offers[_index(value)])
    elif action == cb.OWN_USERNAME and spec.kind is FieldKind.TEXT and spec.value_kind is ValueKind.TELEGRAM:
        user = conv.event.from_user
        if user is None or not user.username:
            raise ValueError("the customer has no username")
        await _accept(conv, draft, spec, f"@{user.username}")
    else:
        raise ValueError("button does not fit the field")


def _index(value: str) -> int:
    index = int(value)
    if index < 0:
        raise IndexError(index)
    return index


async def _option(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    await _field_button(conv, draft, cb.OPTION, value)


async def _option_page(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if draft.direction_id is None:
        raise ValueError("no direction chosen yet")
    draft.page = _page(value)
    await steps.show_field(conv, draft)


async def _check(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    await _field_button(conv, draft, cb.CHECK, value)


async def _offer(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    await _field_button(conv, draft, cb.OFFER, value)


async def _own_username(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    await _field_button(conv, draft, cb.OWN_USERNAME, value)


async def _skip(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    await _field_button(conv, draft, cb.SKIP, value)


async def _edit_list(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if draft.direction_id is None:
        raise ValueError("no direction chosen yet")
    direction = await conv.direction(draft)
    await show(
        conv.event, _("Which field do you want to change?"), keyboards.edit_list_keyboard(direction, draft)
    )


async def _edit_field(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if draft.direction_id is None:
        raise ValueError("no direction chosen yet")
    index = _index(value)
    if index >= len((await conv.direction(draft)).fields):
        raise IndexError(index)
    draft.field_index, draft.editing, draft.page = index, True, 0
    await steps.show_field(conv, draft)


async def _back(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if state == Exchange.get.state or (state == Exchange.amount.state and draft.direction_id is None):
        draft.page = 0
        await steps.show_give(conv, draft)
    elif draft.direction_id is None:
        await steps.show_give(conv, draft)
    elif state == Exchange.amount.state:
        if draft.editing and draft.amount is not None:
            await steps.show_summary(conv, draft)
        else:
            draft.page, draft.editing = 0, False
            await steps.show_get(conv, draft)
    elif state == Exchange.field.state:
        await steps.close_contact_keyboard(conv, draft, _("⬅️ Back."))
        if draft.editing:
            draft.fixing = []
            await steps.show_summary(conv, draft)
        elif draft.field_index > 0:
            draft.field_index, draft.page = draft.field_index - 1, 0
            await steps.show_field(conv, draft)
        else:
            await steps.show_amount(conv, draft)
    elif state == Exchange.summary.state:
        await steps.show_summary(conv, draft)
    else:
        await steps.show_give(conv, draft)


_BUTTONS: dict[str, Button] = {
    cb.GIVE_PAGE: _give_page,
    cb.GIVE: _give,
    cb.GET_PAGE: _get_page,
    cb.GET: _get,
    cb.SIDE: _side,
    cb.USE_AMOUNT: _use_amount,
    cb.EDIT_AMOUNT: _edit_amount,
    cb.OPTION: _option,
    cb.OPTION_PAGE: _option_page,
    cb.CHECK: _check,
    cb.OFFER: _offer,
    cb.SKIP: _skip,
    cb.OWN_USERNAME: _own_username,
    cb.EDIT_LIST: _edit_list,
    cb.EDIT_FIELD: _edit_field,
    cb.BACK: _back,
    cb.RECEIVE_MAX: _receive_max,
    cb.RESUME: _resume,
}


# -- confirm -------------------------------------------------------------------------------------


async def _confirm(
    conv: Conversation,
    callback: CallbackQuery,
    draft: ExchangeDraft,
    ordering: OrderPlacer,
    info: PlatformInfo,
) -> None:
    state = await conv.state.get_state()
    if state != Exchange.summary.state or draft.amount is None or draft.direction_id is None:
        await callback.answer(_("Please finish the previous step first."))
        return
    await callback.answer(_("Creating your order…"))
    direction = await _direction(conv, draft, cb.CONFIRM)
    if direction is None:
        return
    request = OrderRequest(
        direction_id=direction.id, amount=draft.amount, side=draft.side, fields=draft.fields
    )
    if draft.order_key is not None and draft.order_request not in (None, request):
        # The draft changed after a send under its key (never through our buttons): settle that first.
        if await _settle(conv, draft, ordering, info):
            return
    if draft.order_key is None:
        receives = draft.quote.receives if draft.quote is not None else None
        if (reserve := beyond_reserve(receives, reserve_of(direction))) is not None:
            draft.editing = True  # the reserve fell since the summary: a new amount comes back to it
            await steps.over_reserve(conv, draft, direction, reserve)
            return
        # Stored before anything is sent: every retry of this draft sends this key with this request.
        draft.order_key, draft.order_request = ordering.new_key(), request
        await conv.save(draft, Exchange.summary)
    # A retry sends what the key was first sent with, whatever the summary shows now.
    sent = draft.order_request or request
    await drop_keyboard(callback.message)
    try:
        placed = await ordering.place(
            chat_id=conv.chat_id, key=draft.order_key, direction=direction, request=sent, lang=conv.locale
        )
    except PlacementUncertain:
        text = _(
            "⏳ The exchange did not confirm your order in time. Nothing is lost: press «Try again», "
            "it will not create a second order."
        )
        await callback.bot.send_message(  # type: ignore[union-attr]
            conv.chat_id, text, reply_markup=keyboards.retry_keyboard(draft, cb.CONFIRM)
        )
        return
    except RequestChanged:
        log.error("order key of chat %s: a retry with another request was refused", conv.chat_id)
        await _still_checking(conv, draft)
        return
    except OrderUnreachable as exc:
        # A new exchange gets a new draft and a new key: the abandoned order expires unpaid.
        await steps.leave_contact_keyboard(callback.bot, conv.chat_id, conv.state)  # type: ignore[arg-type]
        await conv.state.clear()
        await callback.bot.send_message(  # type: ignore[union-attr]
            conv.chat_id, unreachable_text(exc.order.label), reply_markup=unreachable_keyboard()
        )
        return
    except ExchangerError as exc:
        # Refused. An earlier send under the key without an answer may still make the order: then
        # the key stays until that is settled; otherwise the next Confirm takes a new key.
        if await _settle(conv, draft, ordering, info):
            return
        await _refused(conv, draft, direction, exc)
        return
    await steps.leave_contact_keyboard(callback.bot, conv.chat_id, conv.state)  # type: ignore[arg-type]
    await conv.state.clear()
    await conv.state.set_data({"last_flow": draft.flow, "last_order": placed.order.label})
    if placed.shown_elsewhere:  # its card is in the chat already (announced as created after all)
        await callback.bot.send_message(conv.chat_id, order_shown_text(placed.order.label))  # type: ignore[union-attr]
        return
    await send_order_card(
        callback.bot,  # type: ignore[arg-type]
        conv.chat_id,
        placed.order,
        placed.local_id,
        info,
        with_qr=True,
        orders=ordering.orders,
    )


async def _refused(
    conv: Conversation, draft: ExchangeDraft, direction: Direction, exc: ExchangerError
) -> None:
    """The exchange answered Confirm with a refusal (no order exists): say why, on the step to fix it."""
    if isinstance(exc, ValidationFailed):
        await _validation_failed(conv, draft, direction.fields, exc)
    elif isinstance(exc, DirectionProhibited):
        # Listed and quoted, but closed to orders through the API: no retry can succeed.
        conv.catalogue.refused(direction.id)
        await steps.direction_gone(conv, draft, note=render.direction_refused())
    elif isinstance(exc, DirectionUnavailable):
        await steps.direction_gone(conv, draft)
    elif isinstance(exc, AmountOutOfLimits):
        draft.editing = True
        reason = _("This amount is outside the exchange's limits.")
        await steps.amount_refused(conv, draft, direction, reason, exc.minimum, exc.maximum)
    elif isinstance(exc, ExchangerUnavailable):
        await conv.save(draft, Exchange.summary)  # Try again takes a new key
        await conv.upstream_failed(draft, exc, cb.CONFIRM)
    else:
        if isinstance(exc, IdempotencyConflict):
            # The same key with other bytes: our stored request and this one disagree (a bug).
            log.error("order key of chat %s was refused as a conflict: %r", conv.chat_id, exc)
        elif await _direction_closed(conv, direction.id):  # else Confirm again could never succeed
            await steps.direction_gone(conv, draft)
            return
        await steps.show_summary(conv, draft, note=_refusal_note(exc.text))


def _refusal_note(said: str) -> str:
    reason = escape(shorten(plain_text(said), REASON_CHARS)) or _("no reason given")
    return _("⚠️ The exchange refused the order: {reason}").format(reason=reason)


async def _settle(
    conv: Conversation, draft: ExchangeDraft, ordering: OrderPlacer, info: PlatformInfo
) -> bool:
    """A draft whose key was sent without a clear answer may not change: only that request may be sent
    under it. Look the order up: True when the customer has been answered (the order exists: its card;
    or it is still being checked: Try again, or Cancel, the tracker adopting it if it comes); False
    when no order can exist under the key any more (the key is dropped: the draft may change)."""
    key = draft.order_key
    if key is None:
        return False
    stored = await ordering.reservation(key)
    found: list[Placed] = []
    if stored is not None and stored.order_id is None:
        found = await ordering.resolve_pending(conv.chat_id)
        await _show_found(conv, found, info, ordering)
        stored = await ordering.reservation(key)
    if stored is None:
        draft.order_key, draft.order_request = None, None
        return False
    if stored.order_id is None:
        await _still_checking(conv, draft)
        return True
    if stored.id not in {placed.local_id for placed in found}:  # attached meanwhile, by the tracker
        bot = conv.event.bot
        assert bot is not None
        markup = None
        if not await ordering.withdraw_announcement(stored.id):  # its announcement shows the card
            text = order_shown_text(stored.label)
        elif stored.unreachable:
            text, markup = unreachable_text(stored.label), unreachable_keyboard()
        else:
            text, markup = stored_card_text(stored), stored_card_keyboard(stored.id)
        await bot.send_message(conv.chat_id, text, reply_markup=markup)
    await steps.leave_contact_keyboard(conv.event.bot, conv.chat_id, conv.state)  # type: ignore[arg-type]
    await conv.state.clear()
    await conv.state.set_data({"last_flow": draft.flow, "last_order": stored.label})
    return True


async def _still_checking(conv: Conversation, draft: ExchangeDraft) -> None:
    text = _(
        "⏳ Your order is still being checked: the exchange has not said yet whether it was created, so "
        "it can't be changed now.\n\nPress «Try again» to check again (it never creates a second order), "
        "or cancel: if the exchange creates it later, I will send it to you here."
    )
    await conv.save(draft, Exchange.summary)
    await conv.event.bot.send_message(  # type: ignore[union-attr]
        conv.chat_id, text, reply_markup=keyboards.retry_keyboard(draft, cb.CONFIRM)
    )


async def _direction_closed(conv: Conversation, direction_id: str) -> bool:
    """After a refusal that names no reason we know: whether the direction is gone (read afresh, when
    the update has the time for it)."""
    conv.catalogue.forget_direction(conv.locale, direction_id)
    try:
        await optional_call(lambda: conv.catalogue.direction(conv.locale, direction_id))
    except DirectionUnavailable:
        return True
    except ExchangerError:
        return False
    return False


# A site's reason is cut to this many characters, a field's label to LABEL_CHARS (with at most
# render.MAX_REFUSED_LISTED answers listed, the message stays below Telegram's 4096 whatever is sent).
REASON_CHARS = 150
LABEL_CHARS = 60


async def _validation_failed(
    conv: Conversation, draft: ExchangeDraft, fields: list[FormField], exc: ValidationFailed
) -> None:
    """Every answer the exchange refused is listed at once (the amount too), then the customer fixes
    just those, one after another (the amount last), and is back at the summary. A refused value is
    no longer offered."""
    errors = {
        name: escape(shorten(plain_text(message), REASON_CHARS)) for name, message in exc.field_errors.items()
    }
    refused = [spec for spec in fields if spec.name in errors]
    if refused:
        draft.rejected = {}
        listed: list[tuple[str, str]] = []
        for spec in refused:
            typed = draft.fields.get(spec.name, "")
            problem = check(spec, typed).problem if typed else None
            # Our own words where we can tell what is wrong: they are in the customer's language.
            reason = problem_text(spec, problem, typed) if problem else errors[spec.name]
            draft.rejected[spec.name] = reason
            listed.append((escape(shorten(plain_text(spec.label) or spec.name, LABEL_CHARS)), reason))
            if (key := memory_key(spec)) and typed:
                await conv.field_memory.forget(conv.chat_id, key, typed)
        draft.fixing = [spec.name for spec in refused[1:]]
        if AMOUNT_FIELD in errors:  # fixed after the fields
            amount_reason = errors[AMOUNT_FIELD] or _("The exchange did not accept this amount.")
            draft.rejected[AMOUNT_FIELD] = amount_reason
            draft.fixing.append(AMOUNT_FIELD)
            listed.append((_("Amount"), amount_reason))
        draft.field_index = next(i for i, spec in enumerate(fields) if spec.name == refused[0].name)
        draft.editing, draft.page = True, 0
        # error="": the first field's reason is in the list above, not said twice.
        await steps.show_field(conv, draft, error="", note=render.refused_answers(listed))
        return
    if AMOUNT_FIELD in errors:
        draft.editing = True
        direction = await conv.direction(draft)
        reason = errors[AMOUNT_FIELD] or _("The exchange did not accept this amount.")
        await steps.amount_refused(conv, draft, direction, reason)
        return
    if not errors and draft.direction_id and await _direction_closed(conv, draft.direction_id):
        await steps.direction_gone(conv, draft)
        return
    said = exc.text or "; ".join(list(exc.field_errors.values())[: render.MAX_REFUSED_LISTED])
    await steps.show_summary(conv, draft, note=_refusal_note(said))


def create_router() -> Router:
    router = Router(name="exchange")
    router.message.register(start, Command("exchange"))
    router.callback_query.register(start, MenuCb.filter(F.item == "exchange"))
    router.callback_query.register(button, ExCb.filter())
    typed = TYPED_TEXT
    router.message.register(typed_give, Exchange.give, typed)
    router.message.register(typed_get, Exchange.get, typed)
    router.message.register(typed_amount, Exchange.amount, typed)
    router.message.register(typed_field, Exchange.field, typed)
    router.message.register(shared_contact, Exchange.field, F.contact)
    router.message.register(typed_in_summary, Exchange.summary, typed)
    return router
