"""/referrals, /pexchanges and /payouts: paged lists, and CSV exports of a period."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.exchanger.base import ExchangerPlatform, PartnerCabinet
from bot.exchanger.errors import ExchangerError
from bot.exchanger.models import PartnerClick, PartnerExchange, PartnerPayout, PayoutStatus, is_final_status
from bot.partner.display import browser_label, params_text, utc_minute
from bot.partner.export import exchanges_csv, mask_account, payouts_csv
from bot.partner.periods import Period, PeriodError, PeriodKind, parse_range, preset, today_utc, unpack
from bot.storage.repositories import PartnerKeyRepository
from handlers.filters import TYPED_TEXT
from handlers.partner.callbacks import ExportCb, PageCb, PartnerCb
from handlers.partner.common import (
    CODE_TEXT,
    amount_text,
    cancel_keyboard,
    chat_id_of,
    fetch_for_screen,
    fit_rows,
    money_text,
    partner_error_text,
    period_buttons,
    period_label,
    range_error,
    range_prompt,
    require_cabinet,
    retry_keyboard,
    server_text,
)
from handlers.partner.states import ExportStates
from handlers.replies import show

PAGE_SIZE = 8
MAX_PAGE = 10_000


# -- rows ------------------------------------------------------------------------------------------


# Visitor-provided fields of a click (through the server) are cut to these, so a page always fits.
REFERRER_TEXT = 120
BROWSER_TEXT = 40
PARAMS_TEXT = 200


def click_row(click: PartnerClick) -> str:
    browser = server_text(browser_label(click.browser), BROWSER_TEXT)
    lines = [f"🕒 {utc_minute(click.time)} · {browser}"]
    referrer = server_text(click.referrer, REFERRER_TEXT)
    lines.append(_("↩️ from: {referrer}").format(referrer=referrer or _("direct")))
    if click.query_string:
        lines.append(f"🔗 <code>{server_text(params_text(click.query_string), PARAMS_TEXT)}</code>")
    return "\n".join(lines)


def exchange_status(exchange: PartnerExchange) -> str:
    code = server_text(exchange.status, CODE_TEXT)
    if exchange.succeeded:
        return f"✅ {code}"
    return f"❌ {code}" if is_final_status(exchange.status) else f"⏳ {code}"


def exchange_row(exchange: PartnerExchange) -> str:
    accrued = _("accrued") if exchange.accrued else _("not accrued")
    return "\n".join(
        (
            f"<b>#{server_text(exchange.id)}</b> · {utc_minute(exchange.time)} · {exchange_status(exchange)}",
            f"{money_text(exchange.give_amount, exchange.give_currency_code)} → "
            f"{money_text(exchange.get_amount, exchange.get_currency_code)}",
            f"{server_text(exchange.give_payment_system)} → {server_text(exchange.get_payment_system)}",
            _("Reward: {amount} · {accrued}").format(
                amount=amount_text(exchange.partner_reward), accrued=accrued
            ),
        )
    )


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
    amount = money_text(payout.pay_amount, payout.pay_currency_code)
    if payout.original_amount is not None and payout.original_currency_code != payout.pay_currency_code:
        amount += f" ({money_text(payout.original_amount, payout.original_currency_code)})"
    return "\n".join(
        (
            f"<b>#{server_text(payout.id)}</b> · {utc_minute(payout.time)} · {payout_status(payout.status)}",
            _("{amount} to <code>{account}</code>").format(
                amount=amount, account=server_text(mask_account(payout.account))
            ),
        )
    )


# -- paged lists -----------------------------------------------------------------------------------


class _List:
    def __init__(
        self,
        title: Callable[[], str],
        empty: Callable[[], str],
        fetch: Callable[[PartnerCabinet, int, int], Awaitable[list]],
        row: Callable[[object], str],
        export: bool,
    ) -> None:
        self.title, self.empty, self.fetch, self.row, self.export = title, empty, fetch, row, export


LISTS: dict[str, _List] = {
    "refs": _List(
        lambda: _("👣 <b>Recent clicks on your links</b> (times in UTC)"),
        lambda: _("Nobody has followed your links yet."),
        lambda c, limit, offset: c.partner_clicks(limit=limit, offset=offset),
        click_row,  # type: ignore[arg-type]
        export=False,
    ),
    "pex": _List(
        lambda: _("🔁 <b>Exchanges you referred</b> (times in UTC)"),
        lambda: _("No exchanges have been referred by you yet."),
        lambda c, limit, offset: c.partner_exchanges(limit=limit, offset=offset),
        exchange_row,  # type: ignore[arg-type]
        export=True,
    ),
    "pay": _List(
        lambda: _("💸 <b>Your payouts</b> (times in UTC)"),
        lambda: _("You have not requested any payouts yet."),
        lambda c, limit, offset: c.partner_payouts(limit=limit, offset=offset),
        payout_row,  # type: ignore[arg-type]
        export=True,
    ),
}
_SCREENS = {"refs": "refs", "pex": "pex", "pay": "pay"}
_COMMANDS = {"referrals": "refs", "pexchanges": "pex", "payouts": "pay"}


def _list_keyboard(kind: str, page: int, has_next: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    nav = 0
    if page > 0:
        kb.button(text=_("◀️ Newer"), callback_data=PageCb(kind=kind, page=page - 1))
        nav += 1
    if has_next:
        kb.button(text=_("Older ▶️"), callback_data=PageCb(kind=kind, page=page + 1))
        nav += 1
    if LISTS[kind].export:
        kb.button(text=_("📄 Export CSV"), callback_data=ExportCb(kind=kind, action="choose"))
    if kind == "pay":
        kb.button(text=_("💰 Withdraw"), callback_data=PartnerCb(screen="wd"))
    kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
    kb.adjust(*([nav] if nav else []), 1, 1, 1)
    return kb.as_markup()


async def show_page(
    event: Message | CallbackQuery,
    kind: str,
    page: int,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
) -> None:
    spec = LISTS[kind]
    fetched = await fetch_for_screen(
        event,
        partner_keys,
        exchanger,
        lambda cabinet: spec.fetch(cabinet, PAGE_SIZE + 1, page * PAGE_SIZE),
        PageCb(kind=kind, page=page),
    )
    if fetched is None:
        return
    items = fetched[1]
    has_next = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    if not items:
        text = spec.title() + "\n\n" + (spec.empty() if page == 0 else _("No more records."))
    else:
        header = spec.title() + "\n" + _("Page {page}").format(page=page + 1)
        # Every field of a row is bounded, so a page fits; fit_rows is the guarantee all the same.
        text = fit_rows(header, [spec.row(item) for item in items])
    await show(event, text, _list_keyboard(kind, page, has_next))


async def list_command(
    message: Message, state: FSMContext, exchanger: ExchangerPlatform, partner_keys: PartnerKeyRepository
) -> None:
    await state.clear()
    command = (message.text or "").split()[0].lstrip("/").split("@")[0].lower()
    await show_page(message, _COMMANDS[command], 0, exchanger, partner_keys)


async def list_button(
    callback: CallbackQuery,
    callback_data: PartnerCb,
    state: FSMContext,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
) -> None:
    await callback.answer()
    await state.clear()
    await show_page(callback, _SCREENS[callback_data.screen], 0, exchanger, partner_keys)


async def list_page(
    callback: CallbackQuery,
    callback_data: PageCb,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
) -> None:
    if callback_data.kind not in LISTS or not 0 <= callback_data.page <= MAX_PAGE:
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer()
    await show_page(callback, callback_data.kind, callback_data.page, exchanger, partner_keys)


# -- CSV exports -----------------------------------------------------------------------------------


def _export_title(kind: str) -> str:
    return (
        _("📄 Export your referred exchanges as CSV") if kind == "pex" else _("📄 Export your payouts as CSV")
    )


async def choose_export(callback: CallbackQuery, callback_data: ExportCb, state: FSMContext) -> None:
    if callback_data.kind not in ("pex", "pay"):
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
    period_buttons(kb, make, ExportCb(kind=kind, action="custom"))
    kb.button(text=_("⬅️ Back"), callback_data=PartnerCb(screen=kind))
    kb.adjust(3, 3, 1)
    await show(callback, _export_title(kind) + "\n\n" + _("Choose the period (UTC days):"), kb.as_markup())


async def ask_export_range(callback: CallbackQuery, callback_data: ExportCb, state: FSMContext) -> None:
    if callback_data.kind not in ("pex", "pay"):
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer()
    await state.set_state(ExportStates.custom_range)
    await state.update_data(export_kind=callback_data.kind)
    await show(callback, range_prompt(), cancel_keyboard())


async def got_export_range(
    message: Message, state: FSMContext, exchanger: ExchangerPlatform, partner_keys: PartnerKeyRepository
) -> None:
    try:
        period = parse_range(message.text or "", today_utc())
    except PeriodError as exc:
        await message.answer(range_error(exc.reason.value), reply_markup=cancel_keyboard())
        return
    kind = (await state.get_data()).get("export_kind")
    await state.clear()
    if kind not in ("pex", "pay"):
        await message.answer(_("Let's start again: send /pexchanges or /payouts."))
        return
    await send_export(message, kind, period, exchanger, partner_keys)


async def export_button(
    callback: CallbackQuery,
    callback_data: ExportCb,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
) -> None:
    try:
        period = unpack(callback_data.p, callback_data.a, callback_data.b, today_utc())
    except (ValueError, PeriodError):
        period = None
    if period is None or callback_data.kind not in ("pex", "pay"):
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer(_("📄 Preparing the file…"))
    await send_export(callback, callback_data.kind, period, exchanger, partner_keys)


async def send_export(
    event: Message | CallbackQuery,
    kind: str,
    period: Period,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
) -> None:
    linked = await require_cabinet(event, partner_keys, exchanger)
    if linked is None:
        return
    bot = event.bot
    assert bot is not None
    chat_id = chat_id_of(event)
    p, a, b = period.pack()
    retry = ExportCb(kind=kind, action="send", p=p, a=a, b=b)
    cabinet = linked.cabinet
    try:
        if kind == "pex":
            records: list = [
                e
                async for e in cabinet.iter_partner_exchanges(
                    start_time=period.start_time, end_time=period.end_time
                )
            ]
            content = exchanges_csv(records)
            name = f"partner-exchanges-{period.slug}.csv"
        else:
            records = [
                p
                async for p in cabinet.iter_partner_payouts(
                    start_time=period.start_time, end_time=period.end_time
                )
            ]
            content = payouts_csv(records)
            name = f"partner-payouts-{period.slug}.csv"
    except ExchangerError as exc:
        await bot.send_message(chat_id, partner_error_text(exc), reply_markup=retry_keyboard(retry))
        return
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


def create_router() -> Router:
    router = Router(name="partner-lists")
    router.message.register(list_command, Command(*_COMMANDS))
    router.callback_query.register(list_button, PartnerCb.filter(F.screen.in_(set(_SCREENS))))
    router.callback_query.register(list_page, PageCb.filter())
    router.callback_query.register(choose_export, ExportCb.filter(F.action == "choose"))
    router.callback_query.register(ask_export_range, ExportCb.filter(F.action == "custom"))
    router.callback_query.register(export_button, ExportCb.filter(F.action == "send"))
    router.message.register(got_export_range, ExportStates.custom_range, TYPED_TEXT)
    return router
