"""The 0trace entry of the contract suite: the embedded sandbox as open_platform starts it when no
site is configured (orders move only when a test says so)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal

from bot.domain.models import Order
from bot.platforms.registry import PlatformConfig, open_platform
from bot.platforms.zerotrace.adapter import ZeroTracePlatform
from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
from bot.platforms.zerotrace.sandbox.keys import DEMO
from tests.platforms.harness import Harness

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
TRON_ADDRESS = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"
ETH_ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"


class ZeroTraceHarness(Harness):
    direction_id = "usdt_trc20:btc"
    amount = Decimal(100)
    fields = {"toAddress": BTC_ADDRESS, "refundAddress": TRON_ADDRESS}
    unknown_direction_id = "usdt_trc20:nope"
    # A lost create answer takes the one-time token with it: the replay can't be followed.
    secret_lost_with_answer = True
    gives_status_titles = False

    def __init__(self, platform: ZeroTracePlatform, sandbox: ZeroTraceSandbox) -> None:
        self.platform = platform
        self.sb = sandbox

    def lose_next_placement(self, *, lookup_fails: bool = False) -> None:
        self.sb.faults.next("create", "drop")
        if lookup_fails:
            # Every further attempt of that placement fails too.
            self.sb.faults.next("create", "http502", times=self.platform.placement.attempts - 1)

    async def advance(self, order: Order) -> None:
        self.sb.advance(order.id)

    def orders_created(self) -> int:
        return len(self.sb.orders_of(DEMO.key))

    def partner_counts(self, start: int, end: int) -> Mapping[str, int]:
        raise NotImplementedError("0trace has no partner reporting")

    def busy_period(self) -> tuple[int, int]:
        raise NotImplementedError("0trace has no partner reporting")


@asynccontextmanager
async def open_harness() -> AsyncIterator[ZeroTraceHarness]:
    async with AsyncExitStack() as stack:
        config = PlatformConfig(name="0trace", site_url=None, sandbox_step_seconds=None)
        platform = await open_platform(config, stack)
        assert isinstance(platform, ZeroTracePlatform) and platform.sandbox is not None
        platform.placement.retry_delay = 0.01
        platform.client.retry_delay = 0.01
        yield ZeroTraceHarness(platform, platform.sandbox)
