"""The PremiumExchanger entry of the contract suite: the embedded sandbox, as open_platform starts it
when no site is configured, with the server's stricter habits switched on (actions find a bid by its
hash only)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal

from bot.domain.models import Order
from bot.platforms.premiumexchanger.adapter import PremiumExchangerPlatform
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import DEMO, PARTNER
from bot.platforms.registry import PlatformConfig, open_platform
from tests.platforms.harness import Harness
from tests.sandbox_forms import FIELDS_102

DAY = 86400


class PremiumExchangerHarness(Harness):
    direction_id = "102"
    amount = Decimal(10000)
    fields = FIELDS_102
    unknown_direction_id = "999999"
    partner_credentials = {"login": PARTNER.login, "key": PARTNER.key}
    non_partner_credentials = {"login": DEMO.login, "key": DEMO.key}
    partner_id = str(PARTNER.user_id)
    payout_account = "T" + "9" * 33

    def __init__(self, platform: PremiumExchangerPlatform, sandbox: SandboxExchanger) -> None:
        self.platform = platform
        self.sb = sandbox

    def lose_next_placement(self, *, lookup_fails: bool = False) -> None:
        self.sb.faults.next("create_bid", "disconnect")
        if lookup_fails:
            for _ in range(3):  # every attempt of the read (the client retries twice)
                self.sb.faults.next("get_exchanges", "http502")

    async def advance(self, order: Order) -> None:
        self.sb.advance(int(order.id))

    def orders_created(self) -> int:
        return sum(1 for bid in self.sb.bids.values() if bid.login == DEMO.login)

    def partner_counts(self, start: int, end: int) -> Mapping[str, int]:
        shift = self.sb.utc_offset
        account = self.sb.partners.accounts[PARTNER.user_id]

        def inside(t: int) -> bool:
            return start <= t + shift <= end

        exchanges = self.sb.partners.exchanges(PARTNER.user_id, self.sb.bids.values())
        return {
            "clicks": sum(1 for c in account.clicks if inside(c.time)),
            "exchanges": sum(1 for b in exchanges if inside(b.time)),
            "payouts": sum(1 for p in account.payouts if inside(p.time)),
        }

    def busy_period(self) -> tuple[int, int]:
        now = int(self.sb.now()) + self.sb.utc_offset
        return now - 30 * DAY, now + 60


@asynccontextmanager
async def open_harness() -> AsyncIterator[PremiumExchangerHarness]:
    async with AsyncExitStack() as stack:
        config = PlatformConfig(name="premiumexchanger", site_url=None, sandbox_step_seconds=None)
        platform = await open_platform(config, stack)
        assert isinstance(platform, PremiumExchangerPlatform) and platform.sandbox is not None
        platform.sandbox.require_hash = True
        yield PremiumExchangerHarness(platform, platform.sandbox)
