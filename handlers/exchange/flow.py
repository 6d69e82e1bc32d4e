"""The exchange conversation's handlers: parse the update, pick the next step, call a service."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.exchange.draft import ExchangeDraft, new_api_id
from bot.exchange.ordering import OrderPlacer, PlacementUncertain
from bot.exchanger.errors import ExchangerError, ExchangerUnavailable, ValidationFailed
from bot.exchanger.models import CalcAction, FieldSpec, FieldType, OrderRequest
from bot.money import AmountError, parse_decimal, parse_user_amount
from bot.text import plain_text
from handlers.callbacks import MenuCb
from handlers.exchange import callbacks as cb
from handlers.exchange import keyboards, render, steps
from handlers.exchange.callbacks import ExCb
from handlers.exchange.states import Exchange
from handlers.exchange.steps import Ctx
from handlers.filters import TYPED_TEXT
from handlers.orders import send_order_card
from handlers.replies import drop_keyboard, show

log = logging.getLogger(__name__)

AMOUNT_ERROR_FIELDS = ("sum1", "sum2", "sum1c", "sum2c")
MAX_LENGTH = {FieldType.TEXT: 255, FieldType.TEXTAREA: 2000}


async def inject_ctx(
    handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
    event: TelegramObject,
    data: dict[str, Any],
) -> Any:
    """Gives this router's handlers one `ctx` instead of six injected arguments each."""
    data["ctx"] = Ctx(
        event, data["state"], data["exchanger"], data["catalogue"], data["field_memory"], data["locale"]
    )
    return await handler(event, data)


async def start(event: Message | CallbackQuery, ctx: Ctx, order_placer: OrderPlacer) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()
    # An earlier Confirm whose answer was lost may have made an order: settle that before a new one.
    for order in await order_placer.resolve_pending(ctx.exchanger, ctx.chat_id):
        note = _("ℹ️ Your earlier order was created after all:")
        await send_order_card(event.bot, ctx.chat_id, order, note=note)  # type: ignore[arg-type]
    await steps.show_give(ctx, ExchangeDraft())


# -- typed text, per step ------------------------------------------------------------------------


async def _draft(ctx: Ctx) -> ExchangeDraft:
    draft = ctx.load(await ctx.state.get_data())
    return draft if draft is not None else ExchangeDraft()


async def typed_give(message: Message, state: FSMContext, ctx: Ctx) -> None:
    draft = await _draft(ctx)
    await steps.show_give(ctx, draft, query=message.text or "")


async def typed_get(message: Message, state: FSMContext, ctx: Ctx) -> None:
    draft = await _draft(ctx)
    await steps.show_get(ctx, draft, query=message.text or "")


async def typed_amount(message: Message, state: FSMContext, ctx: Ctx) -> None:
    draft = await _draft(ctx)
    try:
        amount = parse_user_amount(message.text or "")
    except AmountError as exc:
        direction = await ctx.direction(draft)
        text = f"⚠️ {render.amount_error(exc.reason)}\n\n{render.amount_prompt(direction, draft.action)}"
        await message.answer(text, reply_markup=keyboards.amount_keyboard(direction, draft))
        return
    await _take_amount(ctx, draft, amount)


async def _take_amount(ctx: Ctx, draft: ExchangeDraft, amount: Decimal) -> None:
    direction = await ctx.direction(draft)
    draft.amount = amount
    try:
        quote, changed, suggested = await steps.requote(ctx, draft, direction)
    except ExchangerError as exc:
        await ctx.upstream_failed(draft, exc, cb.EDIT_AMOUNT)
        return
    if changed:
        draft.amount = None
        await ctx.save(draft, Exchange.amount)
        text = render.out_of_limits(quote, draft.action, direction, suggested)
        await show(ctx.event, text, keyboards.amount_keyboard(direction, draft, suggested))
        return
    draft.quote = quote
    if draft.editing or not direction.fields:
        await steps.show_summary(ctx, draft)
        return
    draft.field_index, draft.page = 0, 0
    await steps.show_field(ctx, draft, note="\n".join(render.quote_lines(quote)))


async def typed_field(message: Message, state: FSMContext, ctx: Ctx) -> None:
    draft = await _draft(ctx)
    spec = await _current_field(ctx, draft)
    if spec is None:
        await steps.show_summary(ctx, draft)
        return
    if spec.type not in (FieldType.TEXT, FieldType.TEXTAREA):
        await steps.show_field(ctx, draft, error=_("Please choose with the buttons below."))
        return
    value = (message.text or "").strip()
    if spec.type is FieldType.TEXT:
        value = " ".join(value.split())
    await _accept(ctx, draft, spec, value)


async def typed_in_summary(message: Message, state: FSMContext, ctx: Ctx) -> None:
    await steps.show_summary(ctx, await _draft(ctx), note=_("Please use the buttons below."))


