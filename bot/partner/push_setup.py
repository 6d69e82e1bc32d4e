"""Per-partner push registration at /login and its removal at /logout.

Where the platform signs partner events per partner (``WebhookReceiver.per_partner_token``), the
bot has a ``PUBLIC_URL`` and the key may manage webhooks (``Capability.PUSH_WEBHOOK`` not in
``KeyCheck.missing``), /login registers ``{PUBLIC_URL}{receiver.path}/<token>`` through the partner's
key: the token is stored with ``set_push_token`` (it finds the partner when a push comes), the secret
the site returns once and the endpoint id are stored encrypted in the credential's extras. Otherwise
nothing is registered and the partner watcher's polling tells the same news.
"""

from __future__ import annotations

import logging
import secrets

from bot.domain.capabilities import Capability
from bot.domain.errors import ExchangerError
from bot.notifications.pushes import PUSH_SECRET_EXTRA, push_url_for
from bot.platforms.base import KeyCheck, PartnerCabinet, Platform
from bot.storage.repositories import LinkedCredentials, PartnerCredentialRepository

log = logging.getLogger(__name__)

PUSH_ENDPOINT_EXTRA = "webhook_endpoint"


def push_possible(platform: Platform, check: KeyCheck, public_url: str | None) -> bool:
    receiver = platform.webhooks
    return bool(
        public_url
        and receiver is not None
        and receiver.per_partner_token
        and platform.info.serves(Capability.PUSH_WEBHOOK)
        and Capability.PUSH_WEBHOOK not in check.missing
    )


async def register_partner_push(
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    chat_id: int,
    cabinet: PartnerCabinet,
    check: KeyCheck,
    public_url: str | None,
) -> bool:
    """Register the partner's push URL (after the key was saved); False when not possible or the
    site refused (polling covers it then)."""
    if not push_possible(platform, check, public_url):
        return False
    assert platform.webhooks is not None
    token = secrets.token_urlsafe(24)
    url = push_url_for(public_url, platform.webhooks, token)
    if url is None:
        return False
    try:
        registration = await cabinet.register_push(url)
    except ExchangerError as exc:
        log.info("chat %s: push registration refused (%s); polling instead", chat_id, type(exc).__name__)
        return False
    name = platform.info.name
    extra = {
        PUSH_SECRET_EXTRA: registration.secret.get_secret_value(),
        PUSH_ENDPOINT_EXTRA: registration.endpoint_id,
    }
    await partner_credentials.set_extra(chat_id, name, extra)
    await partner_credentials.set_push_token(chat_id, name, token)
    return True


async def unregister_partner_push(platform: Platform, linked: LinkedCredentials | None) -> bool:
    """Remove the partner's registration on the site, best effort (at /logout, or before a key is
    linked again); True when the site removed one."""
    if linked is None or not linked.extra.get(PUSH_ENDPOINT_EXTRA):
        return False
    try:
        cabinet = platform.cabinet(linked.credentials, None)
        return await cabinet.unregister_push(linked.extra[PUSH_ENDPOINT_EXTRA])
    except (ExchangerError, ValueError) as exc:
        log.info("chat %s: push registration not removed (%s)", linked.chat_id, type(exc).__name__)
        return False
