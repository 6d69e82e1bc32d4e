"""PremiumExchanger (the ``premiumbox`` WordPress plugin) User API v1, behind the neutral interface.

Modules: info (INFO, API-LANG), adapter (PremiumExchangerPlatform), customer, placement, feed, cabinet,
links, mapping (site shapes → neutral models), statuses (status codes → phases), and the wire level:
client, transport, wire, paging, models. ``sandbox/`` is the embedded look-alike server.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.logs import REDACTOR
from bot.platforms.premiumexchanger.info import INFO, NAME
from bot.platforms.registry import PlatformConfig, PlatformConfigError

if TYPE_CHECKING:
    from bot.platforms.premiumexchanger.adapter import PremiumExchangerPlatform

__all__ = ["INFO", "check_config", "open_platform"]

log = logging.getLogger(__name__)


def check_config(config: PlatformConfig) -> None:
    """A real site needs the bot's API login and key; the sandbox needs nothing."""
    if config.site_url is None:
        return
    if not (config.api_login or "").strip():
        raise PlatformConfigError(f"EXCHANGER_API_LOGIN is required for {NAME} when EXCHANGER_URL is set")
    if config.api_key is None or not config.api_key.get_secret_value().strip():
        raise PlatformConfigError(f"EXCHANGER_API_KEY is required for {NAME} when EXCHANGER_URL is set")


async def open_platform(config: PlatformConfig, stack: AsyncExitStack) -> PremiumExchangerPlatform:
    """The adapter on ``config.site_url``, or on an embedded sandbox (started here, stopped by
    ``stack``) with its demo key when no site is configured."""
    from bot.platforms.premiumexchanger.adapter import PremiumExchangerPlatform
    from bot.platforms.premiumexchanger.client import PremiumExchangerClient
    from bot.platforms.premiumexchanger.models import ApiCredentials

    check_config(config)
    sandbox = None
    if config.site_url is None:
        from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
        from bot.platforms.premiumexchanger.sandbox.keys import DEMO

        sandbox = SandboxExchanger(step_seconds=config.sandbox_step_seconds)
        url = await sandbox.start("127.0.0.1", 0)
        stack.push_async_callback(sandbox.stop)
        credentials = ApiCredentials(login=DEMO.login, key=SecretStr(DEMO.key))
        log.info("EXCHANGER_URL is not set: using the embedded sandbox exchanger at %s", url)
    else:
        assert config.api_login and config.api_key  # check_config
        url = config.site_url
        credentials = ApiCredentials(login=config.api_login.strip(), key=config.api_key)
        REDACTOR.add(config.api_key.get_secret_value())
    client = PremiumExchangerClient(url, credentials, observer=config.observer)
    stack.push_async_callback(client.aclose)
    return PremiumExchangerPlatform(client, sandbox=sandbox)
