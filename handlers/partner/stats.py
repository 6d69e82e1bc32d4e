"""/stats: figures of a period, a period switcher, and a PNG chart of it.

Only the figures the platform serves: click figures need its clicks, exchange figures its exchanges.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.capabilities import Capability, PlatformInfo
from bot.domain.errors import ExchangerError
from bot.domain.money import format_amount
from bot.partner.chart import ChartLabels, render_chart
from bot.partner.display import utc_minute
from bot.partner.periods import Period, PeriodError, PeriodKind, preset, today_utc, unpack
from bot.partner.stats import PAIR, Bucket, PartnerStats, ServerFigures, collect_stats, server_figures
from bot.platforms.base import PartnerCabinet, Platform
from bot.storage.repositories import ChatSettingsRepository, PartnerCredentialRepository
from handlers.filters import TYPED_TEXT
from handlers.partner.callbacks import PartnerCb, StatsCb
from handlers.partner.common import (
    MESSAGE_LIMIT,
    Cabinet,
    cabinet_of,
    cancel_keyboard,
    chat_id_of,
    fetch_for_screen,
    listed,
    money_text,
    partner_error_text,
    period_buttons,
    period_label,
    range_prompt,
    require_cabinet,
    retry_keyboard,
    server_text,
    typed_range,
    visible_length,
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


def reward_lines(stats: PartnerStats) -> list[str]:
    """Accrued and pending rewards, in each currency they were earned in (never added across them).

    Where every exchange is ``completion_only`` a not-completed one is in progress OR failed and its
    reward is not known: no "pending" line then."""
    currencies = stats.reward_currencies
    pending = not stats.completion_only
    if len(currencies) <= 1:
        code = currencies[0] if currencies else ""
        lines = [
            _("💰 Rewards accrued: <b>{amount}</b>").format(
                amount=money_text(stats.accrued.get(code, Decimal(0)), code)
            )
        ]
        if pending:
            lines.append(
                _("⏳ Rewards pending: <b>{amount}</b>").format(
                    amount=money_text(stats.pending.get(code, Decimal(0)), code)
                )
            )
        if not code:
            lines.append(_("Rewards are in the exchange's base currency, as the site shows them."))
        return lines
    accrued = [money_text(stats.accrued.get(code, Decimal(0)), code) for code in currencies]
    lines = [_("💰 Rewards accrued: <b>{amount}</b>").format(amount=" · ".join(listed(accrued, 5)))]
    if pending:
        amounts = [money_text(stats.pending.get(code, Decimal(0)), code) for code in currencies]
        lines.append(_("⏳ Rewards pending: <b>{amount}</b>").format(amount=" · ".join(listed(amounts, 5))))
    return lines


BREAKDOWN_ROWS = 4
BREAKDOWN_CURRENCIES = 3


def _breakdown_title(name: str) -> str:
    if name == PAIR:
        return _("<b>By currency pair</b>")
    return _("<b>By {name}</b>").format(name=server_text(name, UTM_TEXT))


def _bucket_line(value: str, bucket: Bucket) -> str:
    label = server_text(value, UTM_TEXT) if value else _("no tag")
    rewards = [money_text(amount, code) for code, amount in sorted(bucket.rewards.items())]
    line = _("• {value}: {exchanges} referred, {completed} completed").format(
        value=label, exchanges=bucket.exchanges, completed=bucket.completed
    )
    if rewards:
        line += ", " + " · ".join(listed(rewards, BREAKDOWN_CURRENCIES))
    return line


def breakdown_lines(stats: PartnerStats) -> list[str]:
    lines: list[str] = []
    for name in stats.breakdowns:
        rows = stats.top(name, BREAKDOWN_ROWS)
        lines += ["", _breakdown_title(name)]
        lines += [_bucket_line(value, bucket) for value, bucket in rows]
        more = len(stats.breakdowns[name]) - len(rows)
        if more > 0:
            lines.append(_("…and {count} more.").format(count=more))
    return lines


def render_stats(
    stats: PartnerStats,
    customers: list[tuple[str | None, int]] | None,
    server: ServerFigures | None = None,
) -> str:
    """The figures the platform serves; ``customers``: per bot campaign tag (None: not shown);
    ``server``: the platform's own statistics, where it has them."""
    lines = [_("📊 <b>Statistics</b>"), period_label(stats.period)]
    if server is not None:
        lines += server_lines(server)
    lines.append("")
    if stats.has_clicks:
        lines += [
            _("👣 Clicks: <b>{count}</b>").format(count=stats.clicks),
            _("🧑 Unique visitors: <b>{count}</b>").format(count=stats.visitors),
        ]
    if stats.has_exchanges:
        share = stats.completion_share
        lines += [
            _("🔁 Exchanges referred: <b>{count}</b>").format(count=stats.exchanges),
            _("✅ Exchanges completed: <b>{count}</b>").format(count=stats.completed),
            _("🎯 Completion share (completed ÷ referred): <b>{percent}</b>").format(
                percent="—" if share is None else f"{format_amount(share, '')}%"
            ),
        ]
    if stats.has_clicks and stats.has_exchanges:
        conversion = stats.conversion
        lines.append(
            _("📈 Conversion (completed ÷ clicks): <b>{percent}</b>").format(
                percent="—" if conversion is None else f"{format_amount(conversion, '')}%"
            )
        )
    if stats.has_exchanges:
        lines += reward_lines(stats)
        lines.append(
            _("<i>Exchanges created in the period are counted; “completed” means completed by now.</i>")
        )
        if stats.completion_only:
            lines.append(_("<i>An exchange not completed is still in progress or has failed.</i>"))
    if stats.has_clicks:
        lines += ["", _("<b>Top traffic sources</b> (utm_source · utm_campaign: clicks)")]
        if stats.top_sources:
            lines += [
                f"{n}. {_source_label(*pair)}: {count}"
                for n, (pair, count) in enumerate(stats.top_sources, start=1)
            ]
        else:
            lines.append(_("No clicks in this period."))
    tail: list[str] = []
    if customers is not None:
        tail += ["", _("<b>Customers who started the bot through your links</b> (campaign tag: customers)")]
        if customers:
            no_tag = _("no tag")
            tail += listed([f"• {server_text(tag) if tag else no_tag}: {count}" for tag, count in customers])
        else:
            tail.append(_("None in this period."))
    breakdown = breakdown_lines(stats)
    # The breakdowns go last and give way first when the message would be too long.
    while breakdown and visible_length("\n".join([*lines, *tail, *breakdown])) > MESSAGE_LIMIT:
        del breakdown[-1]
    return "\n".join([*lines, *tail, *breakdown])


