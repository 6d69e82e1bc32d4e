"""The iEXExchanger entry of the contract suite: the embedded sandbox as open_platform starts it when no
site is configured. The partner links the key that needs HMAC signatures (token and HMAC secret), so
every cabinet call of the suite is signed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal

from bot.domain.models import Order
from bot.platforms.iexexchanger.adapter import IexPlatform
from bot.platforms.iexexchanger.sandbox import IexSandbox
from bot.platforms.iexexchanger.sandbox.keys import HMAC, NOT_PARTNER
from bot.platforms.registry import PlatformConfig, open_platform
from tests.platforms.harness import Harness

DAY = 86400


class IexHarness(Harness):
    # no customer flow on this platform: the order members are never used (the suite skips them)
    direction_id = ""
    amount = Decimal(0)
    fields: Mapping[str, str] = {}
    unknown_direction_id = ""
    partner_credentials = {"token": HMAC.token, "hmac_secret": HMAC.hmac_secret or ""}
    non_partner_credentials = {"token": NOT_PARTNER.token}

    def __init__(self, platform: IexPlatform, sandbox: IexSandbox) -> None:
        self.platform = platform
        self.sb = sandbox

    def lose_next_placement(self, *, lookup_fails: bool = False) -> None:
        raise NotImplementedError("iEXExchanger: no customer flow")

    async def advance(self, order: Order) -> None:
        raise NotImplementedError("iEXExchanger: no customer flow")

    def orders_created(self) -> int:
        return 0

    def partner_counts(self, start: int, end: int) -> Mapping[str, int]:
        account = self.sb.accounts[HMAC.client_id]

        def inside(t: int) -> bool:
            return start <= t <= end

        return {
            "clicks": 0,
            "referrals": sum(1 for r in account.referrals if inside(r.created_at)),
            "exchanges": sum(1 for e in account.exchanges if inside(e.created_at)),
            "payouts": sum(1 for p in account.payouts if inside(p.created_at)),
        }

    def busy_period(self) -> tuple[int, int]:
        now = int(self.sb.now())
        return now - 60 * DAY, now + 60


@asynccontextmanager
async def open_harness() -> AsyncIterator[IexHarness]:
    async with AsyncExitStack() as stack:
        config = PlatformConfig(name="iexexchanger", site_url=None, sandbox_step_seconds=None)
        platform = await open_platform(config, stack)
        assert isinstance(platform, IexPlatform) and platform.sandbox is not None
        yield IexHarness(platform, platform.sandbox)
