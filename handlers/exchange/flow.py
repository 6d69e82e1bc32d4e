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
    DirectionUnavailable,
    ExchangerError,
    ExchangerUnavailable,
    IdempotencyConflict,
    ValidationFailed,
)
from bot.domain.models import AMOUNT_FIELD, AmountSide, Direction, FieldKind, FormField, OrderRequest
from bot.domain.money import AmountError, parse_decimal, parse_user_amount
from bot.exchange.catalogue import CatalogueService
from bot.exchange.draft import ExchangeDraft
from bot.exchange.field_memory import FieldMemory, fits
from bot.exchange.ordering import OrderPlacer, OrderUnreachable, PlacementUncertain
from bot.exchange.quoting import QuotingService
from bot.text import plain_text
from handlers.callbacks import MenuCb
from handlers.exchange import callbacks as cb
from handlers.exchange import keyboards, render, steps
from handlers.exchange.callbacks import ExCb
from handlers.exchange.states import Exchange
from handlers.exchange.steps import Conversation
from handlers.filters import TYPED_TEXT
from handlers.order_card import send_order_card, unreachable_keyboard, unreachable_text
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
    for placed in await ordering.resolve_pending(conv.chat_id):
        note = _("ℹ️ Your earlier order was created after all:")
        bot = event.bot
        assert bot is not None
        await send_order_card(
            bot, conv.chat_id, placed.order, placed.local_id, platform_info, with_qr=True, note=note
        )
    await steps.show_give(conv, ExchangeDraft())


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
    except AmountError as exc:
        direction = await _direction(conv, draft, cb.EDIT_AMOUNT)
        if direction is not None:
            text = f"⚠️ {render.amount_error(exc.reason)}\n\n{render.amount_prompt(direction, draft.side)}"
            sides = conv.quoting.sides(direction)
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
    if draft.direction_id is None:
        await steps.show_give(conv, draft)
        return
    try:
        spec = await _current_field(conv, draft)
    except DirectionUnavailable:
        await steps.direction_gone(conv, draft)
        return
    except ExchangerError as exc:
        await conv.upstream_failed(draft, exc, cb.OPTION_PAGE)
        return
    if spec is None:
        await steps.show_summary(conv, draft)
        return
    if spec.kind not in (FieldKind.TEXT, FieldKind.TEXTAREA):
        await steps.show_field(conv, draft, error=_("Please choose with the buttons below."))
        return
    value = (message.text or "").strip()
    if spec.kind is FieldKind.TEXT:
        value = " ".join(value.split())
    await _accept(conv, draft, spec, value)


