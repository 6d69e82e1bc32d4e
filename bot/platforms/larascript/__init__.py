"""Lara-script exchangers: the partner cabinet on ``GET /api/v1/partner/referral-exchanges``.

Modules: info (INFO), adapter (LaraPlatform), cabinet, credentials (key + rid or referral link), links,
mapping (rows → neutral models), cache (the page cache), walk (safe paging), transport (HTTP, errors,
retries), wire (tolerant parsing). ``sandbox/`` is the embedded look-alike server. ``push`` finds
the completions to tell partners about (a poller the core can run).
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.platforms.larascript.info import INFO, NAME
from bot.platforms.registry import PlatformConfig, PlatformConfigError

if TYPE_CHECKING:
    from bot.platforms.larascript.adapter import LaraPlatform

__all__ = ["INFO", "check_config", "open_platform"]

log = logging.getLogger(__name__)


def check_config(config: PlatformConfig) -> None:
    """Only the site's address: the bot has no key of its own on Lara (partners link theirs)."""
    if config.site_url is None:
        return
    parts = urlsplit(config.site_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PlatformConfigError(f"EXCHANGER_URL must be an http(s) address of the {NAME} site")


async def open_platform(config: PlatformConfig, stack: AsyncExitStack) -> LaraPlatform:
    """The adapter on ``config.site_url``, or on an embedded sandbox (started here, stopped by
    ``stack``) with its demo partner keys when no site is configured."""
    from bot.platforms.larascript.adapter import LaraPlatform
    from bot.platforms.larascript.cache import PageCache
    from bot.platforms.larascript.transport import Transport

    check_config(config)
    sandbox = None
    if config.site_url is None:
        from bot.platforms.larascript.sandbox import LaraSandbox

        sandbox = LaraSandbox(step_seconds=config.sandbox_step_seconds)
        url = await sandbox.start("127.0.0.1", 0)
        stack.push_async_callback(sandbox.stop)
        log.info("EXCHANGER_URL is not set: using the embedded Lara-script sandbox at %s", url)
        for demo in sandbox.keys.values():
            log.info("  demo partner key %s  rid %s  (%s)", demo.key, demo.rid, demo.note)
    else:
        url = config.site_url.strip()
    transport = Transport(url, observer=config.observer)
    stack.push_async_callback(transport.aclose)
    return LaraPlatform(PageCache(transport), sandbox=sandbox)
