"""Showing each step of the exchange conversation. Every function stores the draft, sets the
state, and renders; handlers decide which step comes next."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import (
    AmountOutOfLimits,
    DirectionUnavailable,
    ExchangerError,
    ValidationFailed,
)
from bot.domain.models import AMOUNT_FIELD, Direction, FieldKind, FormField, ValueKind
from bot.exchange.catalogue import CatalogueService, filter_currencies, matches
from bot.exchange.draft import DRAFT_KEY, ExchangeDraft
from bot.exchange.field_memory import FieldMemory, memory_key
from bot.exchange.quoting import Quoted, QuotingService, optional_call, receive_side
from bot.exchange.validation import check
from bot.storage.fsm import save_step
from bot.text import shorten
from handlers.exchange import callbacks as cb
from handlers.exchange import keyboards, render
from handlers.exchange.states import Exchange
from handlers.replies import show
from handlers.upstream import direction_unavailable_text, site_text, upstream_error_text

Event = Message | CallbackQuery


@dataclass
class Conversation:
    """One exchange conversation as a handler sees it: where to answer, the chat's FSM record and
    language, and the services its steps use. Each handler builds it from what it receives by name."""

    event: Event
    state: FSMContext
    locale: str
    catalogue: CatalogueService
    quoting: QuotingService
    field_memory: FieldMemory

    @property
    def chat_id(self) -> int:
        message = self.event if isinstance(self.event, Message) else self.event.message
        assert message is not None
        return message.chat.id

    async def save(self, draft: ExchangeDraft, state: State) -> None:
        await save_step(self.state, state, draft.dump(self.field_memory.box, self.chat_id))

    def load(self, data: dict[str, object]) -> ExchangeDraft | None:
        return ExchangeDraft.load(data, self.field_memory.box, self.chat_id)

    async def draft(self) -> ExchangeDraft:
        return self.load(await self.state.get_data()) or ExchangeDraft()

    async def direction(self, draft: ExchangeDraft) -> Direction:
        assert draft.direction_id is not None
        return await self.catalogue.open_direction(self.locale, draft.direction_id)

    async def upstream_failed(self, draft: ExchangeDraft, exc: ExchangerError, retry: str = cb.BACK) -> None:
        await show(self.event, upstream_error_text(exc), keyboards.retry_keyboard(draft, retry))


def _with_note(note: str | None, text: str) -> str:
    return f"{note}\n\n{text}" if note else text


async def show_give(
    conv: Conversation, draft: ExchangeDraft, query: str | None = None, note: str | None = None
) -> None:
    try:
        currencies = await conv.catalogue.give_currencies(conv.locale)
    except ExchangerError as exc:
        await conv.save(draft, Exchange.give)
        await conv.upstream_failed(draft, exc, cb.GIVE_PAGE)
        return
    text = _("💱 <b>What do you give?</b>\nChoose a currency, or type part of its name (for example «usdt»).")
    if query is not None:
        found = filter_currencies(currencies, query)
        if found:
            currencies, draft.page = found, 0
            text = _("Found for «{query}». Choose what you give:").format(query=escape(shorten(query, 60)))
        else:
            text = _("Nothing found for «{query}». Try another name, or choose from the list:").format(
                query=escape(shorten(query, 60))
            )
    await conv.save(draft, Exchange.give)
    markup = keyboards.paged_choices(
        currencies,
        draft.page,
        draft.flow,
        label=lambda c: c.title or c.code or c.id,
        value=lambda c: c.id,
        choose=cb.GIVE,
        turn=cb.GIVE_PAGE,
        back=query is not None,  # from search results, Back shows the whole list again
    )
    await show(conv.event, _with_note(note, text), markup)


async def show_get(
    conv: Conversation, draft: ExchangeDraft, query: str | None = None, note: str | None = None
) -> None:
    assert draft.give_id is not None
    try:
        options = await conv.catalogue.get_currencies(conv.locale, draft.give_id)
        give = next(
            (c for c in await conv.catalogue.give_currencies(conv.locale) if c.id == draft.give_id), None
        )
    except ExchangerError as exc:
        await conv.save(draft, Exchange.get)
        await conv.upstream_failed(draft, exc, cb.GIVE)
        return
    if not options:  # nothing left out of this currency (a direction closed meanwhile)
        await show_give(conv, ExchangeDraft(flow=draft.flow), note=note)
        return
    give_title = escape(give.title if give else "")
    text = _("You give: <b>{give}</b>\n\n<b>What do you want to receive?</b>").format(give=give_title)
    if query is not None:
        found = [option for option in options if matches(option[0].title, query)]
        if found:
            options, draft.page = found, 0
        else:
            text = _("Nothing found for «{query}». Choose from the list:").format(
                query=escape(shorten(query, 60))
            )
    await conv.save(draft, Exchange.get)
    markup = keyboards.paged_choices(
        options,
        draft.page,
        draft.flow,
        label=lambda o: o[0].title or o[0].code or o[0].id,
        value=lambda o: o[1],
        choose=cb.GET,
        turn=cb.GET_PAGE,
        back=True,
    )
    await show(conv.event, _with_note(note, text), markup)


async def direction_gone(conv: Conversation, draft: ExchangeDraft, note: str | None = None) -> None:
    """The platform says the direction is gone or closed: say so (``note``, else the usual words)
    and offer the list again."""
    if draft.direction_id is not None:
        conv.catalogue.direction_gone(conv.locale, draft.direction_id)
    note = note or direction_unavailable_text()
    if draft.give_id is None:
        await show_give(conv, ExchangeDraft(flow=draft.flow), note=note)
        return
    await show_get(conv, ExchangeDraft(flow=draft.flow, give_id=draft.give_id), note=note)


async def show_amount(conv: Conversation, draft: ExchangeDraft, note: str | None = None) -> None:
    try:
        direction = await conv.direction(draft)
        give_title, get_title = await conv.catalogue.titles(conv.locale, direction.id)
    except DirectionUnavailable:
        await direction_gone(conv, draft)
        return
    except ExchangerError as exc:
        await conv.save(draft, Exchange.amount)
        await conv.upstream_failed(draft, exc, cb.GET)
        return
    sides = conv.quoting.sides(direction)
    if draft.side not in sides:
        draft.side = sides[0]
    await conv.save(draft, Exchange.amount)
    text = render.direction_card(direction, give_title, get_title, draft.side, sides)
    await show(conv.event, _with_note(note, text), keyboards.amount_keyboard(direction, draft, sides))


async def amount_refused(
    conv: Conversation,
    draft: ExchangeDraft,
    direction: Direction,
    reason: str,
    low: Decimal | None = None,
    high: Decimal | None = None,
) -> None:
    """Back to the amount step with the exchange's reason (safe HTML) and its limits; the limit the
    amount missed is offered in one tap."""
    suggested = _nearest(draft.amount, low, high)
    if suggested is not None and not await _within_reserve(conv, draft, direction, suggested):
        suggested = None  # never offer in one tap what the exchange can't pay
    draft.amount, draft.quote = None, None
    await conv.save(draft, Exchange.amount)
    sides = conv.quoting.sides(direction)
    text = render.amount_refused(direction, draft.side, reason, low, high, sides)
    await show(conv.event, text, keyboards.amount_keyboard(direction, draft, sides, suggested))


async def _within_reserve(
    conv: Conversation, draft: ExchangeDraft, direction: Direction, amount: Decimal
) -> bool:
    if direction.reserve is None:
        return True
    try:  # a second quote on an error path: only in the time the update can spare
        quoted = await optional_call(lambda: conv.quoting.quote(conv.locale, draft, direction, amount=amount))
    except ExchangerError:
        return False
    return quoted is not None and quoted.over_reserve is None and not quoted.adjusted


async def over_reserve(
    conv: Conversation, draft: ExchangeDraft, direction: Direction, reserve: Decimal
) -> None:
    """The quote would pay more than the exchange has: back to the amount step with the most it can
    pay, offered in one tap (receiving exactly that) unless that is what was just tried."""
    sides = conv.quoting.sides(direction)
    receive = receive_side(sides)
    tried = draft.side == receive and draft.amount is not None and draft.amount >= reserve
    below_minimum = direction.min_get is not None and reserve < direction.min_get
    offer = reserve if receive is not None and reserve > 0 and not tried and not below_minimum else None
    draft.amount, draft.quote = None, None
    await conv.save(draft, Exchange.amount)
    text = render.over_reserve(direction, reserve, draft.side, sides)
    await show(conv.event, text, keyboards.over_reserve_keyboard(direction, draft, sides, offer))


def _nearest(amount: Decimal | None, low: Decimal | None, high: Decimal | None) -> Decimal | None:
    if low is not None and (high is None or (amount is not None and amount < low)):
        return low
    if high is not None and (low is None or (amount is not None and amount > high)):
        return high
    return None


async def quote(conv: Conversation, draft: ExchangeDraft, direction: Direction, retry: str) -> Quoted | None:
    """A fresh quote for the draft; None when the exchange said no (the customer has been told and
    is on the step to fix it) or failed (with a Try again button sending ``retry``)."""
    try:
        return await conv.quoting.quote(conv.locale, draft, direction)
    except DirectionUnavailable:
        await direction_gone(conv, draft)
    except AmountOutOfLimits as exc:
        reason = _("This amount is outside the exchange's limits.")
        await amount_refused(conv, draft, direction, reason, exc.minimum, exc.maximum)
    except ValidationFailed as exc:
        said = exc.field_errors.get(AMOUNT_FIELD) or exc.text or "; ".join(exc.field_errors.values())
        reason = site_text(said) or _("The exchange did not accept this amount.")
        await amount_refused(conv, draft, direction, reason)
    except ExchangerError as exc:
        await conv.upstream_failed(draft, exc, retry)
    return None


async def show_field(
    conv: Conversation, draft: ExchangeDraft, error: str | None = None, note: str | None = None
) -> None:
    try:
        direction = await conv.direction(draft)
    except DirectionUnavailable:
        await direction_gone(conv, draft)
        return
    except ExchangerError as exc:
        await conv.save(draft, Exchange.field)
        await conv.upstream_failed(draft, exc, cb.OPTION_PAGE)  # shows the field again
        return
    fields = direction.fields
    if draft.field_index >= len(fields):
        await show_summary(conv, draft)
        return
    spec = fields[draft.field_index]
    draft.offers = await _offers(conv, draft, spec)
    if error is None and spec.name in draft.rejected:
        error = draft.rejected[spec.name] or _("Please check this field.")
    phone = spec.kind is FieldKind.TEXT and spec.value_kind is ValueKind.PHONE
    await _contact_keyboard(conv, draft, open_=phone and _private(conv))
    await conv.save(draft, Exchange.field)
    text = render.field_prompt(spec, draft.field_index + 1, len(fields), error)
    notes: dict[str, str] = {}
    if spec.kind is FieldKind.SELECT and spec.changes_price:  # each option shows what it costs
        prices = await conv.quoting.option_prices(conv.locale, draft, direction, spec)
        if lines := render.option_prices(spec, prices, draft.side):
            text += "\n\n" + "\n".join(lines)
        notes = render.option_notes(prices, draft.side)
    username = conv.event.from_user.username if conv.event.from_user else None
    markup = keyboards.field_keyboard(spec, draft, notes, username=username)
    await show(conv.event, _with_note(note, text), markup)


async def _offers(conv: Conversation, draft: ExchangeDraft, spec: FormField) -> list[str]:
    """The current answer and the remembered values of this kind that pass the field's checks."""
    if spec.kind not in (FieldKind.TEXT, FieldKind.TEXTAREA):
        return []
    key = memory_key(spec)
    remembered = await conv.field_memory.recall(conv.chat_id, key) if key else []
    current = draft.fields.get(spec.name)
    if current and draft.rejected.get(spec.name) is not None:
        current = None  # the exchange refused it
    values = [v for v in (current, *remembered) if v and check(spec, v).ok]
    return list(dict.fromkeys(values))


