"""Whatever no other handler took: unknown text, and buttons of conversations that are over."""

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.app.config import Settings
from bot.domain.capabilities import PlatformInfo
from handlers import keyboards


async def unknown_message(
    message: Message, platform_info: PlatformInfo, site_url: str, settings: Settings
) -> None:
    await message.answer(
        _("I did not understand that. Please use the buttons, or send /help."),
        reply_markup=keyboards.main_menu(platform_info, site_url, settings.support_contact),
    )


async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))


def create_router() -> Router:
    router = Router(name="fallback")
    router.message.register(unknown_message)
    router.callback_query.register(stale_button)
    return router
