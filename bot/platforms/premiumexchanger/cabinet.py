"""A partner's cabinet on their own PremiumExchanger key (:class:`~bot.platforms.base.PartnerCabinet`).

Lists are read page after page to the end (:mod:`.paging`: also when the server ignores ``offset``).
A period is unix seconds, inclusive, compared by the server with its own ``time`` (the site's local
time read as UTC). ``request_payout`` is sent exactly once, never retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from bot.domain.capabilities import Capability
from bot.domain.errors import NotAPartner, PermissionMissing
from bot.domain.models import (
    PartnerClick,
    PartnerExchange,
    PartnerPayout,
    PartnerReferral,
    PartnerStats,
    PartnerSummary,
)
from bot.platforms.base import KeyCheck, PushRegistration
from bot.platforms.premiumexchanger import mapping
from bot.platforms.premiumexchanger.client import PremiumExchangerClient

__all__ = ["PROBED_METHODS", "PremiumExchangerCabinet"]

# The list methods probed when a key is linked, by the capability each serves. add_partner_payout
# can't be probed (it is a write): the site's refusal explains it when a payout is asked for.
PROBED_METHODS: dict[Capability, str] = {
    Capability.PARTNER_CLICKS: "get_partner_links",
    Capability.PARTNER_EXCHANGES: "get_partner_exchanges",
    Capability.PARTNER_PAYOUTS: "get_partner_payouts",
}
SUMMARY_METHOD = "get_partner_info"


class PremiumExchangerCabinet:
    def __init__(self, client: PremiumExchangerClient) -> None:
        self._client = client

    async def check_key(self) -> KeyCheck:
        """Validate a freshly typed key. Raises ``CredentialsRejected`` (wrong login or key),
        ``NotAPartner`` (the site's "System" user, or no partner account) or ``PermissionMissing``
        (get_partner_info not ticked for the key: no cabinet to show)."""
        try:
            identity = await self._client.whoami()
        except PermissionMissing:
            identity = None  # "test" not ticked: get_partner_info tells enough
        if identity is not None and identity.is_system_user:
            raise NotAPartner("the key belongs to the site's System user, not a partner", method="test")
        client = self._client
        results = await asyncio.gather(
            client.partner_info(),
            client.partner_clicks(limit=1),
            client.partner_exchanges(limit=1),
            client.partner_payouts(limit=1),
            return_exceptions=True,
        )
        info, *probes = results
        if isinstance(info, PermissionMissing):
            raise PermissionMissing(
                "the key may not call get_partner_info", permission=SUMMARY_METHOD, method=SUMMARY_METHOD
            )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, PermissionMissing):
                raise result
        assert not isinstance(info, BaseException)
        missing = {
            capability: method
            for (capability, method), result in zip(PROBED_METHODS.items(), probes, strict=True)
            if isinstance(result, PermissionMissing)
        }
        return KeyCheck(partner_id=info.partner_id, label=client.login, missing=missing)

    async def summary(self) -> PartnerSummary:
        return mapping.partner_summary(await self._client.partner_info())

    async def clicks(self, start: int, end: int) -> AsyncIterator[PartnerClick]:
        async for click in self._client.iter_partner_clicks(start_time=start, end_time=end):
            yield mapping.partner_click(click)

    async def exchanges(self, start: int, end: int) -> AsyncIterator[PartnerExchange]:
        async for exchange in self._client.iter_partner_exchanges(start_time=start, end_time=end):
            yield mapping.partner_exchange(exchange)

    async def payouts(self, start: int, end: int) -> AsyncIterator[PartnerPayout]:
        async for payout in self._client.iter_partner_payouts(start_time=start, end_time=end):
            yield mapping.partner_payout(payout)

    async def request_payout(self, method_id: str, account: str) -> str:
        return await self._client.request_payout(method_id, account)

    # Not served by the User API (INFO does not declare them): the protocol's optional members.

    async def referrals(self, start: int, end: int) -> AsyncIterator[PartnerReferral]:
        raise _not_served("referrals", "the User API does not list referred clients")
        yield  # pragma: no cover  (an async generator, like the other lists)

    async def statistics(self, period: str, start: int | None = None, end: int | None = None) -> PartnerStats:
        raise _not_served("statistics", "the User API has no partner statistics")

    async def register_push(self, url: str) -> PushRegistration:
        raise _not_served("register_push", "the User API has no partner webhooks")

    async def unregister_push(self, endpoint_id: str) -> bool:
        raise _not_served("unregister_push", "the User API has no partner webhooks")


def _not_served(method: str, why: str) -> PermissionMissing:
    return PermissionMissing(f"{why} on PremiumExchanger", permission=method, method=method)