def _private(conv: Conversation) -> bool:
    """Telegram offers "share my phone number" (``request_contact``) in private chats only."""
    message = conv.event if isinstance(conv.event, Message) else conv.event.message
    return message is not None and message.chat.type == ChatType.PRIVATE


async def _contact_keyboard(conv: Conversation, draft: ExchangeDraft, *, open_: bool) -> None:
    """Open Telegram's "share my phone number" keyboard for a phone field; close it once the
    conversation moves on (only a new message can remove a reply keyboard)."""
    if open_ == draft.contact_keyboard:
        return
    if open_:
        text = _("📱 Or share the phone number of your Telegram account with the button below.")
        markup: ReplyKeyboardMarkup | ReplyKeyboardRemove = keyboards.share_phone_keyboard()
    else:
        text, markup = _("⌨️ Keyboard closed."), ReplyKeyboardRemove()
    await conv.event.bot.send_message(conv.chat_id, text, reply_markup=markup)  # type: ignore[union-attr]
    draft.contact_keyboard = open_


async def leave_contact_keyboard(bot: Bot, chat_id: int, state: FSMContext) -> None:
    """The conversation leaves the exchange (Cancel, /cancel, an order made): close the phone keyboard
    if it is open, before the state that says so is cleared (only a new message can remove it)."""
    draft = (await state.get_data()).get(DRAFT_KEY)
    if isinstance(draft, dict) and draft.get("contact_keyboard") is True:
        await bot.send_message(chat_id, _("⌨️ Keyboard closed."), reply_markup=ReplyKeyboardRemove())