def server_lines(figures: ServerFigures) -> list[str]:
    """The platform's own statistics (``Capability.PARTNER_STATS``), only the figures it gave."""
    lines = ["", _("🏦 <b>The exchange's own figures</b>")]
    stats = figures.stats
    if stats is None:
        if figures.missing == "permission":
            lines.append(
                _(
                    "Your key may not read them: tick <code>{permission}</code> in its settings on the site."
                ).format(permission=server_text(figures.permission or "?"))
            )
        else:
            lines.append(_("The exchange gives them for today, 7 days or 30 days only."))
        return lines
    if stats.start is not None and stats.end is not None:
        lines.append(
            _("For {start} – {end} UTC, as the exchange counts them:").format(
                start=utc_minute(stats.start), end=utc_minute(stats.end)
            )
        )
    figures_of = (
        (stats.clicks, _("👣 Clicks: <b>{count}</b>")),
        (stats.registrations, _("👤 Registrations: <b>{count}</b>")),
        (stats.exchanges, _("🔁 Exchanges: <b>{count}</b>")),
        (stats.completed_exchanges, _("✅ Completed: <b>{count}</b>")),
    )
    lines += [text.format(count=count) for count, text in figures_of if count is not None]
    if stats.accruals is not None:
        lines.append(
            _("💰 Accrued: <b>{amount}</b>").format(amount=money_text(stats.accruals, stats.currency))
        )
    lines += ["", _("<b>Computed by the bot from your exchanges list</b>")]
    return lines


@dataclass(frozen=True)
class StatsScreen:
    stats: PartnerStats
    server: ServerFigures | None  # None: the platform has no statistics of its own


def _lists(info: PlatformInfo) -> dict[str, bool]:
    return {
        "clicks": info.serves(Capability.PARTNER_CLICKS),
        "exchanges": info.serves(Capability.PARTNER_EXCHANGES),
    }


