"""/clicks, /referrals, /pexchanges and /payouts: paged lists of a period, and CSV exports of a period.

A list reads every record of its period through the cabinet (newest first on screen); each is
registered only when the platform serves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.capabilities import PlatformInfo
from bot.domain.errors import ExchangerError
from bot.domain.models import PartnerClick, PartnerExchange, PartnerPayout, PartnerReferral, PayoutStatus
from bot.partner.display import browser_label, params_text, utc_minute
from bot.partner.export import exchanges_csv, mask_account, payouts_csv
from bot.partner.features import Feature, features
from bot.partner.periods import Period, PeriodError, PeriodKind, preset, today_utc, unpack
from bot.partner.stats import read_all
from bot.platforms.base import PartnerCabinet, Platform
from bot.storage.repositories import PartnerCredentialRepository
from handlers.filters import TYPED_TEXT
from handlers.partner.callbacks import ExportCb, PageCb, PartnerCb
from handlers.partner.common import (
    CODE_TEXT,
    LONG_PRESETS,
    Cabinet,
    amount_text,
    cabinet_of,
    cancel_keyboard,
    chat_id_of,
    fetch_for_screen,
    fit_rows,
    money_text,
    partner_error_text,
    payout_page_url,
    period_buttons,
    period_label,
    range_prompt,
    require_cabinet,
    retry_keyboard,
    server_text,
    status_text,
    typed_range,
)
from handlers.partner.states import ExportStates, ListStates
from handlers.replies import show

PAGE_SIZE = 8
MAX_PAGE = 10_000


# -- rows ------------------------------------------------------------------------------------------


# Visitor-provided fields of a click (through the server) are cut to these, so a page always fits.
REFERRER_TEXT = 120
BROWSER_TEXT = 40
PARAMS_TEXT = 200
TX_TEXT = 100  # a transaction id (hashes are 64-66 characters)
NOTE_TEXT = 200  # the platform's comment on a payout


def click_row(click: PartnerClick) -> str:
    browser = server_text(browser_label(click.browser), BROWSER_TEXT)
    lines = [f"🕒 {utc_minute(click.time)} · {browser}"]
    referrer = server_text(click.referrer, REFERRER_TEXT)
    lines.append(_("↩️ from: {referrer}").format(referrer=referrer or _("direct")))
    if click.query_string:
        lines.append(f"🔗 <code>{server_text(params_text(click.query_string), PARAMS_TEXT)}</code>")
    return "\n".join(lines)


def referral_row(referral: PartnerReferral) -> str:
    # Personal data of the exchange's customers: only masked (PartnerReferral.masked).
    when = utc_minute(referral.time) if referral.time is not None else server_text(referral.date) or "—"
    lines = [f"👤 <b>{server_text(referral.masked)}</b> · {when}"]
    if referral.exchanges is not None:
        lines.append(_("Exchanges: {count}").format(count=referral.exchanges))
    return "\n".join(lines)


def exchange_row(exchange: PartnerExchange) -> str:
    accrued = _("accrued") if exchange.accrued else _("not accrued")
    if exchange.completion_only and not exchange.succeeded:
        # The platform tells only completed or not: this one may be in progress or may have failed.
        status = _("⏳ not completed")
    else:
        status = status_text(exchange.status)
    label = server_text(exchange.number or exchange.id)
    lines = [f"<b>#{label}</b> · {utc_minute(exchange.time)} · {status}"]
    if exchange.give_amount is not None or exchange.get_amount is not None or exchange.amount is None:
        lines.append(
            f"{money_text(exchange.give_amount, exchange.give_currency_code)} → "
            f"{money_text(exchange.get_amount, exchange.get_currency_code)}"
        )
    else:
        # An amount on an unknown side: with the pair, never with one of its currencies.
        pair = f"{server_text(exchange.give_currency_code or '—', CODE_TEXT)} → "
        pair += server_text(exchange.get_currency_code or "—", CODE_TEXT)
        lines.append(f"{amount_text(exchange.amount)} · {pair}")
    if exchange.give_title or exchange.get_title:
        lines.append(f"{server_text(exchange.give_title or '—')} → {server_text(exchange.get_title or '—')}")
    lines.append(
        _("Reward: {amount} · {accrued}").format(
            amount=money_text(exchange.reward, exchange.reward_currency), accrued=accrued
        )
    )
    if exchange.params:
        params = " · ".join(f"{name}={value}" for name, value in exchange.params.items())
        lines.append(f"🔗 <code>{server_text(params, PARAMS_TEXT)}</code>")
    return "\n".join(lines)


def payout_status(status: PayoutStatus) -> str:
    names = {
        PayoutStatus.PENDING: _("⏳ pending"),
        PayoutStatus.PAID: _("✅ paid"),
        PayoutStatus.REFUSED: _("❌ refused"),
        PayoutStatus.CANCELLED: _("↩️ cancelled"),
        PayoutStatus.UNKNOWN: _("❔ unknown status"),
    }
    return names[status]


def payout_row(payout: PartnerPayout) -> str:
    amount = money_text(payout.amount, payout.currency_code)
    if payout.original_amount is not None and payout.original_currency_code != payout.currency_code:
        amount += f" ({money_text(payout.original_amount, payout.original_currency_code)})"
    status = payout_status(payout.status)
    if payout.status is PayoutStatus.UNKNOWN and payout.status_code:
        status = f"❔ {server_text(payout.status_code)}"
    lines = [
        f"<b>#{server_text(payout.number or payout.id)}</b> · {utc_minute(payout.time)} · {status}",
        _("{amount} to <code>{account}</code>").format(
            amount=amount, account=server_text(mask_account(payout.account))
        ),
    ]
    if payout.tx_id:
        lines.append(_("Transaction: <code>{tx_id}</code>").format(tx_id=server_text(payout.tx_id, TX_TEXT)))
    if payout.note:
        lines.append(f"💬 {server_text(payout.note, NOTE_TEXT)}")
    return "\n".join(lines)


# -- paged lists -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _List:
    feature: Feature
    title: Callable[[], str]
    empty: Callable[[], str]
    read: Callable[[PartnerCabinet, int, int], AsyncIterator]
    row: Callable[[object], str]
    export: bool
    default: PeriodKind


LISTS: dict[str, _List] = {
    "clk": _List(
        Feature.CLICKS,
        lambda: _("👣 <b>Clicks on your links</b> (times in UTC)"),
        lambda: _("Nobody followed your links in this period."),
        lambda cabinet, start, end: cabinet.clicks(start, end),
        click_row,  # type: ignore[arg-type]
        export=False,
        default=PeriodKind.WEEK,
    ),
    "refs": _List(
        Feature.REFERRALS,
        lambda: _("👥 <b>Clients you referred</b> (registration times in UTC)"),
        lambda: _("No clients registered through your links in this period."),
        lambda cabinet, start, end: cabinet.referrals(start, end),
        referral_row,  # type: ignore[arg-type]
        export=False,
        default=PeriodKind.DAYS30,
    ),
    "pex": _List(
        Feature.EXCHANGES,
        lambda: _("🔁 <b>Exchanges you referred</b> (times in UTC)"),
        lambda: _("No exchanges were referred by you in this period."),
        lambda cabinet, start, end: cabinet.exchanges(start, end),
        exchange_row,  # type: ignore[arg-type]
        export=True,
        default=PeriodKind.DAYS30,
    ),
    "pay": _List(
        Feature.PAYOUTS,
        lambda: _("💸 <b>Your payouts</b> (times in UTC)"),
        lambda: _("You requested no payouts in this period."),
        lambda cabinet, start, end: cabinet.payouts(start, end),
        payout_row,  # type: ignore[arg-type]
        export=True,
        default=PeriodKind.YEAR,
    ),
}
_COMMANDS = {"clicks": "clk", "referrals": "refs", "pexchanges": "pex", "payouts": "pay"}


def served_lists(info: PlatformInfo) -> list[str]:
    served = features(info)
    return [kind for kind, spec in LISTS.items() if spec.feature in served]


def _newest_first(item: object) -> tuple[int, int, str]:
    """Newest first; ids of one second in their natural order (``"10"`` after ``"9"``)."""
    record_id = str(getattr(item, "id", ""))
    return (getattr(item, "time", None) or 0, len(record_id), record_id)


def _in_period(records: list, period: Period) -> list:
    """The records of ``period``, newest first (a record without a time: the platform put it there)."""
    kept = (r for r in records if r.time is None or period.contains(r.time))
    return sorted(kept, key=_newest_first, reverse=True)


def _page_cb(kind: str, period: Period, page: int = 0) -> PageCb:
    p, a, b = period.pack()
    return PageCb(kind=kind, page=page, p=p, a=a, b=b)


def _list_keyboard(
    kind: str, period: Period, page: int, has_next: bool, info: PlatformInfo, site_url: str
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    nav = 0
    if page > 0:
        kb.button(text=_("◀️ Newer"), callback_data=_page_cb(kind, period, page - 1))
        nav += 1
    if has_next:
        kb.button(text=_("Older ▶️"), callback_data=_page_cb(kind, period, page + 1))
        nav += 1
    today = today_utc()
    period_buttons(
        kb,
        lambda period_kind: _page_cb(kind, preset(period_kind, today)),
        PageCb(kind=kind, action="custom"),
        current=period.kind,
        presets=LONG_PRESETS,
    )
    rows = [*([nav] if nav else []), 4, 3]
    if LISTS[kind].export:
        kb.button(text=_("📄 Export CSV"), callback_data=ExportCb(kind=kind, action="choose"))
        rows.append(1)
    if kind == "pay" and Feature.WITHDRAW in features(info):
        kb.button(text=_("💰 Withdraw"), callback_data=PartnerCb(screen="wd"))
        rows.append(1)
    elif kind == "pay" and payout_page_url(info, site_url):
        kb.button(text=_("💰 Withdraw on the site"), url=payout_page_url(info, site_url))
        rows.append(1)
    kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
    kb.adjust(*rows, 1)
    return kb.as_markup()


async def show_page(
    event: Message | CallbackQuery, kind: str, period: Period, page: int, access: Cabinet
) -> None:
    spec = LISTS[kind]

    async def read(cabinet: PartnerCabinet) -> list:
        return await read_all(spec.read(cabinet, period.start_time, period.end_time))

    fetched = await fetch_for_screen(event, access, read, _page_cb(kind, period, page))
    if fetched is None:
        return
    records = _in_period(fetched[1], period)
    items = records[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    has_next = len(records) > (page + 1) * PAGE_SIZE
    header = spec.title() + "\n" + period_label(period)
    if not items:
        text = header + "\n\n" + (spec.empty() if page == 0 else _("No more records."))
    else:
        pages = (len(records) + PAGE_SIZE - 1) // PAGE_SIZE
        header += "\n" + _("Page {page} of {pages} · {count} in all").format(
            page=page + 1, pages=pages, count=len(records)
        )
        # Every field of a row is bounded, so a page fits; fit_rows is the guarantee all the same.
        text = fit_rows(header, [spec.row(item) for item in items])
    await show(event, text, _list_keyboard(kind, period, page, has_next, access.info, access.site_url))


async def list_command(
    message: Message,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    await state.clear()
    words = (message.text or message.caption or "").split()
    command = words[0].lstrip("/").split("@")[0].lower() if words else ""
    kind = list_commands(platform.info).get(command)
    if kind is None:  # not a list command: the Command filter lets only those through
        return
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await show_page(message, kind, preset(LISTS[kind].default, today_utc()), 0, access)


async def list_button(
    callback: CallbackQuery,
    callback_data: PartnerCb,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    await callback.answer()
    await state.clear()
    kind = callback_data.screen
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await show_page(callback, kind, preset(LISTS[kind].default, today_utc()), 0, access)


def _list_period(callback_data: PageCb) -> Period | None:
    if not callback_data.p:
        return preset(LISTS[callback_data.kind].default, today_utc())
    try:
        return unpack(callback_data.p, callback_data.a, callback_data.b, today_utc())
    except (ValueError, PeriodError):
        return None


async def list_page(
    callback: CallbackQuery,
    callback_data: PageCb,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    served = served_lists(platform.info)
    period = _list_period(callback_data) if callback_data.kind in served else None
    if period is None or not 0 <= callback_data.page <= MAX_PAGE:
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer()
    if callback_data.action == "custom":
        await state.set_state(ListStates.custom_range)
        await state.update_data(list_kind=callback_data.kind)
        await show(callback, range_prompt(), cancel_keyboard(PageCb(kind=callback_data.kind)))
        return
    await state.clear()  # back from the date entry
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await show_page(callback, callback_data.kind, period, callback_data.page, access)


async def got_list_range(
    message: Message,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    kind = (await state.get_data()).get("list_kind")
    back = PageCb(kind=kind) if kind in served_lists(platform.info) else None
    period = await typed_range(message, back)
    if period is None:
        return
    await state.clear()
    if kind not in served_lists(platform.info):
        await message.answer(_("Let's start again: send /partner."))
        return
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await show_page(message, kind, period, 0, access)


# -- CSV exports -----------------------------------------------------------------------------------


def _exports(info: PlatformInfo) -> list[str]:
    return [kind for kind in served_lists(info) if LISTS[kind].export]


def _export_title(kind: str) -> str:
    return (
        _("📄 Export your referred exchanges as CSV") if kind == "pex" else _("📄 Export your payouts as CSV")
    )


async def choose_export(
    callback: CallbackQuery, callback_data: ExportCb, state: FSMContext, platform_info: PlatformInfo
) -> None:
    if callback_data.kind not in _exports(platform_info):
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer()
    await state.clear()
    kind = callback_data.kind
    today = today_utc()

    def make(period_kind: PeriodKind) -> ExportCb:
        p, a, b = preset(period_kind, today).pack()
        return ExportCb(kind=kind, action="send", p=p, a=a, b=b)

    kb = InlineKeyboardBuilder()
    period_buttons(kb, make, ExportCb(kind=kind, action="custom"), presets=LONG_PRESETS)
    kb.button(text=_("⬅️ Back"), callback_data=PartnerCb(screen=kind))
    kb.adjust(4, 3, 1)
    await show(callback, _export_title(kind) + "\n\n" + _("Choose the period (UTC days):"), kb.as_markup())


async def ask_export_range(
    callback: CallbackQuery, callback_data: ExportCb, state: FSMContext, platform_info: PlatformInfo
) -> None:
    if callback_data.kind not in _exports(platform_info):
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer()
    await state.set_state(ExportStates.custom_range)
    await state.update_data(export_kind=callback_data.kind)
    await show(callback, range_prompt(), cancel_keyboard(ExportCb(kind=callback_data.kind, action="choose")))


async def got_export_range(
    message: Message,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    kind = (await state.get_data()).get("export_kind")
    back = ExportCb(kind=kind, action="choose") if kind in _exports(platform.info) else None
    period = await typed_range(message, back)
    if period is None:
        return
    await state.clear()
    if kind not in _exports(platform.info):
        await message.answer(_("Let's start again: send /partner."))
        return
    await send_export(message, kind, period, cabinet_of(platform, partner_credentials, locale, site_url))


async def export_button(
    callback: CallbackQuery,
    callback_data: ExportCb,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    try:
        period = unpack(callback_data.p, callback_data.a, callback_data.b, today_utc())
    except (ValueError, PeriodError):
        period = None
    if period is None or callback_data.kind not in _exports(platform.info):
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer(_("📄 Preparing the file…"))
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await send_export(callback, callback_data.kind, period, access)


async def send_export(event: Message | CallbackQuery, kind: str, period: Period, access: Cabinet) -> None:
    linked = await require_cabinet(event, access)
    if linked is None:
        return
    bot = event.bot
    assert bot is not None
    chat_id = chat_id_of(event)
    p, a, b = period.pack()
    retry = ExportCb(kind=kind, action="send", p=p, a=a, b=b)
    try:
        records = await read_all(LISTS[kind].read(linked.cabinet, period.start_time, period.end_time))
    except ExchangerError as exc:
        await bot.send_message(
            chat_id, partner_error_text(exc, access.key_page_url), reply_markup=retry_keyboard(retry)
        )
        return
    records = _in_period(records, period)
    if kind == "pex":
        content = exchanges_csv(records)
        name = f"partner-exchanges-{period.slug}.csv"
    else:
        content = payouts_csv(records)
        name = f"partner-payouts-{period.slug}.csv"
    label = period_label(period)
    if not records:
        await bot.send_message(
            chat_id, _("Nothing to export for {period}.").format(period=label), reply_markup=_back(kind)
        )
        return
    await bot.send_document(
        chat_id,
        BufferedInputFile(content, filename=name),
        caption=_("📄 {period}: {count} rows. Amounts exactly as the exchange reported them.").format(
            period=label, count=len(records)
        ),
        reply_markup=_back(kind),
    )


def _back(kind: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("⬅️ Back to the list"), callback_data=PartnerCb(screen=kind))
    return kb.as_markup()


def list_commands(info: PlatformInfo) -> dict[str, str]:
    """command → list kind. On a platform that lists clicks but no registered clients, /referrals
    opens the clicks (the name this cabinet had for them before it served other platforms)."""
    served = served_lists(info)
    commands = {command: kind for command, kind in _COMMANDS.items() if kind in served}
    if "clk" in served and "refs" not in served:
        commands["referrals"] = "clk"
    return commands


def create_router(info: PlatformInfo) -> Router:
    router = Router(name="partner-lists")
    served = served_lists(info)
    if not served:
        return router
    router.message.register(list_command, Command(*list_commands(info)))
    router.callback_query.register(list_button, PartnerCb.filter(F.screen.in_(set(served))))
    router.callback_query.register(list_page, PageCb.filter())
    router.message.register(got_list_range, ListStates.custom_range, TYPED_TEXT)
    if _exports(info):
        router.callback_query.register(choose_export, ExportCb.filter(F.action == "choose"))
        router.callback_query.register(ask_export_range, ExportCb.filter(F.action == "custom"))
        router.callback_query.register(export_button, ExportCb.filter(F.action == "send"))
        router.message.register(got_export_range, ExportStates.custom_range, TYPED_TEXT)
    return router
