"""/stats: figures of a period, a period switcher, and a PNG chart of it."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.exchanger.base import ExchangerPlatform
from bot.exchanger.errors import ExchangerError
from bot.partner.account import partner_id_number
from bot.partner.attribution import customers_by_campaign
from bot.partner.chart import ChartLabels, render_chart
from bot.partner.periods import Period, PeriodError, PeriodKind, parse_range, preset, today_utc, unpack
from bot.partner.stats import PartnerStats, collect_stats
from bot.services import Services
from bot.storage.repositories import PartnerKeyRepository
from handlers.filters import TYPED_TEXT
from handlers.partner.callbacks import PartnerCb, StatsCb
from handlers.partner.common import (
    amount_text,
    cancel_keyboard,
    chat_id_of,
    fetch_for_screen,
    listed,
    partner_error_text,
    period_buttons,
    period_label,
    range_error,
    range_prompt,
    require_cabinet,
    retry_keyboard,
    server_text,
)
from handlers.partner.states import StatsStates
from handlers.replies import show

DEFAULT_PERIOD = PeriodKind.WEEK
UTM_TEXT = 40  # utm_source and utm_campaign come from the visitors' links


def _cb(period: Period, action: str = "show") -> StatsCb:
    kind, first, last = period.pack()
    return StatsCb(action=action, p=kind, a=first, b=last)


def stats_keyboard(period: Period) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    today = today_utc()
    period_buttons(
        kb,
        lambda kind: _cb(preset(kind, today)),
        StatsCb(action="custom"),
        current=period.kind,
    )
    kb.button(text=_("📈 Chart"), callback_data=_cb(period, "chart"))
    kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
    kb.adjust(3, 3, 2)
    return kb.as_markup()


def _source_label(source: str, campaign: str) -> str:
    if not source and not campaign:
        return _("no UTM tags")
    return f"{server_text(source or '—', UTM_TEXT)} · {server_text(campaign or '—', UTM_TEXT)}"


def render_stats(stats: PartnerStats, customers: list[tuple[str | None, int]]) -> str:
    conversion = stats.conversion
    lines = [
        _("📊 <b>Statistics</b>"),
        period_label(stats.period),
        "",
        _("👣 Clicks: <b>{count}</b>").format(count=stats.clicks),
        _("🧑 Unique visitors: <b>{count}</b>").format(count=stats.visitors),
        _("🔁 Exchanges referred: <b>{count}</b>").format(count=stats.exchanges),
        _("✅ Exchanges completed: <b>{count}</b>").format(count=stats.completed),
        _("📈 Conversion (completed ÷ clicks): <b>{percent}</b>").format(
            percent="—" if conversion is None else f"{conversion}%"
        ),
        _("💰 Rewards accrued: <b>{amount}</b>").format(amount=amount_text(stats.accrued)),
        _("⏳ Rewards pending: <b>{amount}</b>").format(amount=amount_text(stats.pending)),
        "",
        _("<b>Top traffic sources</b> (utm_source · utm_campaign: clicks)"),
    ]
    if stats.top_sources:
        lines += [
            f"{n}. {_source_label(*pair)}: {count}"
            for n, (pair, count) in enumerate(stats.top_sources, start=1)
        ]
    else:
        lines.append(_("No clicks in this period."))
    lines += ["", _("<b>Customers who started the bot through your links</b> (campaign tag: customers)")]
    if customers:
        no_tag = _("no tag")
        lines += listed([f"• {server_text(tag) if tag else no_tag}: {count}" for tag, count in customers])
    else:
        lines.append(_("None in this period."))
    return "\n".join(lines)


async def _show_stats(
    event: Message | CallbackQuery,
    period: Period,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
    services: Services,
) -> None:
    fetched = await fetch_for_screen(
        event, partner_keys, exchanger, lambda cabinet: collect_stats(cabinet, period), _cb(period)
    )
    if fetched is None:
        return
    linked, stats = fetched
    partner = partner_id_number(linked.partner_id)
    customers = (
        await customers_by_campaign(services.db, partner, period.start_time, period.end_time)
        if partner
        else []
    )
    await show(event, render_stats(stats, customers), stats_keyboard(period))


async def stats_command(
    event: Message | CallbackQuery,
    state: FSMContext,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
    services: Services,
) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()
    await state.clear()
    await _show_stats(event, preset(DEFAULT_PERIOD, today_utc()), exchanger, partner_keys, services)


def _period_of(callback_data: StatsCb) -> Period | None:
    try:
        return unpack(callback_data.p, callback_data.a, callback_data.b, today_utc())
    except (ValueError, PeriodError):
        return None


async def stats_period(
    callback: CallbackQuery,
    callback_data: StatsCb,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
    services: Services,
) -> None:
    period = _period_of(callback_data)
    if period is None:
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer()
    await _show_stats(callback, period, exchanger, partner_keys, services)


async def ask_range(callback: CallbackQuery, state: FSMContext) -> None:
    await callback.answer()
    await state.set_state(StatsStates.custom_range)
    await show(callback, range_prompt(), cancel_keyboard())


async def got_range(
    message: Message,
    state: FSMContext,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
    services: Services,
) -> None:
    try:
        period = parse_range(message.text or "", today_utc())
    except PeriodError as exc:
        await message.answer(range_error(exc.reason.value), reply_markup=cancel_keyboard())
        return
    await state.clear()
    await _show_stats(message, period, exchanger, partner_keys, services)


def chart_labels(period: Period) -> ChartLabels:
    return ChartLabels(
        title=period_label(period),
        clicks=_("Clicks"),
        exchanges=_("Exchanges"),
        completed=_("Completed"),
        rewards=_("Rewards accrued"),
    )


async def chart(
    callback: CallbackQuery,
    callback_data: StatsCb,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
) -> None:
    period = _period_of(callback_data)
    if period is None:
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer(_("📈 Drawing the chart…"))
    linked = await require_cabinet(callback, partner_keys, exchanger)
    if linked is None:
        return
    chat_id = chat_id_of(callback)
    try:
        stats = await collect_stats(linked.cabinet, period)
    except ExchangerError as exc:
        await callback.bot.send_message(
            chat_id, partner_error_text(exc), reply_markup=retry_keyboard(_cb(period, "chart"))
        )
        return
    if stats.is_empty:
        await callback.bot.send_message(
            chat_id,
            _("📈 No clicks and no exchanges in {period}: there is nothing to draw.").format(
                period=period_label(period)
            ),
        )
        return
    png = await asyncio.to_thread(render_chart, stats, chart_labels(period))
    await callback.bot.send_photo(
        chat_id,
        BufferedInputFile(png, filename=f"partner-stats-{period.slug}.png"),
        caption=_("📈 Clicks, exchanges and accrued rewards per day. {period}").format(
            period=period_label(period)
        ),
    )


def create_router() -> Router:
    router = Router(name="partner-stats")
    router.message.register(stats_command, Command("stats"))
    router.callback_query.register(stats_command, PartnerCb.filter(F.screen == "stats"))
    router.callback_query.register(stats_period, StatsCb.filter(F.action == "show"))
    router.callback_query.register(ask_range, StatsCb.filter(F.action == "custom"))
    router.callback_query.register(chart, StatsCb.filter(F.action == "chart"))
    router.message.register(got_range, StatsStates.custom_range, TYPED_TEXT)
    return router
