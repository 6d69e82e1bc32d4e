"""/partner: the cabinet's front page (the partner's summary, where the platform has one) and its menu.

The menu offers only the screens the platform serves (:mod:`bot.partner.features`).
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.capabilities import Capability, PlatformInfo
from bot.domain.errors import ExchangerError
from bot.domain.models import PartnerSummary
from bot.domain.money import format_amount
from bot.partner.account import LinkedCabinet
from bot.partner.display import utc_minute
from bot.partner.features import Feature, features
from bot.partner.news_state import news_enabled, set_news_enabled
from bot.platforms.base import Platform
from bot.storage.repositories import PartnerCredentialRepository
from handlers.callbacks import MenuCb
from handlers.partner.callbacks import PartnerCb
from handlers.partner.commands import partner_commands
from handlers.partner.common import (
    Cabinet,
    balance_text,
    base_currency_note,
    cabinet_of,
    chat_id_of,
    listed,
    minimum_text,
    money_text,
    partner_error_text,
    payout_method_lines,
    payout_page_url,
    require_cabinet,
    server_text,
)
from handlers.replies import show

# (feature, screen) in the menu's order; the button texts are in _button_text.
_MENU = (
    (Feature.STATS, "stats"),
    (Feature.CLICKS, "clk"),
    (Feature.REFERRALS, "refs"),
    (Feature.EXCHANGES, "pex"),
    (Feature.PAYOUTS, "pay"),
    (Feature.WITHDRAW, "wd"),
    (Feature.LINK, "link"),
)


def _button_text(screen: str) -> str:
    texts = {
        "stats": _("📊 Statistics"),
        "clk": _("👣 Clicks"),
        "refs": _("👥 Referrals"),
        "pex": _("🔁 Exchanges"),
        "pay": _("💸 Payouts"),
        "wd": _("💰 Withdraw"),
        "link": _("🔗 Referral link"),
    }
    return texts[screen]


def cabinet_menu(info: PlatformInfo, site_url: str = "", news_on: bool | None = None) -> InlineKeyboardMarkup:
    """``news_on``: whether the partner's news notifications are on (None: the platform has none)."""
    served = features(info)
    kb = InlineKeyboardBuilder()
    count = 0
    for feature, screen in _MENU:
        if feature in served:
            kb.button(text=_button_text(screen), callback_data=PartnerCb(screen=screen))
            count += 1
        elif feature is Feature.WITHDRAW and payout_page_url(info, site_url):
            # The platform can't take payout requests through its API, but its site can.
            kb.button(text=_("💰 Withdraw on the site"), url=payout_page_url(info, site_url))
            count += 1
    if news_on is not None:
        kb.button(
            text=_("🔔 Notifications: on") if news_on else _("🔕 Notifications: off"),
            callback_data=PartnerCb(screen="news_off" if news_on else "news_on"),
        )
    kb.button(text=_("🚪 Unlink the key"), callback_data=PartnerCb(screen="logout"))
    kb.button(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main"))
    kb.adjust(*([2] * (count // 2)), *([1] * (count % 2)), *([1] * (news_on is not None)), 1, 1)
    return kb.as_markup()


def commands_line(info: PlatformInfo) -> str:
    commands = [
        f"/{command}" for command, _text in partner_commands(info) if command not in ("partner", "login")
    ]
    return _("Commands: {commands}").format(commands=" ".join(commands))


def summary_lines(summary: PartnerSummary) -> list[str]:
    """The figures the platform gave, and only those."""
    lines = []
    if summary.balance is not None:
        lines.append(_("Balance: <b>{balance}</b>").format(balance=balance_text(summary)))
    if summary.min_payout is not None:
        lines.append(_("Minimum payout: {amount}").format(amount=minimum_text(summary)))
    if summary.reward_percent is not None:
        percent = format_amount(summary.reward_percent, "", exact=True)
        lines.append(_("Reward rate: <b>{percent}%</b>").format(percent=percent))
    if summary.referral_count is not None:
        lines.append(_("Clients referred: <b>{count}</b>").format(count=summary.referral_count))
    if summary.exchanges is not None:
        lines.append(_("Exchanges referred, all time: <b>{count}</b>").format(count=summary.exchanges))
    if summary.completed_exchanges is not None:
        lines.append(_("Completed, all time: <b>{count}</b>").format(count=summary.completed_exchanges))
    if summary.status:
        lines.append(_("Status: {status}").format(status=server_text(summary.status)))
    if summary.earned:
        lines += [
            "",
            _("<b>Earned</b> on completed exchanges, all time (not a balance: payouts are not known):"),
            *listed([f"• {money_text(amount, code)}" for code, amount in summary.earned.items()]),
        ]
    if summary.methods:
        lines += ["", _("<b>Payout currencies</b> (available · commission):"), *payout_method_lines(summary)]
    note = base_currency_note(summary)
    if note:
        lines += ["", note]
    if summary.as_of is not None:
        lines += ["", _("Figures as of {time} UTC.").format(time=utc_minute(summary.as_of))]
    return lines


def render_home(
    info: PlatformInfo,
    linked: LinkedCabinet,
    summary: PartnerSummary | None,
    problem: str | None = None,
    own_link: str | None = None,
) -> str:
    lines = [
        _("🤝 <b>Partner cabinet</b>"),
        _("Key: <code>{label}</code>").format(label=escape(linked.label)),
        _("Partner ID: <b>{partner_id}</b>").format(partner_id=server_text(linked.partner_id)),
    ]
    if own_link:
        lines += [
            _("Your referral link: {link}").format(link=escape(own_link)),
            _(
                "Check that your account on the site shows this link: a wrong partner ID just brings "
                "no exchanges."
            ),
        ]
    if summary is not None:
        lines += summary_lines(summary)
    if problem:
        lines += ["", problem]
    lines += ["", commands_line(info)]
    return "\n".join(lines)


async def open_home(event: Message | CallbackQuery, access: Cabinet) -> None:
    linked = await require_cabinet(event, access)
    if linked is None:
        return
    summary, problem = None, None
    if Feature.SUMMARY in features(access.info):
        try:
            summary = await linked.cabinet.summary()
        except ExchangerError as exc:
            # The menu stays reachable: the other screens may work with this key.
            problem = partner_error_text(exc, access.key_page_url)
    own_link = None
    links = access.platform.links
    if linked.partner_id_typed and links is not None:
        own_link = links.link(linked.partner_id, {}, access.site_url.rstrip("/") + "/")
    await show(
        event,
        render_home(access.info, linked, summary, problem, own_link),
        cabinet_menu(access.info, access.site_url, await _news_on(access, chat_id_of(event))),
    )


async def _news_on(access: Cabinet, chat_id: int) -> bool | None:
    if not access.info.serves(Capability.PARTNER_NEWS):
        return None
    return await news_enabled(access.partner_credentials.db, access.info.name, chat_id)


async def home(
    event: Message | CallbackQuery,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()
    await state.clear()
    await open_home(event, cabinet_of(platform, partner_credentials, locale, site_url))


async def toggle_news(
    callback: CallbackQuery,
    callback_data: PartnerCb,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    """The cabinet's notifications button: on or off for this chat (polling follows it)."""
    if not platform.info.serves(Capability.PARTNER_NEWS):
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    enabled = callback_data.screen == "news_on"
    chat_id = chat_id_of(callback)
    await set_news_enabled(partner_credentials.db, platform.info.name, chat_id, enabled)
    await callback.answer(
        _("🔔 Notifications are on.")
        if enabled
        else _("🔕 Notifications are off. Turn them on again in the cabinet.")
    )
    await state.clear()
    await open_home(callback, cabinet_of(platform, partner_credentials, locale, site_url))


def create_router(info: PlatformInfo) -> Router:
    router = Router(name="partner-cabinet")
    router.callback_query.register(toggle_news, PartnerCb.filter(F.screen.in_({"news_on", "news_off"})))
    router.message.register(home, Command("partner"))
    router.callback_query.register(home, PartnerCb.filter(F.screen == "home"))
    router.callback_query.register(home, MenuCb.filter(F.item == "partner"))
    return router
