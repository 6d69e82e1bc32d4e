"""``EXCHANGER_PLATFORM`` → the platform's adapter package.

A platform package (``bot/platforms/<name>/__init__.py``) exports:

- ``INFO``: its :class:`~bot.domain.capabilities.PlatformInfo`;
- ``check_config(config)``: raises :class:`PlatformConfigError` naming the variable that is missing or
  malformed (never its value);
- ``open_platform(config, stack)``: the adapter root (a :class:`~bot.platforms.base.Platform`), with its
  embedded sandbox started first when ``config.site_url`` is None; whatever must be closed is pushed
  onto ``stack``.

Packages are imported on first use, so a deployment loads only its own platform.
"""

from __future__ import annotations

import importlib
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:
    from bot.domain.capabilities import PlatformInfo
    from bot.observability.exchanger import ExchangerObserver
    from bot.platforms.base import Platform

__all__ = [
    "PLATFORMS",
    "PlatformConfig",
    "PlatformConfigError",
    "UnknownPlatform",
    "module_of",
    "open_platform",
    "platform_info",
]

# EXCHANGER_PLATFORM value → package
PLATFORMS: dict[str, str] = {
    "premiumexchanger": "bot.platforms.premiumexchanger",
    "larascript": "bot.platforms.larascript",
    "iexexchanger": "bot.platforms.iexexchanger",
    "0trace": "bot.platforms.zerotrace",
}


class UnknownPlatform(ValueError):
    pass


class PlatformConfigError(ValueError):
    """One line naming the variable, e.g. "EXCHANGER_API_KEY is required for premiumexchanger"."""


@dataclass(frozen=True)
class PlatformConfig:
    """The exchanger part of the settings, as every adapter sees it."""

    name: str
    site_url: str | None  # None: start the platform's embedded sandbox
    api_login: str | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    public_url: str | None = None
    sandbox_step_seconds: float | None = 10.0
    # Where the adapter reports its HTTP calls and errors (bot.observability); None: nowhere.
    observer: ExchangerObserver | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return f"PlatformConfig({self.name!r}, site_url={self.site_url!r})"


def module_of(name: str) -> ModuleType:
    try:
        return importlib.import_module(PLATFORMS[name])
    except KeyError:
        raise UnknownPlatform(name) from None


def platform_info(name: str) -> PlatformInfo:
    return module_of(name).INFO


async def open_platform(config: PlatformConfig, stack: AsyncExitStack) -> Platform:
    module = module_of(config.name)
    module.check_config(config)
    return await module.open_platform(config, stack)
