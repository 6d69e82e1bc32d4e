"""/admin for the operator's accounts (``ADMIN_IDS``, private chats only): the bot's health in words,
the last exchanger errors, open orders, the notification queue, and a broadcast to every chat.

For everyone else the router does not exist: its filters fail, so /admin gets the fallback's answer to
any unknown text and its buttons the stale-button answer.
"""

from __future__ import annotations

import logging
from html import escape
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.admin.broadcast import Broadcasts, Progress, fits
from bot.app.telegram_limits import MAX_TEXT, cut_html, visible_units
from bot.domain.capabilities import PlatformInfo
from bot.i18n import N_
from bot.storage.outbox import OutboxRepository
from bot.storage.repositories import ChatSettingsRepository, OrderRepository
from handlers.admin import is_admin
from handlers.callbacks import NavCb
from handlers.replies import show

if TYPE_CHECKING:
    from bot.app.health import HealthMonitor
    from bot.notifications.runtime import Notifications
    from bot.observability import Metrics
    from bot.observability.exchanger import ExchangerErrorRecord
    from bot.storage.database import Database

log = logging.getLogger(__name__)

COMMANDS = (("admin", N_("Operator panel: health, errors, broadcast")),)
PANEL_ERRORS = 5
LIST_ERRORS = 20
MAX_ID = 2**31  # broadcast ids are small counters: anything larger is forged


class AdminCb(CallbackData, prefix="adp"):
    action: str  # "panel" | "errors" | "bc" (ask for the text) | "send" | "edit" | "prog" | "stop"
    n: int = 0  # the broadcast, for "prog" and "stop"


class BroadcastText(StatesGroup):
    text = State()
    confirm = State()


# -- the panel ---------------------------------------------------------------------------------------

_CHECK_NAMES = {
    "database": N_("💾 Database"),
    "exchanger": N_("🔌 Exchange"),
    "updates": N_("📨 Telegram updates"),
    "notifications": N_("🔔 Notifications"),
}
_LEVELS = {"ok": ("✅", N_("fine")), "degraded": ("⚠️", N_("degraded")), "failing": ("❌", N_("failing"))}


async def _health_lines(health: HealthMonitor | None) -> list[str]:
    if health is None:
        return [_("Health checks run in the bot's main process only.")]
    report = await health.report()
    icon, word = _LEVELS.get(str(report.status), ("❔", str(report.status)))
    lines = [_("<b>Health:</b> {icon} {status}").format(icon=icon, status=_(word))]
    for check in report.checks:
        icon, word = _LEVELS.get(str(check.level), ("❔", str(check.level)))
        name = _(_CHECK_NAMES[check.name]) if check.name in _CHECK_NAMES else escape(check.name)
        line = f"{icon} {name}: {_(word)}"
        if check.reason:
            # The checks' reasons are the operator's technical English, as in GET /health.
            line += f" — <i>{escape(check.reason[:300])}</i>"
        lines.append(line)
    return lines


def _error_line(record: ExchangerErrorRecord) -> str:
    parts = [record.at.strftime("%Y-%m-%d %H:%M:%S UTC"), escape(record.method)]
    if record.code:
        parts.append(escape(record.code))
    head = " · ".join(f"<code>{p}</code>" if i == 0 else p for i, p in enumerate(parts))
    return f"{head}\n    {escape(record.error)}: {escape(record.message[:300])}"


def _errors_text(metrics: Metrics | None, limit: int) -> str:
    records = list(reversed(metrics.recent_errors()))[:limit] if metrics is not None else []
    if not records:
        return _("No exchange errors since the bot started.")
    title = _("<b>Last exchange errors</b> (newest first):")
    return "\n".join([title, *(_error_line(r) for r in records)])


def _panel_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔄 Refresh"), callback_data=AdminCb(action="panel"))
    kb.button(text=_("🧾 More errors"), callback_data=AdminCb(action="errors"))
    kb.button(text=_("📣 Broadcast"), callback_data=AdminCb(action="bc"))
    kb.adjust(2, 1)
    return kb.as_markup()