async def close_contact_keyboard(conv: Conversation, draft: ExchangeDraft, text: str) -> None:
    """Close the phone keyboard with ``text`` (what was taken), when it is open."""
    if draft.contact_keyboard:
        await conv.event.bot.send_message(  # type: ignore[union-attr]
            conv.chat_id, text, reply_markup=ReplyKeyboardRemove()
        )
        draft.contact_keyboard = False


async def show_summary(conv: Conversation, draft: ExchangeDraft, note: str | None = None) -> None:
    draft.editing = False
    await _contact_keyboard(conv, draft, open_=False)  # an edited phone may be the last answer
    try:
        direction = await conv.direction(draft)
        give_title, get_title = await conv.catalogue.titles(conv.locale, direction.id)
    except DirectionUnavailable:
        await direction_gone(conv, draft)
        return
    except ExchangerError as exc:
        await conv.save(draft, Exchange.summary)
        await conv.upstream_failed(draft, exc, cb.BACK)
        return
    if draft.quote is None or direction.price_fields or draft.quote.is_stale():
        await conv.save(draft, Exchange.summary)  # a failed quote's Try again comes back here
        quoted = await quote(conv, draft, direction, cb.BACK)
        if quoted is None:
            return
        if (reserve := quoted.over_reserve) is not None:
            draft.editing = True  # the form is filled: a new amount comes back here
            await over_reserve(conv, draft, direction, reserve)
            return
        draft.quote = quoted.snapshot
        if quoted.adjusted:
            draft.amount = quoted.amount
            note = _("⚠️ The amount was adjusted to the exchange's limits.")
    await conv.save(draft, Exchange.summary)
    text = render.summary(direction, draft, give_title, get_title)
    await show(conv.event, _with_note(note, text), keyboards.summary_keyboard(draft, bool(direction.fields)))
