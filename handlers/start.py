"""/start, /help and the main menu, offering only what the platform serves."""

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.app.config import Settings
from bot.domain.capabilities import PlatformInfo
from handlers import keyboards
from handlers.callbacks import MenuCb
from handlers.commands import help_commands
from handlers.exchange.steps import leave_contact_keyboard
from handlers.partner.commands import partner_greeting
from handlers.replies import show


def greeting(first_name: str | None, info: PlatformInfo, site_url: str) -> str:
    name = escape(first_name or "")
    if info.has_customer_flow:
        return _(
            "👋 Hello, {name}!\n\n"
            "I am the exchange service's assistant. Here you can exchange currencies at a live rate, "
            "pay and follow your orders, and get a message whenever an order's status changes.\n\n"
            "Choose what you want to do:"
        ).format(name=name)
    return "\n\n".join(
        [
            _("👋 Hello, {name}!").format(name=name),
            partner_greeting(info),
            _("To exchange currencies, use the exchange's site: {site}").format(site=escape(site_url)),
            _("Choose what you want to do:"),
        ]
    )


def help_text(info: PlatformInfo, site_url: str, support: str | None = None) -> str:
    lines = [_("<b>How to use this bot</b>\n\nPress the buttons under my messages, or type a command:")]
    lines += [f"/{command}: {escape(_(description))}" for command, description in help_commands(info)]
    if not info.has_customer_flow:
        lines += [
            "",
            _("To exchange currencies, use the exchange's site: {site}").format(site=escape(site_url)),
        ]
    if support:
        contact = escape(support)
        lines += [
            "",
            _("Questions about an order? The exchange's support: {contact}").format(contact=contact),
        ]
    lines += ["", _("If a button stops working, send /start to get a fresh menu.")]
    return "\n".join(lines)


async def start(
    message: Message, state: FSMContext, platform_info: PlatformInfo, site_url: str, settings: Settings
) -> None:
    if message.bot is not None:
        await leave_contact_keyboard(message.bot, message.chat.id, state)
    await state.clear()
    first_name = message.from_user.first_name if message.from_user else None
    await message.answer(
        greeting(first_name, platform_info, site_url),
        reply_markup=keyboards.main_menu(platform_info, site_url, settings.support_contact),
    )


async def main_menu(
    callback: CallbackQuery, state: FSMContext, platform_info: PlatformInfo, site_url: str, settings: Settings
) -> None:
    await callback.answer()
    if callback.bot is not None and callback.message is not None:
        await leave_contact_keyboard(callback.bot, callback.message.chat.id, state)
    await state.clear()
    text = greeting(callback.from_user.first_name, platform_info, site_url)
    await show(callback, text, keyboards.main_menu(platform_info, site_url, settings.support_contact))


async def help_command(
    message: Message, platform_info: PlatformInfo, site_url: str, settings: Settings
) -> None:
    support = settings.support_contact
    await message.answer(
        help_text(platform_info, site_url, support), reply_markup=keyboards.back_to_menu(support)
    )


async def help_button(
    callback: CallbackQuery, platform_info: PlatformInfo, site_url: str, settings: Settings
) -> None:
    await callback.answer()
    support = settings.support_contact
    await show(callback, help_text(platform_info, site_url, support), keyboards.back_to_menu(support))


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.callback_query.register(main_menu, MenuCb.filter(F.item == "main"))
    router.message.register(help_command, Command("help"))
    router.callback_query.register(help_button, MenuCb.filter(F.item == "help"))
    return router