async def _panel_text(
    health: HealthMonitor | None, metrics: Metrics | None, orders: OrderRepository, info: PlatformInfo
) -> str:
    db: Database = orders.db
    open_orders = await orders.count_open(info.name)
    queued = await OutboxRepository(db).pending_count()
    lines = [_("🛠 <b>Operator panel</b>"), "", *await _health_lines(health), ""]
    lines.append(_("Open orders: <b>{count}</b>").format(count=open_orders))
    lines.append(_("Notifications waiting to be sent: <b>{count}</b>").format(count=queued))
    lines += ["", _errors_text(metrics, PANEL_ERRORS)]
    return _fit("\n".join(lines))


def _fit(text: str) -> str:
    """Error messages are bounded, but keep the whole panel within one message whatever they hold."""
    return cut_html(text, MAX_TEXT)


async def admin_command(
    message: Message,
    state: FSMContext,
    orders: OrderRepository,
    platform_info: PlatformInfo,
    health: HealthMonitor | None = None,
    metrics: Metrics | None = None,
) -> None:
    await state.clear()
    text = await _panel_text(health, metrics, orders, platform_info)
    await message.answer(text, reply_markup=_panel_keyboard())


async def panel_button(
    callback: CallbackQuery,
    state: FSMContext,
    orders: OrderRepository,
    platform_info: PlatformInfo,
    health: HealthMonitor | None = None,
    metrics: Metrics | None = None,
) -> None:
    await callback.answer()
    await state.clear()
    await show(callback, await _panel_text(health, metrics, orders, platform_info), _panel_keyboard())


async def errors_button(callback: CallbackQuery, metrics: Metrics | None = None) -> None:
    await callback.answer()
    kb = InlineKeyboardBuilder()
    kb.button(text=_("⬅️ Panel"), callback_data=AdminCb(action="panel"))
    await show(callback, _fit(_errors_text(metrics, LIST_ERRORS)), kb.as_markup())


# -- the broadcast ------------------------------------------------------------------------------------


def _cancel_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    return kb.as_markup()


def _ask_text() -> str:
    return _(
        "📣 Send the message for every chat of the bot (bold, italics and links are kept), at most "
        "{limit} characters. You will see a preview before anything is sent. Send /cancel to stop."
    ).format(limit=MAX_TEXT)


async def broadcast_button(callback: CallbackQuery, state: FSMContext) -> None:
    await callback.answer()
    await state.set_state(BroadcastText.text)
    if isinstance(callback.message, Message):
        await callback.message.answer(_ask_text(), reply_markup=_cancel_keyboard())


async def broadcast_text(
    message: Message, state: FSMContext, chat_settings: ChatSettingsRepository, orders: OrderRepository
) -> None:
    text = message.html_text if message.text else ""
    if not fits(text):
        size = visible_units(text)
        await message.answer(
            _("This message is too long: {count} characters, a broadcast can have at most {limit}. "
              "Shorten it and send it again.").format(count=size, limit=MAX_TEXT)
            if size else _ask_text(),
            reply_markup=_cancel_keyboard(),
        )  # fmt: skip
        return
    chats = len(await Broadcasts(orders.db, chat_settings).audience())
    await state.update_data(broadcast=text)
    await state.set_state(BroadcastText.confirm)
    await message.answer(_("👀 Preview: every chat gets exactly this message."))
    await message.answer(text)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Send (chats: {count})").format(count=chats), callback_data=AdminCb(action="send"))
    kb.button(text=_("✏️ Change the text"), callback_data=AdminCb(action="edit"))
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    kb.adjust(1)
    question = _("Chats to receive it: {count}. Send it? Chats that blocked the bot are skipped.")
    await message.answer(question.format(count=chats), reply_markup=kb.as_markup())


