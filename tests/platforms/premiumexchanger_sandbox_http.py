"""Raw HTTP to the PremiumExchanger sandbox, for the tests of the sandbox itself
(test_premiumexchanger_sandbox*.py): they check it answers like the real server, byte for byte where
the reference page says so, without going through the bot's client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import DEMO, DemoKey

API = "/api/userapi/v1/"


@asynccontextmanager
async def running_sandbox(**options: object) -> AsyncIterator[SandboxExchanger]:
    """A sandbox on loopback whose bids move only when a test says so (``step_seconds=None``)."""
    options.setdefault("step_seconds", None)
    options.setdefault("callback_timeout", 2.0)
    sandbox = SandboxExchanger(**options)  # type: ignore[arg-type]
    await sandbox.start("127.0.0.1", 0)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@asynccontextmanager
async def api_http(sandbox: SandboxExchanger) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose relative URLs are API method names."""
    async with httpx.AsyncClient(base_url=sandbox.url + API, timeout=10) as client:
        yield client


def headers(key: DemoKey = DEMO, lang: str | None = None) -> dict[str, str]:
    out = {"API-LOGIN": key.login, "API-KEY": key.key}
    if lang:
        out["API-LANG"] = lang
    return out


async def call(
    http: httpx.AsyncClient,
    method: str,
    data: dict | None = None,
    key: DemoKey = DEMO,
    lang: str | None = None,
) -> dict:
    """POST ``data`` as form fields; the answer must be HTTP 200 JSON, like every real answer."""
    response = await http.post(method, data=data or {}, headers=headers(key, lang))
    assert response.status_code == 200
    return response.json()


def ok(answer: dict) -> object:
    assert str(answer["error"]) == "0", answer
    return answer["data"]
