"""The platforms the contract suite (test_contract.py) runs against.

Adding a platform: write a :class:`~tests.platforms.harness.Harness` for it and an ``open_harness()``
async context manager that starts its sandbox on loopback, then add one line to ``PLATFORMS``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest

from tests.platforms import (
    iexexchanger_harness,
    larascript_harness,
    premiumexchanger_harness,
    zerotrace_harness,
)
from tests.platforms.harness import Harness

PLATFORMS: dict[str, Callable[[], AbstractAsyncContextManager[Harness]]] = {
    "premiumexchanger": premiumexchanger_harness.open_harness,
    "larascript": larascript_harness.open_harness,
    "iexexchanger": iexexchanger_harness.open_harness,
    "0trace": zerotrace_harness.open_harness,
}


@pytest.fixture(params=sorted(PLATFORMS))
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    async with PLATFORMS[request.param]() as opened:
        yield opened