async def edit_button(callback: CallbackQuery, state: FSMContext) -> None:
    await callback.answer()
    await state.set_state(BroadcastText.text)
    if isinstance(callback.message, Message):
        await callback.message.answer(_ask_text(), reply_markup=_cancel_keyboard())


def _progress_text(progress: Progress) -> str:
    lines = [
        _("📣 Broadcast #{id}").format(id=progress.broadcast_id),
        _("Chats: {total} · sent: {sent} · waiting: {waiting} · skipped: {skipped}").format(
            total=progress.total, sent=progress.sent, waiting=progress.waiting, skipped=progress.skipped
        ),
    ]
    if progress.cancelled:
        lines.append(_("⛔ Stopped: the messages not yet sent were cancelled."))
    elif progress.done:
        lines.append(_("✅ Finished."))
    return "\n".join(lines)


def _progress_keyboard(progress: Progress) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if not progress.cancelled and not progress.done:
        number = progress.broadcast_id
        kb.button(text=_("🔄 Progress"), callback_data=AdminCb(action="prog", n=number))
        kb.button(text=_("⛔ Stop the broadcast"), callback_data=AdminCb(action="stop", n=number))
    kb.button(text=_("⬅️ Panel"), callback_data=AdminCb(action="panel"))
    kb.adjust(1)
    return kb.as_markup()


async def send_button(
    callback: CallbackQuery,
    state: FSMContext,
    chat_settings: ChatSettingsRepository,
    orders: OrderRepository,
    notifications: Notifications | None = None,
) -> None:
    confirming = await state.get_state() == BroadcastText.confirm
    text = (await state.get_data()).get("broadcast") if confirming else None
    if not isinstance(text, str) or not fits(text):
        await callback.answer(_("This button is no longer active. Send /admin for a fresh panel."))
        return
    await callback.answer()
    await state.clear()  # first: a second tap finds nothing to send
    progress = await Broadcasts(orders.db, chat_settings).start(text)
    if notifications is not None:
        notifications.sender.wake()
    log.info("broadcast %s queued for %s chats", progress.broadcast_id, progress.total)
    await show(callback, _progress_text(progress), _progress_keyboard(progress))


async def progress_button(
    callback: CallbackQuery,
    callback_data: AdminCb,
    chat_settings: ChatSettingsRepository,
    orders: OrderRepository,
) -> None:
    broadcasts = Broadcasts(orders.db, chat_settings)
    progress = await broadcasts.progress(callback_data.n) if 1 <= callback_data.n <= MAX_ID else None
    if progress is None:
        await callback.answer(_("This button is no longer active. Send /admin for a fresh panel."))
        return
    if callback_data.action == "stop" and not progress.cancelled:
        progress = await broadcasts.cancel(callback_data.n) or progress
        log.info("broadcast %s stopped: %s sent of %s", progress.broadcast_id, progress.sent, progress.total)
    await callback.answer()
    await show(callback, _progress_text(progress), _progress_keyboard(progress))


def create_router() -> Router:
    router = Router(name="admin-panel")
    router.message.filter(F.chat.type == "private", is_admin)
    router.callback_query.filter(F.message.chat.type == "private", is_admin)
    router.message.register(admin_command, Command("admin"))
    router.message.register(broadcast_text, BroadcastText.text, F.text & ~F.text.startswith("/"))
    router.callback_query.register(panel_button, AdminCb.filter(F.action == "panel"))
    router.callback_query.register(errors_button, AdminCb.filter(F.action == "errors"))
    router.callback_query.register(broadcast_button, AdminCb.filter(F.action == "bc"))
    router.callback_query.register(edit_button, AdminCb.filter(F.action == "edit"))
    router.callback_query.register(send_button, AdminCb.filter(F.action == "send"))
    router.callback_query.register(progress_button, AdminCb.filter(F.action.in_({"prog", "stop"})))
    return router
