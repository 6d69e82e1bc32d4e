"""The Lara-script entry of the contract suite: the embedded sandbox, as open_platform starts it when no
site is configured (partner-only: no orders, so the order hooks are never called)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal

from bot.domain.models import Order
from bot.platforms.larascript.adapter import LaraPlatform
from bot.platforms.larascript.sandbox import LaraSandbox
from bot.platforms.larascript.sandbox.keys import DEMO
from bot.platforms.registry import PlatformConfig, open_platform
from tests.platforms.harness import Harness

DAY = 86400


class LaraHarness(Harness):
    direction_id = ""
    amount = Decimal(0)
    fields: Mapping[str, str] = {}
    unknown_direction_id = ""
    partner_credentials = {"key": DEMO.key, "rid": DEMO.rid}
    non_partner_credentials = None  # any key Lara accepts is a partner's
    partner_id = DEMO.rid

    def __init__(self, platform: LaraPlatform, sandbox: LaraSandbox) -> None:
        self.platform = platform
        self.sb = sandbox

    def lose_next_placement(self, *, lookup_fails: bool = False) -> None:
        raise NotImplementedError("Lara-script has no customer API")

    async def advance(self, order: Order) -> None:
        raise NotImplementedError("Lara-script has no customer API")

    def orders_created(self) -> int:
        return 0

    def partner_counts(self, start: int, end: int) -> Mapping[str, int]:
        return {"exchanges": len(self.sb.created_between(start, end)), "clicks": 0, "payouts": 0}

    def busy_period(self) -> tuple[int, int]:
        now = int(self.sb.now())
        return now - 30 * DAY, now + 60


@asynccontextmanager
async def open_harness() -> AsyncIterator[LaraHarness]:
    async with AsyncExitStack() as stack:
        config = PlatformConfig(name="larascript", site_url=None, sandbox_step_seconds=None)
        platform = await open_platform(config, stack)
        assert isinstance(platform, LaraPlatform) and platform.sandbox is not None
        yield LaraHarness(platform, platform.sandbox)


class Clock:
    """A hand-moved clock for the page cache (tests never wait for real intervals)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@asynccontextmanager
async def open_lara(
    *, demo_rows: int = 900, policy: object = None, **cache_options: object
) -> AsyncIterator[tuple[LaraPlatform, LaraSandbox, Clock]]:
    """A sandbox on loopback (nothing changes by itself) and an adapter on it with fast retries and a
    hand-moved cache clock."""
    from bot.platforms.larascript.cache import PageCache
    from bot.platforms.larascript.transport import RetryPolicy, Transport

    sandbox = LaraSandbox(step_seconds=None, demo_rows=demo_rows)
    url = await sandbox.start()
    clock = Clock()
    transport = Transport(url, policy or RetryPolicy(backoff=0.01, max_retry_after=2.0, timeout=5.0))  # type: ignore[arg-type]
    platform = LaraPlatform(PageCache(transport, clock=clock, **cache_options), sandbox=sandbox)  # type: ignore[arg-type]
    try:
        yield platform, sandbox, clock
    finally:
        await platform.aclose()
        await sandbox.stop()
