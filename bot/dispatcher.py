"""The one Dispatcher, used by Telegram polling, the terminal chat and the tests alike."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.utils.i18n import I18n

from bot.i18n import N_, ChatLanguageMiddleware
from bot.notifications.statuses import OrderStatusService
from bot.services import Services
from bot.storage.fsm import SQLiteStorage
from handlers import get_routers
from handlers.chat_member import chat_is_back

BOT_DEFAULTS = DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True)

COMMANDS = (
    ("start", N_("Main menu")),
    ("exchange", N_("Exchange currencies")),
    ("orders", N_("My orders")),
    ("partner", N_("Partner cabinet")),
    ("help", N_("How to use this bot")),
    ("language", N_("Change the language")),
    ("cancel", N_("Cancel the current action")),
)


def build_dispatcher(services: Services, storage: BaseStorage | None = None) -> Dispatcher:
    dp = Dispatcher(
        storage=storage or SQLiteStorage(services.db),
        events_isolation=SimpleEventIsolation(),
    )
    dp.workflow_data.update(_dependencies(services))
    ChatLanguageMiddleware(services.i18n).setup(dp)
    dp.message.outer_middleware(chat_is_back)
    dp.callback_query.outer_middleware(chat_is_back)
    dp.include_routers(*get_routers())
    return dp


def _dependencies(services: Services) -> dict[str, Any]:
    return {
        "services": services,
        "i18n": services.i18n,
        "settings": services.settings,
        "exchanger_base": services.exchanger,
        "chat_settings": services.chat_settings,
        "partner_keys": services.partner_keys,
        "bids": services.bids,
        "catalogue": services.catalogue,
        "field_memory": services.field_memory,
        "order_placer": services.order_placer,
        # Replaced by the running notifications' instance (bot.cli), so all observations share one.
        "order_statuses": OrderStatusService(services),
    }


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu in every language we speak; the default scope gets DEFAULT_LANGUAGE."""
    for locale in (None, *i18n.available_locales):
        commands = [
            BotCommand(command=name, description=i18n.gettext(text, locale=locale or i18n.default_locale))
            for name, text in COMMANDS
        ]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=locale)
