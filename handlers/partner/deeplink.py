"""``/start <payload>`` from a partner's bot deep link: credit the customer's chat to the partner.

Registered before the ``start`` router; only payloads shaped like ours come here. After the
attribution (or ignoring a forged payload) the update goes on to the ``start`` router, which greets
as usual.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message

from bot.domain.capabilities import Capability, PlatformInfo
from bot.domain.errors import ExchangerError
from bot.partner.deeplink import CODE_PAYLOAD_PATTERN, PAYLOAD_PATTERN, decode_code_payload, decode_payload
from bot.platforms.base import Platform
from bot.storage.repositories import ChatSettingsRepository, PartnerCredentialRepository

log = logging.getLogger(__name__)


async def start_with_payload(
    message: Message,
    command: CommandObject,
    platform_info: PlatformInfo,
    chat_settings: ChatSettingsRepository,
    partner_credentials: PartnerCredentialRepository,
    link_signing_key: bytes,
) -> None:
    target = decode_payload(link_signing_key, command.args)
    chat_id = message.chat.id
    platform = platform_info.name
    if target is None:
        log.info("chat %s: /start with a payload that is not a genuine partner link: ignored", chat_id)
    elif await partner_credentials.partner_id(chat_id, platform) == target.partner_id:
        log.info("chat %s: partner %s opened their own link: not attributed", chat_id, target.partner_id)
    elif await chat_settings.attribute(chat_id, platform, target.partner_id, target.tag or None):
        log.info("chat %s attributed to partner %s (tag %r)", chat_id, target.partner_id, target.tag)
    raise SkipHandler  # the start router greets


async def start_with_code(
    message: Message,
    command: CommandObject,
    platform: Platform,
    platform_info: PlatformInfo,
    chat_settings: ChatSettingsRepository,
    link_signing_key: bytes,
) -> None:
    """A link an admin made for one of the operator's reference codes: the chat's orders carry it."""
    code = decode_code_payload(link_signing_key, command.args)
    chat_id = message.chat.id
    if code is None:
        log.info("chat %s: /start with a payload that is not a genuine code link: ignored", chat_id)
        raise SkipHandler
    if await chat_settings.get_attribution(chat_id, platform_info.name) is not None:
        raise SkipHandler  # the first attribution wins
    codes = getattr(platform, "codes", None)
    if codes is not None:
        try:
            known = {c.code: c for c in await codes.list()}
        except ExchangerError as exc:
            # The link is ours (signed); attribute anyway rather than lose the customer.
            log.warning("chat %s: reference codes unreadable (%s); attributing to %s", chat_id, exc, code)
        else:
            if code not in known or not known[code].enabled:
                # Orders carrying a disabled or deleted code would all be refused.
                log.info("chat %s: code %s is unknown or disabled: not attributed", chat_id, code)
                raise SkipHandler
    if await chat_settings.attribute(chat_id, platform_info.name, code, None):
        log.info("chat %s attributed to reference code %s", chat_id, code)
    raise SkipHandler  # the start router greets


def create_router(info: PlatformInfo | None = None) -> Router:
    """``info`` is accepted for symmetry with the cabinet's router; deep links made earlier keep
    being honoured whatever the platform serves today."""
    router = Router(name="partner-deeplink")
    router.message.register(
        start_with_payload,
        CommandStart(deep_link=True, magic=F.args.regexp(PAYLOAD_PATTERN)),
        F.chat.type == "private",
    )
    if info is not None and info.serves(Capability.REFERENCE_CODES):
        router.message.register(
            start_with_code,
            CommandStart(deep_link=True, magic=F.args.regexp(CODE_PAYLOAD_PATTERN)),
            F.chat.type == "private",
        )
    return router
