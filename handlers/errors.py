"""Last line of defence: log the failure (secrets redacted) and answer the user politely."""

import logging
from contextlib import suppress

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import ExchangerError
from bot.i18n import language_from_user
from bot.storage.repositories import ChatSettingsRepository
from handlers import keyboards
from handlers.upstream import upstream_error_text

log = logging.getLogger(__name__)


async def on_error(
    event: ErrorEvent, bot: Bot, i18n: I18n, chat_settings: ChatSettingsRepository | None = None
) -> bool:
    update = event.update
    exc = event.exception
    if isinstance(exc, ExchangerError):
        log.warning("update %s: exchanger failed: %s", update.update_id, exc)
    else:
        log.error("update %s failed", update.update_id, exc_info=exc)

    message = update.message or (update.callback_query.message if update.callback_query else None)
    user = (
        update.message.from_user
        if update.message
        else (update.callback_query.from_user if update.callback_query else None)
    )
    locale = None
    if message is not None and chat_settings is not None:
        with suppress(Exception):
            locale = await chat_settings.get_language(message.chat.id)
    locale = locale or language_from_user(user) or i18n.default_locale

    with i18n.context(), i18n.use_locale(locale):
        if isinstance(exc, ExchangerError):
            text = upstream_error_text(exc)
        else:
            text = _("😕 Something went wrong on our side. Please try again, or send /start to begin anew.")
        if update.callback_query is not None:
            # Handlers answer a button before slow work, and a second answer is refused: say it in
            # the chat too, where it is always seen.
            with suppress(TelegramAPIError):
                await update.callback_query.answer(text, show_alert=True)
        if message is not None:
            with suppress(TelegramAPIError):
                await bot.send_message(message.chat.id, text, reply_markup=keyboards.back_to_menu())
    return True


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
