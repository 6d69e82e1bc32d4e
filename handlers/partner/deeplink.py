"""``/start <payload>`` from a partner's bot deep link: credit the customer's chat to the partner.

Registered before the ``start`` router; only payloads shaped like ours (``r<digits>…``) come here, and
after the attribution (or ignoring a forged payload) the usual greeting follows.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.partner.attribution import own_partner_id
from bot.partner.deeplink import decode_payload
from bot.services import Services
from bot.storage.repositories import ChatSettingsRepository
from handlers import start

log = logging.getLogger(__name__)


async def start_with_payload(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    services: Services,
    chat_settings: ChatSettingsRepository,
) -> None:
    target = decode_payload(services.signing_key, command.args)
    chat_id = message.chat.id
    if target is None:
        log.info("chat %s: /start with a payload that is not a genuine partner link: ignored", chat_id)
    elif await own_partner_id(services.db, chat_id) == target.partner_id:
        log.info("chat %s: partner %s opened their own link: not attributed", chat_id, target.partner_id)
    elif await chat_settings.attribute(chat_id, target.partner_id, target.tag or None):
        log.info("chat %s attributed to partner %s (tag %r)", chat_id, target.partner_id, target.tag)
    await start.start(message, state)


def create_router() -> Router:
    router = Router(name="partner-deeplink")
    router.message.register(
        start_with_payload,
        CommandStart(deep_link=True, magic=F.args.regexp(r"^r[0-9]")),
        F.chat.type == "private",
    )
    return router
