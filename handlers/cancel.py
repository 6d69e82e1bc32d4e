"""/cancel and every Cancel button: leave whatever conversation the chat is in."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.capabilities import PlatformInfo
from handlers import keyboards
from handlers.callbacks import NavCb
from handlers.replies import show


async def cancel_command(
    message: Message, state: FSMContext, platform_info: PlatformInfo, site_url: str
) -> None:
    if await state.get_state() is None:
        text = _("There is nothing to cancel. Here is the main menu:")
    else:
        text = _("Cancelled. Here is the main menu:")
    await state.clear()
    await message.answer(text, reply_markup=keyboards.main_menu(platform_info, site_url))


async def cancel_button(
    callback: CallbackQuery, state: FSMContext, platform_info: PlatformInfo, site_url: str
) -> None:
    await callback.answer(_("Cancelled"))
    await state.clear()
    await show(callback, _("Cancelled. Here is the main menu:"), keyboards.main_menu(platform_info, site_url))


def create_router() -> Router:
    router = Router(name="cancel")
    router.message.register(cancel_command, Command("cancel"))
    router.callback_query.register(cancel_button, NavCb.filter(F.action == "cancel"))
    return router