async def typed_in_summary(
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
    await steps.show_summary(conv, draft, note=_("Please use the buttons below."))


async def _current_field(conv: Conversation, draft: ExchangeDraft) -> FormField | None:
    fields = (await conv.direction(draft)).fields
    return fields[draft.field_index] if 0 <= draft.field_index < len(fields) else None


def _validate(spec: FormField, value: str) -> str | None:
    if spec.required and not value:
        return _("This field is required.")
    if len(value) > spec.max_length:
        return _("Too long: at most {limit} characters.").format(limit=spec.max_length)
    if value and not fits(spec.pattern, value):
        return _not_valid(spec)
    return None


def _not_valid(spec: FormField) -> str:
    label = escape(plain_text(spec.label) or spec.name)
    return _("This is not a valid value for «{label}». Please check it and type it again.").format(
        label=label
    )


async def _accept(conv: Conversation, draft: ExchangeDraft, spec: FormField, value: str) -> None:
    if error := _validate(spec, value):
        await steps.show_field(conv, draft, error=error)
        return
    draft.fields[spec.name] = value
    draft.page = 0
    if draft.editing:
        await steps.show_summary(conv, draft)
        return
    draft.field_index += 1
    await steps.show_field(conv, draft)


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


async def _use_amount(conv: Conversation, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if state != Exchange.amount.state:
        raise ValueError("not on the amount step")
    amount = parse_decimal(value)  # the exchanger's own figure, from our button: not customer input
    if amount <= 0:
        raise ValueError("not a usable amount")
    await _take_amount(conv, draft, amount)


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
        if draft.editing:
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
    cb.EDIT_LIST: _edit_list,
    cb.EDIT_FIELD: _edit_field,
    cb.BACK: _back,
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
    if draft.order_key is None:
        # Stored before anything is sent: every retry of this draft reuses the key.
        draft.order_key = ordering.new_key()
        await conv.save(draft, Exchange.summary)
    await drop_keyboard(callback.message)
    request = OrderRequest(
        direction_id=direction.id, amount=draft.amount, side=draft.side, fields=draft.fields
    )
    try:
        placed = await ordering.place(
            chat_id=conv.chat_id, key=draft.order_key, direction=direction, request=request
        )
    except ValidationFailed as exc:
        await _validation_failed(conv, draft, direction.fields, exc)
        return
    except PlacementUncertain:
        text = _(
            "⏳ The exchange did not confirm your order in time. Nothing is lost: press «Try again», "
            "it will not create a second order."
        )
        await callback.bot.send_message(  # type: ignore[union-attr]
            conv.chat_id, text, reply_markup=keyboards.retry_keyboard(draft, cb.CONFIRM)
        )
        return
    except OrderUnreachable as exc:
        # A new exchange gets a new draft and a new key: the abandoned order expires unpaid.
        await conv.state.clear()
        await callback.bot.send_message(  # type: ignore[union-attr]
            conv.chat_id, unreachable_text(exc.order.label), reply_markup=unreachable_keyboard()
        )
        return
    except DirectionUnavailable:
        await steps.direction_gone(conv, draft)
        return
    except AmountOutOfLimits as exc:
        draft.editing = True
        reason = _("This amount is outside the exchange's limits.")
        await steps.amount_refused(conv, draft, direction, reason, exc.minimum, exc.maximum)
        return
    except ExchangerUnavailable as exc:
        await conv.upstream_failed(draft, exc, cb.CONFIRM)
        return
    except ExchangerError as exc:
        if isinstance(exc, IdempotencyConflict):
            # The same key with other bytes: our stored request and this one disagree (a bug).
            log.error("order key of chat %s was refused as a conflict: %r", conv.chat_id, exc)
        reason = escape(plain_text(exc.text)) or _("no reason given")
        await steps.show_summary(
            conv, draft, note=_("⚠️ The exchange refused the order: {reason}").format(reason=reason)
        )
        return
    await conv.state.clear()
    await conv.state.set_data({"last_flow": draft.flow, "last_order": placed.order.label})
    await send_order_card(callback.bot, conv.chat_id, placed.order, placed.local_id, info, with_qr=True)  # type: ignore[arg-type]


async def _validation_failed(
    conv: Conversation, draft: ExchangeDraft, fields: list[FormField], exc: ValidationFailed
) -> None:
    errors = {name: escape(plain_text(message)) for name, message in exc.field_errors.items()}
    for index, spec in enumerate(fields):
        if spec.name in errors:
            draft.field_index, draft.editing, draft.page = index, True, 0
            typed = draft.fields.get(spec.name, "")
            if typed and not fits(spec.pattern, typed):
                errors[spec.name] = _not_valid(spec)  # our own words, in the customer's language
            await steps.show_field(conv, draft, error=errors[spec.name] or _("Please check this field."))
            return
    if AMOUNT_FIELD in errors:
        draft.editing = True
        direction = await conv.direction(draft)
        reason = errors[AMOUNT_FIELD] or _("The exchange did not accept this amount.")
        await steps.amount_refused(conv, draft, direction, reason)
        return
    reason = escape(plain_text(exc.text)) or "; ".join(errors.values()) or _("no reason given")
    await steps.show_summary(
        conv, draft, note=_("⚠️ The exchange refused the order: {reason}").format(reason=reason)
    )


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
    router.message.register(typed_in_summary, Exchange.summary, typed)
    return router
