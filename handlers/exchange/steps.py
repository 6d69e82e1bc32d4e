"""Showing each step of the exchange conversation. Every function stores the draft, sets the
state, and renders; handlers decide which step comes next."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.exchange.catalogue import CatalogueCache, filter_currencies, matches
from bot.exchange.draft import ExchangeDraft, QuoteSnapshot
from bot.exchange.field_memory import FieldMemory
from bot.exchanger.base import ExchangerPlatform
from bot.exchanger.errors import ExchangerError
from bot.exchanger.models import Direction, FieldType
from bot.storage.fsm import save_step
from handlers.exchange import callbacks as cb
from handlers.exchange import keyboards, render
from handlers.exchange.states import Exchange
from handlers.replies import show
from handlers.upstream import upstream_error_text

Event = Message | CallbackQuery


@dataclass
class Ctx:
    """What every step needs, gathered from the handler's injected arguments."""

    event: Event
    state: FSMContext
    exchanger: ExchangerPlatform
    catalogue: CatalogueCache
    field_memory: FieldMemory
    locale: str

    @property
    def chat_id(self) -> int:
        message = self.event if isinstance(self.event, Message) else self.event.message
        assert message is not None
        return message.chat.id

    async def save(self, draft: ExchangeDraft, state: State) -> None:
        await save_step(self.state, state, draft.dump(self.field_memory.box, self.chat_id))

    def load(self, data: dict[str, object]) -> ExchangeDraft | None:
        return ExchangeDraft.load(data, self.field_memory.box, self.chat_id)

    async def direction(self, draft: ExchangeDraft) -> Direction:
        assert draft.direction_id is not None
        return await self.catalogue.direction(self.exchanger, self.locale, draft.direction_id)

    async def titles(self, draft: ExchangeDraft) -> tuple[str, str]:
        for summary in await self.catalogue.directions(self.exchanger, self.locale):
            if summary.id == draft.direction_id:
                return summary.give.title, summary.get.title
        return "", ""

    async def upstream_failed(self, draft: ExchangeDraft, exc: ExchangerError, retry: str = cb.BACK) -> None:
        await show(self.event, upstream_error_text(exc), keyboards.retry_keyboard(draft, retry))


async def show_give(ctx: Ctx, draft: ExchangeDraft, query: str | None = None) -> None:
    try:
        currencies = await ctx.catalogue.give_currencies(ctx.exchanger, ctx.locale)
    except ExchangerError as exc:
        await ctx.save(draft, Exchange.give)
        await ctx.upstream_failed(draft, exc, cb.GIVE_PAGE)
        return
    text = _("💱 <b>What do you give?</b>\nChoose a currency, or type part of its name (for example «usdt»).")
    if query is not None:
        found = filter_currencies(currencies, query)
        if found:
            currencies, draft.page = found, 0
            text = _("Found for «{query}». Choose what you give:").format(query=escape(query))
        else:
            text = _("Nothing found for «{query}». Try another name, or choose from the list:").format(
                query=escape(query)
            )
    await ctx.save(draft, Exchange.give)
    markup = keyboards.paged_choices(
        currencies,
        draft.page,
        draft.flow,
        label=lambda c: c.title,
        value=lambda c: c.id,
        choose=cb.GIVE,
        turn=cb.GIVE_PAGE,
        back=False,
    )
    await show(ctx.event, text, markup)


async def show_get(ctx: Ctx, draft: ExchangeDraft, query: str | None = None) -> None:
    assert draft.give_id is not None
    try:
        options = await ctx.catalogue.get_currencies(ctx.exchanger, ctx.locale, draft.give_id)
        give = next(
            (
                c
                for c in await ctx.catalogue.give_currencies(ctx.exchanger, ctx.locale)
                if c.id == draft.give_id
            ),
            None,
        )
    except ExchangerError as exc:
        await ctx.save(draft, Exchange.get)
        await ctx.upstream_failed(draft, exc, cb.GIVE)
        return
    give_title = escape(give.title if give else "")
    text = _("You give: <b>{give}</b>\n\n<b>What do you want to receive?</b>").format(give=give_title)
    if query is not None:
        found = [option for option in options if matches(option[0].title, query)]
        if found:
            options, draft.page = found, 0
        else:
            text = _("Nothing found for «{query}». Choose from the list:").format(query=escape(query))
    await ctx.save(draft, Exchange.get)
    markup = keyboards.paged_choices(
        options,
        draft.page,
        draft.flow,
        label=lambda o: o[0].title,
        value=lambda o: o[1],
        choose=cb.GET,
        turn="tp",
        back=True,
    )
    await show(ctx.event, text, markup)


