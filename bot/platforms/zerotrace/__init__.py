"""0trace Partner API (an instant crypto exchange, https://0trace.io), behind the neutral interface.

Modules: info (INFO), adapter (ZeroTracePlatform), customer, placement (Idempotency-Key, the one-time
token), webhooks (the signed push receiver), mapping (wire shapes → neutral models), statuses, networks
(address shapes), texts (form words), and the wire level: client, signing, errors, budget.
``sandbox/`` is the embedded look-alike server.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.logs import REDACTOR
from bot.platforms.registry import PlatformConfig, PlatformConfigError
from bot.platforms.zerotrace.info import INFO, NAME, WEBHOOK_PATH

if TYPE_CHECKING:
    from bot.platforms.zerotrace.adapter import ZeroTracePlatform

__all__ = ["INFO", "check_config", "open_platform"]

log = logging.getLogger(__name__)


def _blank(value: SecretStr | None) -> bool:
    return value is None or not value.get_secret_value().strip()


def check_config(config: PlatformConfig) -> None:
    """A real 0trace needs the API key and secret, and the webhook secret once PUBLIC_URL asks 0trace
    to push; the sandbox needs nothing."""
    if config.site_url is None:
        return
    if _blank(config.api_key):
        raise PlatformConfigError(f"EXCHANGER_API_KEY is required for {NAME} when EXCHANGER_URL is set")
    if _blank(config.api_secret):
        raise PlatformConfigError(f"EXCHANGER_API_SECRET is required for {NAME} when EXCHANGER_URL is set")
    if config.public_url and _blank(config.webhook_secret):
        raise PlatformConfigError(
            f"EXCHANGER_WEBHOOK_SECRET is required for {NAME} when PUBLIC_URL is set (webhooks at "
            f"{WEBHOOK_PATH})"
        )


async def open_platform(config: PlatformConfig, stack: AsyncExitStack) -> ZeroTracePlatform:
    """The adapter on ``config.site_url``, or on an embedded sandbox (started here, stopped by
    ``stack``) with its demo keys, pushing to ``PUBLIC_URL/webhooks/0trace`` when that is set."""
    from bot.platforms.zerotrace.adapter import ZeroTracePlatform
    from bot.platforms.zerotrace.client import ZeroTraceClient

    check_config(config)
    sandbox = None
    if config.site_url is None:
        from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
        from bot.platforms.zerotrace.sandbox.keys import DEMO

        webhook_url = config.public_url.rstrip("/") + WEBHOOK_PATH if config.public_url else None
        sandbox = ZeroTraceSandbox(step_seconds=config.sandbox_step_seconds, webhook_url=webhook_url)
        url = await sandbox.start("127.0.0.1", 0)
        stack.push_async_callback(sandbox.stop)
        key, secret = SecretStr(DEMO.key), SecretStr(DEMO.secret)
        webhook_secret: SecretStr | None = SecretStr(DEMO.webhook_secret)
        log.info("EXCHANGER_URL is not set: using the embedded 0trace sandbox at %s", url)
    else:
        assert config.api_key is not None and config.api_secret is not None  # check_config
        url, key, secret = config.site_url, config.api_key, config.api_secret
        webhook_secret = config.webhook_secret
        for value in (key, secret, webhook_secret):
            if value is not None:
                REDACTOR.add(value.get_secret_value())
    client = ZeroTraceClient(url, key, secret, observer=config.observer)
    stack.push_async_callback(client.aclose)
    return ZeroTracePlatform(client, webhook_secret=webhook_secret, sandbox=sandbox)
