"""Linking a partner's API key to a chat, and the cabinet of a linked chat.

The key is a ``SecretStr`` from the moment it arrives and is registered with the log redactor; it is
stored only encrypted (:class:`bot.storage.repositories.PartnerKeyRepository`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pydantic import SecretStr

from bot.exchanger.base import ApiCredentials, ExchangerPlatform, PartnerCabinet
from bot.exchanger.errors import MethodNotSupported
from bot.logs import REDACTOR
from bot.storage.repositories import PartnerKeyRepository

# The read methods the cabinet needs, probed when a key is linked; add_partner_payout can't be probed
# (it is a write), so /withdraw explains it when the site refuses it.
READ_METHODS = ("get_partner_info", "get_partner_links", "get_partner_exchanges", "get_partner_payouts")
PAYOUT_METHOD = "add_partner_payout"
ALL_PARTNER_METHODS = (*READ_METHODS, PAYOUT_METHOD)


class SystemKey(Exception):
    """The key belongs to the exchange's "System" user (user_id 0): it has no partner account."""


class NoPartnerMethods(Exception):
    """The key may not call get_partner_info, so there is no cabinet to show."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__(", ".join(missing))
        self.missing = missing


@dataclass(frozen=True)
class KeyCheck:
    partner_id: str
    missing: tuple[str, ...]  # read methods the key lacks (the cabinet works without them, partly)


def credentials(login: str, key: SecretStr) -> ApiCredentials:
    REDACTOR.add(key.get_secret_value())
    return ApiCredentials(login=login, key=key)


async def check_key(cabinet: PartnerCabinet) -> KeyCheck:
    """Validate a freshly typed key against the exchanger. Raises the exchanger's errors (ApiDisabled
    for a wrong login/key), :class:`SystemKey` or :class:`NoPartnerMethods`."""
    try:
        identity = await cabinet.whoami()
    except MethodNotSupported:
        identity = None  # "test" not ticked: get_partner_info tells us enough
    if identity is not None and identity.is_system_user:
        raise SystemKey
    results = await asyncio.gather(
        cabinet.partner_info(),
        cabinet.partner_clicks(limit=1),
        cabinet.partner_exchanges(limit=1),
        cabinet.partner_payouts(limit=1),
        return_exceptions=True,
    )
    missing = tuple(
        name for name, r in zip(READ_METHODS, results, strict=True) if isinstance(r, MethodNotSupported)
    )
    info = results[0]
    if isinstance(info, MethodNotSupported):
        raise NoPartnerMethods((*missing, PAYOUT_METHOD))
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, MethodNotSupported):
            raise result
    assert not isinstance(info, BaseException)
    return KeyCheck(partner_id=info.partner_id, missing=missing)


@dataclass(frozen=True)
class LinkedCabinet:
    cabinet: ExchangerPlatform
    login: str
    partner_id: str


async def open_cabinet(
    partner_keys: PartnerKeyRepository, exchanger: ExchangerPlatform, chat_id: int
) -> LinkedCabinet | None:
    """The chat's cabinet on the partner's own key, or None when no key is linked."""
    linked = await partner_keys.load(chat_id)
    if linked is None:
        return None
    scoped = exchanger.scoped(credentials=credentials(linked.login, linked.key))
    return LinkedCabinet(scoped, linked.login, str(linked.partner_id or ""))


def partner_id_number(partner_id: str) -> int | None:
    return int(partner_id) if partner_id.isdigit() else None
