"""Shared set-up of the iEXExchanger adapter tests: the sandbox on loopback and the adapter on it.
Import ``sb_fixture`` and ``platform_fixture`` to get the fixtures ``sb`` and ``platform``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.platforms.iexexchanger.adapter import IexPlatform
from bot.platforms.iexexchanger.cabinet import IexCabinet
from bot.platforms.iexexchanger.client import IexClient
from bot.platforms.iexexchanger.sandbox import IexSandbox
from bot.platforms.iexexchanger.sandbox.keys import KEYS

DAY = 86400


@pytest.fixture(name="sb")
async def sb_fixture() -> AsyncIterator[IexSandbox]:
    sandbox = IexSandbox()
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture(name="platform")
async def platform_fixture(sb: IexSandbox) -> AsyncIterator[IexPlatform]:
    client = IexClient(sb.url, retries=2, backoff=0.01, max_rate_wait=3.0)
    adapter = IexPlatform(client, sandbox=sb)
    adapter.install.cache_seconds = 0  # every call reaches the sandbox (the cache has its own test)
    try:
        yield adapter
    finally:
        await adapter.aclose()


def cabinet_for(platform: IexPlatform, handle: str, *, with_secret: bool = True) -> IexCabinet:
    key = KEYS[handle]
    values = {"token": key.token}
    if with_secret and key.hmac_secret:
        values["hmac_secret"] = key.hmac_secret
    return platform.cabinet(platform.credentials(values))


def statuses(sb: IexSandbox, path: str | None = None) -> list[object]:
    return [call["status"] for call in sb.calls(path)]
