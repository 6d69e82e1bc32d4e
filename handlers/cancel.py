"""/cancel and every Cancel button: leave whatever conversation the chat is in."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.app.config import Settings
from bot.domain.capabilities import PlatformInfo
from bot.exchange.field_memory import FieldMemory
from handlers import keyboards
from handlers.callbacks import NavCb
from handlers.exchange import discard
from handlers.exchange.steps import leave_contact_keyboard
from handlers.replies import show


async def cancel_command(
    message: Message,
    state: FSMContext,
    platform_info: PlatformInfo,
    site_url: str,
    settings: Settings,
    field_memory: FieldMemory,
) -> None:
    if draft := await discard.unsaved_form(state, field_memory, message.chat.id):
        await message.answer(discard.question(), reply_markup=discard.keyboard(draft))
        return
    if await state.get_state() is None:
        text = _("There is nothing to cancel. Here is the main menu:")
    else:
        text = _("Cancelled. Here is the main menu:")
    if message.bot is not None:
        await leave_contact_keyboard(message.bot, message.chat.id, state)
    await state.clear()
    menu = keyboards.main_menu(platform_info, site_url, settings.support_contact)
    await message.answer(text, reply_markup=menu)


async def cancel_button(
    callback: CallbackQuery,
    state: FSMContext,
    platform_info: PlatformInfo,
    site_url: str,
    settings: Settings,
    field_memory: FieldMemory,
) -> None:
    chat = callback.message.chat.id if callback.message is not None else None
    if chat is not None and (draft := await discard.unsaved_form(state, field_memory, chat)):
        await callback.answer()
        await show(callback, discard.question(), discard.keyboard(draft))
        return
    await discard_button(callback, state, platform_info, site_url, settings)


async def discard_button(
    callback: CallbackQuery, state: FSMContext, platform_info: PlatformInfo, site_url: str, settings: Settings
) -> None:
    """Cancel, the customer having said yes to losing the form."""
    await callback.answer(_("Cancelled"))
    if callback.bot is not None and callback.message is not None:
        await leave_contact_keyboard(callback.bot, callback.message.chat.id, state)
    await state.clear()
    menu = keyboards.main_menu(platform_info, site_url, settings.support_contact)
    await show(callback, _("Cancelled. Here is the main menu:"), menu)


def create_router() -> Router:
    router = Router(name="cancel")
    router.message.register(cancel_command, Command("cancel"))
    router.callback_query.register(cancel_button, NavCb.filter(F.action == "cancel"))
    router.callback_query.register(discard_button, NavCb.filter(F.action == discard.DISCARD))
    return router