def _collect(info: PlatformInfo, period: Period) -> Callable[[PartnerCabinet], Awaitable[StatsScreen]]:
    async def call(cabinet: PartnerCabinet) -> StatsScreen:
        if not info.serves(Capability.PARTNER_STATS):
            return StatsScreen(await collect_stats(cabinet, period, **_lists(info)), None)
        stats, server = await asyncio.gather(
            collect_stats(cabinet, period, **_lists(info)), server_figures(cabinet, period)
        )
        return StatsScreen(stats, server)

    return call


async def _show_stats(
    event: Message | CallbackQuery, period: Period, access: Cabinet, chat_settings: ChatSettingsRepository
) -> None:
    fetched = await fetch_for_screen(event, access, _collect(access.info, period), _cb(period))
    if fetched is None:
        return
    linked, screen = fetched
    customers = None
    # Customers come through the bot's deep links, shown with the link builder.
    if access.info.serves(Capability.REFERRAL_LINKS) and access.info.has_customer_flow:
        customers = (
            await chat_settings.customers_by_campaign(
                access.info.name, linked.partner_id, period.start_time, period.end_time
            )
            if linked.partner_id
            else []
        )
    await show(event, render_stats(screen.stats, customers, screen.server), stats_keyboard(period))


async def stats_command(
    event: Message | CallbackQuery,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    chat_settings: ChatSettingsRepository,
    locale: str,
    site_url: str,
) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()
    await state.clear()
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await _show_stats(event, preset(DEFAULT_PERIOD, today_utc()), access, chat_settings)


def _period_of(callback_data: StatsCb) -> Period | None:
    try:
        return unpack(callback_data.p, callback_data.a, callback_data.b, today_utc())
    except (ValueError, PeriodError):
        return None


async def stats_period(
    callback: CallbackQuery,
    callback_data: StatsCb,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    chat_settings: ChatSettingsRepository,
    locale: str,
    site_url: str,
) -> None:
    period = _period_of(callback_data)
    if period is None:
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer()
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await _show_stats(callback, period, access, chat_settings)


async def ask_range(callback: CallbackQuery, state: FSMContext) -> None:
    await callback.answer()
    await state.set_state(StatsStates.custom_range)
    await show(callback, range_prompt(), cancel_keyboard(PartnerCb(screen="stats")))


async def got_range(
    message: Message,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    chat_settings: ChatSettingsRepository,
    locale: str,
    site_url: str,
) -> None:
    period = await typed_range(message, PartnerCb(screen="stats"))
    if period is None:
        return
    await state.clear()
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await _show_stats(message, period, access, chat_settings)


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
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    period = _period_of(callback_data)
    if period is None:
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer(_("📈 Drawing the chart…"))
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    linked = await require_cabinet(callback, access)
    if linked is None:
        return
    chat_id = chat_id_of(callback)
    try:
        stats = await collect_stats(linked.cabinet, period, **_lists(access.info))
    except ExchangerError as exc:
        await callback.bot.send_message(
            chat_id,
            partner_error_text(exc, access.key_page_url),
            reply_markup=retry_keyboard(_cb(period, "chart")),
        )
        return
    if stats.is_empty:
        nothing = (
            _("📈 No clicks and no exchanges in {period}: there is nothing to draw.")
            if stats.has_clicks
            else _("📈 No exchanges in {period}: there is nothing to draw.")
        )
        await callback.bot.send_message(chat_id, nothing.format(period=period_label(period)))
        return
    png = await asyncio.to_thread(render_chart, stats, chart_labels(period))
    await callback.bot.send_photo(
        chat_id,
        BufferedInputFile(png, filename=f"partner-stats-{period.slug}.png"),
        caption=(
            _("📈 Clicks, exchanges and accrued rewards per day. {period}")
            if stats.has_clicks
            else _("📈 Exchanges and accrued rewards per day. {period}")
        ).format(period=period_label(period)),
    )


def create_router(info: PlatformInfo) -> Router:
    router = Router(name="partner-stats")
    router.message.register(stats_command, Command("stats"))
    router.callback_query.register(stats_command, PartnerCb.filter(F.screen == "stats"))
    router.callback_query.register(stats_period, StatsCb.filter(F.action == "show"))
    router.callback_query.register(ask_range, StatsCb.filter(F.action == "custom"))
    router.callback_query.register(chart, StatsCb.filter(F.action == "chart"))
    router.message.register(got_range, StatsStates.custom_range, TYPED_TEXT)
    return router
