"""iEXExchanger API v3 (the partner part), behind the neutral interface.

Wire level (a general v3 client; the customer part becomes one more module beside ``partner``):
transport (Bearer, HMAC signing, retries, rate limits), signing, envelope (errors), ratelimit, paging
(page and cursor modes), wire (tolerant parsing), models (site shapes), client (``IexClient``), partner,
webhooks_api. Adapter level: info (INFO), adapter (``IexPlatform``), cabinet (``IexCabinet``), mapping,
receiver (``IexWebhookReceiver``), scopes, errors. ``sandbox/`` is the embedded look-alike server.

Errors defined here, each a subclass of a neutral one: ``SignatureRequired`` (the neutral
:class:`bot.domain.errors.SignatureRequired`: ask for ``HMAC_SECRET_FIELD``, an optional credential
field), ``SignatureRejected`` and ``ApiAccessDisabled`` (``CredentialsRejected``), ``QuotaExhausted``
(``RateLimited``, ``retry_after`` may be hours: tell the partner), ``StatsRangeUnsupported``
(``ValidationFailed``: the install takes day/week/month only).
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from bot.platforms.iexexchanger.errors import (
    ApiAccessDisabled,
    QuotaExhausted,
    SignatureRejected,
    SignatureRequired,
    StatsRangeUnsupported,
)
from bot.platforms.iexexchanger.info import HMAC_SECRET_FIELD, INFO, NAME, TOKEN_FIELD
from bot.platforms.registry import PlatformConfig, PlatformConfigError

if TYPE_CHECKING:
    from bot.platforms.iexexchanger.adapter import IexPlatform

__all__ = [
    "HMAC_SECRET_FIELD",
    "INFO",
    "TOKEN_FIELD",
    "ApiAccessDisabled",
    "QuotaExhausted",
    "SignatureRejected",
    "SignatureRequired",
    "StatsRangeUnsupported",
    "check_config",
    "open_platform",
]

log = logging.getLogger(__name__)


def check_config(config: PlatformConfig) -> None:
    """Nothing but the site is needed: partners link their own keys, and each webhook endpoint gets its
    secret from the API. EXCHANGER_URL must be an http(s) URL when set."""
    if config.site_url is None:
        return
    url = config.site_url.strip()
    if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
        raise PlatformConfigError(f"EXCHANGER_URL must be the exchanger's http(s) address for {NAME}")


async def open_platform(config: PlatformConfig, stack: AsyncExitStack) -> IexPlatform:
    """The adapter on ``config.site_url``, or on an embedded sandbox (started here, stopped by
    ``stack``) when no site is configured; the sandbox's demo tokens are logged."""
    from bot.platforms.iexexchanger.adapter import IexPlatform
    from bot.platforms.iexexchanger.client import IexClient

    check_config(config)
    sandbox = None
    if config.site_url is None:
        from bot.platforms.iexexchanger.sandbox import IexSandbox
        from bot.platforms.iexexchanger.sandbox.keys import describe_keys

        sandbox = IexSandbox()
        url = await sandbox.start("127.0.0.1", 0)
        stack.push_async_callback(sandbox.stop)
        log.info("EXCHANGER_URL is not set: using the embedded iEXExchanger sandbox at %s", url)
        for line in describe_keys(sandbox.keys.values()):
            log.info("sandbox demo key: %s", line)
    else:
        url = config.site_url
    client = IexClient(url, observer=config.observer)
    stack.push_async_callback(client.aclose)
    return IexPlatform(client, sandbox=sandbox)