async def show_amount(ctx: Ctx, draft: ExchangeDraft) -> None:
    try:
        direction = await ctx.direction(draft)
        give_title, get_title = await ctx.titles(draft)
    except ExchangerError as exc:
        await ctx.save(draft, Exchange.amount)
        await ctx.upstream_failed(draft, exc, cb.GET)
        return
    if draft.action not in keyboards.available_actions(direction):
        draft.action = keyboards.available_actions(direction)[0]
    await ctx.save(draft, Exchange.amount)
    text = render.direction_card(direction, give_title, get_title, draft.action)
    await show(ctx.event, text, keyboards.amount_keyboard(direction, draft))


async def show_field(
    ctx: Ctx, draft: ExchangeDraft, error: str | None = None, note: str | None = None
) -> None:
    direction = await ctx.direction(draft)
    fields = direction.fields
    if draft.field_index >= len(fields):
        await show_summary(ctx, draft)
        return
    spec = fields[draft.field_index]
    draft.offers = []
    if spec.type in (FieldType.TEXT, FieldType.TEXTAREA):
        current = draft.fields.get(spec.name)
        remembered = await ctx.field_memory.recall(ctx.chat_id, spec.name)
        draft.offers = list(dict.fromkeys([v for v in (current, *remembered) if v]))
    await ctx.save(draft, Exchange.field)
    text = render.field_prompt(spec, draft.field_index + 1, len(fields), error)
    if note:
        text = f"{note}\n\n{text}"
    await show(ctx.event, text, keyboards.field_keyboard(spec, draft))


async def requote(
    ctx: Ctx, draft: ExchangeDraft, direction: Direction
) -> tuple[QuoteSnapshot, bool, Decimal]:
    """A fresh quote for the draft's amount and price-changing fields: (snapshot, changed, amount on
    the side the customer typed)."""
    assert draft.amount is not None and draft.direction_id is not None
    cd_fields = {
        spec.name: draft.fields[spec.name] for spec in direction.price_fields if draft.fields.get(spec.name)
    }
    quote = await ctx.exchanger.quote(draft.direction_id, draft.amount, draft.action, cd_fields or None)
    snapshot = QuoteSnapshot.of(quote)
    side = {
        1: quote.give_amount,
        2: quote.get_amount,
        3: quote.give_amount_with_commission,
        4: quote.get_amount_with_commission,
    }[int(draft.action)]
    return snapshot, quote.changed, side if side is not None else draft.amount


async def show_summary(ctx: Ctx, draft: ExchangeDraft, note: str | None = None) -> None:
    draft.editing = False
    try:
        direction = await ctx.direction(draft)
        if draft.quote is None or direction.price_fields or draft.quote.is_stale():
            draft.quote, changed, amount = await requote(ctx, draft, direction)
            if changed:
                draft.amount = amount
                note = _("⚠️ The amount was adjusted to the exchange's limits.")
        give_title, get_title = await ctx.titles(draft)
    except ExchangerError as exc:
        await ctx.save(draft, Exchange.summary)
        await ctx.upstream_failed(draft, exc, cb.BACK)
        return
    await ctx.save(draft, Exchange.summary)
    text = render.summary(direction, draft, give_title, get_title)
    if note:
        text = f"{note}\n\n{text}"
    await show(ctx.event, text, keyboards.summary_keyboard(draft, bool(direction.fields)))
