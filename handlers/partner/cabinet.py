"""/partner: the cabinet's front page (get_partner_info) and its menu."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.exchanger.base import ExchangerPlatform
from bot.exchanger.models import PartnerInfo
from bot.storage.repositories import PartnerKeyRepository
from handlers.callbacks import MenuCb
from handlers.partner.callbacks import PartnerCb
from handlers.partner.common import amount_text, partner_info_for_screen, payout_currency_lines, server_text
from handlers.replies import show


def cabinet_menu() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📊 Statistics"), callback_data=PartnerCb(screen="stats"))
    kb.button(text=_("👣 Referrals"), callback_data=PartnerCb(screen="refs"))
    kb.button(text=_("🔁 Exchanges"), callback_data=PartnerCb(screen="pex"))
    kb.button(text=_("💸 Payouts"), callback_data=PartnerCb(screen="pay"))
    kb.button(text=_("💰 Withdraw"), callback_data=PartnerCb(screen="wd"))
    kb.button(text=_("🔗 Referral link"), callback_data=PartnerCb(screen="link"))
    kb.button(text=_("🚪 Unlink the key"), callback_data=PartnerCb(screen="logout"))
    kb.button(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main"))
    kb.adjust(2, 2, 2, 1, 1)
    return kb.as_markup()


def render_info(info: PartnerInfo, login: str) -> str:
    lines = [
        _("🤝 <b>Partner cabinet</b>"),
        _("Key: <code>{login}</code>").format(login=escape(login)),
        _("Partner ID: <b>{partner_id}</b>").format(partner_id=server_text(info.partner_id)),
        _("Balance: <b>{balance}</b>").format(balance=amount_text(info.balance)),
        _("Minimum payout: {amount}").format(amount=amount_text(info.min_payout)),
    ]
    if info.items:
        lines += ["", _("<b>Payout currencies</b> (available · commission):"), *payout_currency_lines(info)]
    lines += ["", _("Balance and rewards are in the exchange's base currency, as the site shows them.")]
    lines += ["", _("Commands: /stats /referrals /pexchanges /payouts /withdraw /link /logout")]
    return "\n".join(lines)


async def home(
    event: Message | CallbackQuery,
    state: FSMContext,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()
    await state.clear()
    fetched = await partner_info_for_screen(event, partner_keys, exchanger, PartnerCb(screen="home"))
    if fetched is None:
        return
    linked, info = fetched
    await show(event, render_info(info, linked.login), cabinet_menu())


def create_router() -> Router:
    router = Router(name="partner-cabinet")
    router.message.register(home, Command("partner"))
    router.callback_query.register(home, PartnerCb.filter(F.screen == "home"))
    router.callback_query.register(home, MenuCb.filter(F.item == "partner"))
    return router
