"""The one Dispatcher, used by Telegram polling, the terminal chat and the tests alike.

Its routers and command menu follow the platform's capabilities: a platform without a customer flow
has no /exchange or /orders (nor their buttons), one without a partner cabinet no /partner."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.app.wiring import Services, dependencies
from bot.domain.capabilities import PlatformInfo
from bot.i18n import ChatLanguageMiddleware
from bot.notifications.statuses import OrderStatusService
from bot.observability import FeedbackPolicy, UpdateObserver
from bot.storage.fsm import SQLiteStorage
from handlers.chat_member import chat_is_back
from handlers.commands import menu_commands

log = logging.getLogger(__name__)

BOT_DEFAULTS = DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True)


def commands_for(info: PlatformInfo) -> list[tuple[str, str]]:
    """The command menu, (command, msgid of its description): only what this platform serves."""
    return menu_commands(info)


def _orders_are_private() -> str:
    return _(
        "🔒 Exchanges and orders work only in a private chat with me, so your details stay private. "
        "Open it and send the command there."
    )


def get_routers(info: PlatformInfo) -> list[Router]:
    """One Router per feature, in the order updates are offered to them. Each is built afresh, so
    several Dispatchers can live in one process (the tests, a restart in place)."""
    from handlers import (
        admin,
        admin_panel,
        cancel,
        chat_member,
        errors,
        exchange,
        fallback,
        language,
        orders,
        partner,
        start,
    )
    from handlers.partner import deeplink as partner_deeplink
    from handlers.private_only import private_only

    # cancel first so /cancel wins in any conversation state; the exchange conversation before the
    # partner cabinet (it carries most of the traffic); fallback last.
    routers = [
        errors.create_router(),
        chat_member.create_router(),
        cancel.create_router(),
        partner_deeplink.create_router(info),
        start.create_router(),
        language.create_router(),
    ]
    # The operator's commands before the customers' (its conversation states are its own).
    routers.append(admin_panel.create_router())
    if (admin_router := admin.create_router(info)) is not None:
        routers.append(admin_router)
    if info.has_customer_flow:
        routers.append(
            private_only(
                "customers",
                [exchange.create_router(), orders.create_router()],
                commands=("exchange", "orders"),
                callback_data=r"^(x:|o:|m:(exchange|orders)$)",
                explanation=_orders_are_private,
            )
        )
    routers += [partner.create_router(info), fallback.create_router()]
    return routers


def build_dispatcher(
    services: Services, storage: BaseStorage | None = None, *, feedback: FeedbackPolicy | None = None
) -> Dispatcher:
    """``feedback``: the exchanger deadline per update and when "typing…" shows (the defaults when None)."""
    dp = Dispatcher(
        storage=storage or SQLiteStorage(services.db),
        events_isolation=SimpleEventIsolation(),
    )
    dp.workflow_data.update(_dependencies(services))
    # After aiogram's own update middlewares (event_chat is known), before everything else.
    dp.update.outer_middleware(UpdateObserver(services.metrics, feedback))
    ChatLanguageMiddleware(services.i18n).setup(dp)
    dp.message.outer_middleware(chat_is_back)
    dp.callback_query.outer_middleware(chat_is_back)
    dp.include_routers(*get_routers(services.platform_info))
    return dp


def _dependencies(services: Services) -> dict[str, Any]:
    return {
        **dependencies(services),
        # Replaced by the running notifications' instance (bot.app.cli), so all observations share one.
        "order_statuses": OrderStatusService(services),
    }


def admin_commands_for(info: PlatformInfo) -> list[tuple[str, str]]:
    """The menu of the operator's accounts (ADMIN_IDS): everyone's, then the admin commands."""
    from handlers import admin, admin_panel

    extra = list(admin_panel.COMMANDS) + (list(admin.COMMANDS) if admin.serves_admins(info) else [])
    return commands_for(info) + extra


async def set_commands(
    bot: Bot, i18n: I18n, info: PlatformInfo, admin_ids: frozenset[int] = frozenset()
) -> None:
    """The command menu in every language we speak; the default scope gets DEFAULT_LANGUAGE. Each
    admin's private chat gets the admin commands too (nobody else sees them)."""
    for locale in (None, *i18n.available_locales):
        commands = [
            BotCommand(command=name, description=i18n.gettext(text, locale=locale or i18n.default_locale))
            for name, text in commands_for(info)
        ]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=locale)
    admin_menu = admin_commands_for(info)
    if len(admin_menu) == len(commands_for(info)):
        return
    for user_id in sorted(admin_ids):
        for locale in (None, *i18n.available_locales):
            commands = [
                BotCommand(command=name, description=i18n.gettext(text, locale=locale or i18n.default_locale))
                for name, text in admin_menu
            ]
            try:
                scope = BotCommandScopeChat(chat_id=user_id)
                await bot.set_my_commands(commands, scope=scope, language_code=locale)
            except TelegramAPIError as exc:
                # Telegram knows the chat only once the admin has opened the bot.
                log.warning("admin %s: command menu not set (%s)", user_id, type(exc).__name__)
                break
