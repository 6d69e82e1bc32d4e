"""/language: the chat's language, stored per chat."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import LANGUAGE_NAMES
from bot.storage.repositories import ChatSettingsRepository
from handlers import keyboards
from handlers.callbacks import LanguageCb, MenuCb
from handlers.replies import show


def _prompt() -> str:
    return _("🌐 Choose the language I speak with you:")


async def language_command(message: Message, locale: str) -> None:
    await message.answer(_prompt(), reply_markup=keyboards.languages(locale))


async def language_button(callback: CallbackQuery, locale: str) -> None:
    await callback.answer()
    await show(callback, _prompt(), keyboards.languages(locale))


async def choose_language(
    callback: CallbackQuery, callback_data: LanguageCb, chat_settings: ChatSettingsRepository, i18n: I18n
) -> None:
    code = callback_data.code
    if code not in LANGUAGE_NAMES or code not in i18n.available_locales:
        await callback.answer(_("This language is not available."), show_alert=True)
        return
    if callback.message is None:
        await callback.answer()
        return
    await chat_settings.set_language(callback.message.chat.id, code)
    with i18n.use_locale(code):
        await callback.answer(_("Language: {language}").format(language=LANGUAGE_NAMES[code]))
        text = _("✅ From now on I speak {language}.").format(language=LANGUAGE_NAMES[code])
        await show(callback, text, keyboards.back_to_menu())


def create_router() -> Router:
    router = Router(name="language")
    router.message.register(language_command, Command("language"))
    router.callback_query.register(language_button, MenuCb.filter(F.item == "language"))
    router.callback_query.register(choose_language, LanguageCb.filter())
    return router
