"""Linking a partner's key to a chat, and the cabinet of a linked chat.

What a partner types is the platform's named credential fields (``PlatformInfo.credential_fields``).
A secret value is registered with the log redactor as soon as it is shaped like one, kept only sealed
with the bot's SecretBox between the steps of /login, and stored only encrypted
(:class:`bot.storage.PartnerCredentialRepository`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.capabilities import CredentialField
from bot.logs import REDACTOR
from bot.platforms.base import PartnerCabinet, Platform

if TYPE_CHECKING:
    from bot.storage.crypto import SecretBox
    from bot.storage.repositories import PartnerCredentialRepository

log = logging.getLogger(__name__)

__all__ = [
    "InputProblem",
    "LinkedCabinet",
    "check_input",
    "open_cabinet",
    "seal_values",
    "unseal_values",
]


class InputProblem(StrEnum):
    EMPTY = "empty"
    CHARACTERS = "characters"  # not printable ASCII: can't travel in an HTTP header
    SHAPE = "shape"  # the field's pattern refuses it


def check_input(field: CredentialField, raw: str) -> tuple[str, InputProblem | None]:
    """The value of ``field`` as typed (trimmed) and what is wrong with it, if anything.

    A secret value the field accepts is registered with the log redactor here, before anything could
    log it. Only an accepted one: otherwise anybody could fill the redactor, or mask ordinary words in
    every log line, by typing them at this step."""
    value = (raw or "").strip()
    if not value:
        return value, InputProblem.EMPTY
    if not (value.isascii() and value.isprintable()):
        return value, InputProblem.CHARACTERS
    if not field.accepts(value):
        return value, InputProblem.SHAPE
    if field.secret:
        REDACTOR.add(value)
    return value, None


# -- the values typed so far, between the steps of /login (FSM data is plain JSON) ------------------


def _aad(chat_id: int, platform: str) -> bytes:
    return f"partner-login:{platform}:{chat_id}".encode()


def seal_values(box: SecretBox, chat_id: int, platform: str, values: dict[str, str]) -> str:
    return box.seal(json.dumps(values, separators=(",", ":")), aad=_aad(chat_id, platform))


def unseal_values(box: SecretBox, chat_id: int, platform: str, sealed: object) -> dict[str, str] | None:
    """The values sealed by :func:`seal_values`; None when missing or not ours (start again)."""
    from bot.storage.crypto import DecryptionError

    if not sealed:
        return {}
    try:
        values = json.loads(box.unseal(str(sealed), aad=_aad(chat_id, platform)))
    except (DecryptionError, ValueError):
        return None
    if not isinstance(values, dict):
        return None
    return {str(k): str(v) for k, v in values.items()}


# -- the linked cabinet ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedCabinet:
    cabinet: PartnerCabinet
    label: str  # what the partner recognises the key by (never a secret)
    partner_id: str
    # The partner typed their partner ID at /login (the platform can't tell it): worth checking.
    partner_id_typed: bool = False


async def open_cabinet(
    partner_credentials: PartnerCredentialRepository, platform: Platform, chat_id: int, locale: str | None
) -> LinkedCabinet | None:
    """The chat's cabinet on the partner's own key, or None when no key is linked."""
    linked = await partner_credentials.load(chat_id, platform.info.name)
    if linked is None:
        return None
    credentials = linked.credentials
    for field in platform.info.credential_fields:
        if field.secret:
            REDACTOR.add(credentials.get(field.name))
    try:
        cabinet = platform.cabinet(credentials, locale)
    except ValueError:
        # Stored by a version that named the fields otherwise: the partner links the key again.
        log.warning("chat %s: the linked partner key no longer fits the platform's fields", chat_id)
        return None
    return LinkedCabinet(
        cabinet=cabinet,
        label=credentials.label,
        partner_id=str(linked.partner_id or ""),
        partner_id_typed=bool(linked.partner_id)
        and any(
            not field.secret and credentials.get(field.name) == linked.partner_id
            for field in platform.info.credential_fields
        ),
    )