async def _current_field(ctx: Ctx, draft: ExchangeDraft) -> FieldSpec | None:
    fields = (await ctx.direction(draft)).fields
    return fields[draft.field_index] if 0 <= draft.field_index < len(fields) else None


def _validate(spec: FieldSpec, value: str) -> str | None:
    if spec.required and not value:
        return _("This field is required.")
    limit = MAX_LENGTH.get(spec.type)
    if limit and len(value) > limit:
        return _("Too long: at most {limit} characters.").format(limit=limit)
    return None


async def _accept(ctx: Ctx, draft: ExchangeDraft, spec: FieldSpec, value: str) -> None:
    if error := _validate(spec, value):
        await steps.show_field(ctx, draft, error=error)
        return
    draft.fields[spec.name] = value
    draft.page = 0
    if draft.editing:
        await steps.show_summary(ctx, draft)
        return
    draft.field_index += 1
    await steps.show_field(ctx, draft)


# -- buttons ---------------------------------------------------------------------------------------


async def button(
    callback: CallbackQuery,
    callback_data: ExCb,
    state: FSMContext,
    order_placer: OrderPlacer,
    ctx: Ctx,
) -> None:
    data = await state.get_data()
    draft = ctx.load(data)
    if draft is None or draft.flow != callback_data.flow:
        if data.get("last_flow") == callback_data.flow and data.get("last_bid"):
            await callback.answer(
                _("Order #{id} is already created.").format(id=data["last_bid"]), show_alert=True
            )
        else:
            await callback.answer(_("This button is no longer active. Send /exchange to start again."))
        return
    if callback_data.a == cb.CONFIRM:
        await _confirm(ctx, callback, draft, order_placer)
        return
    await callback.answer()
    handler = _BUTTONS.get(callback_data.a)
    if handler is None:
        return
    try:
        await handler(ctx, draft, callback_data.v, await state.get_state())
    except (ValueError, IndexError, KeyError):
        # Forged or mangled data in a button of this conversation: ignore it, keep the step.
        log.info("ignored a malformed exchange button %r", callback_data.pack())


async def _give_page(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    draft.page = int(value or 0)
    await steps.show_give(ctx, draft)


async def _give(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if state == Exchange.give.state or draft.give_id is None:
        draft = ExchangeDraft(flow=draft.flow, give_id=value)
    else:  # "Try again" after a failure on the get step
        draft.page = 0
    await steps.show_get(ctx, draft)


async def _get_page(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    draft.page = int(value or 0)
    await steps.show_get(ctx, draft)


async def _get(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if state != Exchange.get.state:
        await steps.show_amount(ctx, draft)  # "Try again" after a failure loading the direction
        return
    assert draft.give_id is not None
    options = await ctx.catalogue.get_currencies(ctx.exchanger, ctx.locale, draft.give_id)
    if value not in {direction_id for _, direction_id in options}:
        raise ValueError("not a direction out of the chosen currency")
    draft = ExchangeDraft(flow=draft.flow, give_id=draft.give_id, direction_id=value)
    await steps.show_amount(ctx, draft)


async def _action(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    draft.action = CalcAction(int(value))
    await steps.show_amount(ctx, draft)


async def _use_amount(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    amount = parse_decimal(value)  # the exchanger's own figure, from our button: not customer input
    if amount <= 0:
        raise ValueError("not a usable amount")
    await _take_amount(ctx, draft, amount)


async def _edit_amount(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    draft.editing = draft.editing or state == Exchange.summary.state
    await steps.show_amount(ctx, draft)


async def _field_button(ctx: Ctx, draft: ExchangeDraft, action: str, value: str) -> None:
    spec = await _current_field(ctx, draft)
    if spec is None:
        raise ValueError("no field is being filled")
    if action == cb.SKIP:
        if spec.required:
            raise ValueError("required fields can't be skipped")
        await _accept(ctx, draft, spec, "")
    elif action == cb.OPTION and spec.type is FieldType.SELECT:
        option = spec.options[int(value)]
        if option.key == "0" and spec.required:
            raise ValueError("'No selected' is not an answer")
        await _accept(ctx, draft, spec, option.key)
    elif action == cb.CHECK and spec.type is FieldType.CHECKBOX:
        if value == "1":
            await _accept(ctx, draft, spec, spec.checkbox_value or "1")
        elif spec.required:
            await steps.show_field(ctx, draft, error=_("To continue, this box must be ticked."))
        else:
            await _accept(ctx, draft, spec, "")
    elif action == cb.OFFER and spec.type in (FieldType.TEXT, FieldType.TEXTAREA):
        await _accept(ctx, draft, spec, draft.offers[int(value)])
    else:
        raise ValueError("button does not fit the field")


async def _option(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    await _field_button(ctx, draft, cb.OPTION, value)


async def _option_page(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    draft.page = int(value or 0)
    await steps.show_field(ctx, draft)


async def _check(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    await _field_button(ctx, draft, cb.CHECK, value)


async def _offer(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    await _field_button(ctx, draft, cb.OFFER, value)


async def _skip(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    await _field_button(ctx, draft, cb.SKIP, value)


async def _edit_list(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    direction = await ctx.direction(draft)
    await show(
        ctx.event, _("Which field do you want to change?"), keyboards.edit_list_keyboard(direction, draft)
    )


async def _edit_field(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    index = int(value)
    if not 0 <= index < len((await ctx.direction(draft)).fields):
        raise IndexError(index)
    draft.field_index, draft.editing, draft.page = index, True, 0
    await steps.show_field(ctx, draft)


async def _back(ctx: Ctx, draft: ExchangeDraft, value: str, state: str | None) -> None:
    if state == Exchange.get.state:
        draft.page = 0
        await steps.show_give(ctx, draft)
    elif state == Exchange.amount.state:
        if draft.editing:
            await steps.show_summary(ctx, draft)
        else:
            draft.page = 0
            await steps.show_get(ctx, draft)
    elif state == Exchange.field.state:
        if draft.editing:
            await steps.show_summary(ctx, draft)
        elif draft.field_index > 0:
            draft.field_index, draft.page = draft.field_index - 1, 0
            await steps.show_field(ctx, draft)
        else:
            await steps.show_amount(ctx, draft)
    elif state == Exchange.summary.state:
        await steps.show_summary(ctx, draft)
    else:
        await steps.show_give(ctx, draft)


_BUTTONS = {
    cb.GIVE_PAGE: _give_page,
    cb.GIVE: _give,
    "tp": _get_page,
    cb.GET: _get,
    cb.ACTION: _action,
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
    ctx: Ctx, callback: CallbackQuery, draft: ExchangeDraft, order_placer: OrderPlacer
) -> None:
    state = await ctx.state.get_state()
    if state != Exchange.summary.state or draft.amount is None:
        await callback.answer(_("Please finish the previous step first."))
        return
    await callback.answer(_("Creating your order…"))
    if draft.api_id is None:
        draft.api_id = new_api_id()
        await ctx.save(draft, Exchange.summary)
    direction = await ctx.direction(draft)
    await drop_keyboard(callback.message)
    request = OrderRequest(
        direction_id=direction.id, amount=draft.amount, action=draft.action, fields=draft.fields
    )
    try:
        placed = await order_placer.place(
            ctx.exchanger, chat_id=ctx.chat_id, api_id=draft.api_id, direction=direction, request=request
        )
    except ValidationFailed as exc:
        await _validation_failed(ctx, draft, direction.fields, exc)
        return
    except PlacementUncertain:
        text = _(
            "⏳ The exchange did not confirm your order in time. Nothing is lost: press «Try again», "
            "it will not create a second order."
        )
        await callback.bot.send_message(  # type: ignore[union-attr]
            ctx.chat_id, text, reply_markup=keyboards.retry_keyboard(draft, cb.CONFIRM)
        )
        return
    except ExchangerUnavailable as exc:
        await ctx.upstream_failed(draft, exc, cb.CONFIRM)
        return
    except ExchangerError as exc:
        reason = escape(plain_text(exc.text)) or _("no reason given")
        await steps.show_summary(
            ctx, draft, note=_("⚠️ The exchange refused the order: {reason}").format(reason=reason)
        )
        return
    await ctx.state.clear()
    await ctx.state.set_data({"last_flow": draft.flow, "last_bid": placed.order.id})
    await send_order_card(callback.bot, ctx.chat_id, placed.order, with_qr=True)


async def _validation_failed(
    ctx: Ctx, draft: ExchangeDraft, fields: list[FieldSpec], exc: ValidationFailed
) -> None:
    errors = {name: escape(plain_text(message)) for name, message in exc.field_errors.items()}
    for index, spec in enumerate(fields):
        if spec.name in errors:
            draft.field_index, draft.editing = index, True
            await steps.show_field(ctx, draft, error=errors[spec.name])
            return
    amount_errors = [errors[name] for name in AMOUNT_ERROR_FIELDS if name in errors]
    if amount_errors:
        draft.editing, draft.quote = True, None
        direction = await ctx.direction(draft)
        await ctx.save(draft, Exchange.amount)
        text = f"⚠️ {amount_errors[0]}\n\n{render.amount_prompt(direction, draft.action)}"
        await show(ctx.event, text, keyboards.amount_keyboard(direction, draft))
        return
    reason = escape(plain_text(exc.text)) or "; ".join(errors.values())
    await steps.show_summary(
        ctx, draft, note=_("⚠️ The exchange refused the order: {reason}").format(reason=reason)
    )


def create_router() -> Router:
    router = Router(name="exchange")
    router.message.middleware(inject_ctx)
    router.callback_query.middleware(inject_ctx)
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
