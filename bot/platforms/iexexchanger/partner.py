"""The partner part of API v3 (five ``GET`` endpoints on behalf of the key's owner), in wire terms.

* ``/private/partner`` (``partner:read``): no parameters.
* ``/private/partner/statistics`` (``partner:statistics:read``): ``period`` (day, week, month; a range
  where the install supports one).
* ``/private/partner/referrals`` (``partner:referrals:read``): filters id, client_id, client_email,
  client_name, created_from, created_to.
* ``/private/partner/exchanges`` (``partner:exchanges:read``): filters id, order_id, client_id, status,
  order_public_id, order_tracking_id, client_email, bonus_min, bonus_max, created_from, created_to.
* ``/private/partner/payouts`` (``partner:payouts:read``): filters id, public_id, wallet, tx_id, status
  (pending, paid, rejected), currency, amount_min, amount_max, created_from, created_to.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from bot.platforms.iexexchanger.models import (
    PartnerExchangeRow,
    PartnerProfile,
    PayoutRow,
    ReferralRow,
    Statistics,
)
from bot.platforms.iexexchanger.paging import PageMode, filter_params

if TYPE_CHECKING:
    from bot.platforms.iexexchanger.client import IexClient

__all__ = ["CUSTOM_PERIOD", "ENDPOINTS", "PAYOUT_STATUSES", "PERIODS", "PartnerApi"]

log = logging.getLogger(__name__)

SUMMARY = "/private/partner"
STATISTICS = "/private/partner/statistics"
REFERRALS = "/private/partner/referrals"
EXCHANGES = "/private/partner/exchanges"
PAYOUTS = "/private/partner/payouts"

ENDPOINTS: dict[str, str] = {
    SUMMARY: "partner:read",
    STATISTICS: "partner:statistics:read",
    REFERRALS: "partner:referrals:read",
    EXCHANGES: "partner:exchanges:read",
    PAYOUTS: "partner:payouts:read",
}
PERIODS = ("day", "week", "month")
# Not documented ("your own range, if the install supports it"): period=custom with date_from/date_to,
# the names the statistics answer reports its window in. The answer is checked (see the cabinet).
CUSTOM_PERIOD = "custom"
PAYOUT_STATUSES = ("pending", "paid", "rejected")

REFERRAL_FILTERS = frozenset({"id", "client_id", "client_email", "client_name", "created_from", "created_to"})
EXCHANGE_FILTERS = frozenset(
    {
        "id", "order_id", "client_id", "status", "order_public_id", "order_tracking_id", "client_email",
        "bonus_min", "bonus_max", "created_from", "created_to",
    }
)  # fmt: skip
PAYOUT_FILTERS = frozenset(
    {
        "id", "public_id", "wallet", "tx_id", "status", "currency", "amount_min", "amount_max",
        "created_from", "created_to",
    }
)  # fmt: skip


class PartnerApi:
    def __init__(self, client: IexClient) -> None:
        self._client = client

    async def summary(self) -> PartnerProfile:
        return PartnerProfile.from_wire((await self._client.get(SUMMARY, scope=ENDPOINTS[SUMMARY])).result)

    async def statistics(
        self, period: str, *, date_from: str | None = None, date_to: str | None = None
    ) -> Statistics:
        params = [("period", period)]
        if date_from is not None:
            params.append(("date_from", date_from))
        if date_to is not None:
            params.append(("date_to", date_to))
        envelope = await self._client.get(STATISTICS, params, scope=ENDPOINTS[STATISTICS])
        return Statistics.from_wire(envelope.result)

    async def probe(self, path: str) -> None:
        """One small call to an endpoint: raises ``PermissionMissing`` when the key lacks its scope."""
        params = (
            [("period", "day")] if path == STATISTICS else ([] if path == SUMMARY else [("per_page", "1")])
        )
        await self._client.get(path, params, scope=ENDPOINTS[path])

    async def referrals(
        self,
        filters: Mapping[str, str | None] | None = None,
        *,
        mode: PageMode | None = None,
        per_page: int = 100,
    ) -> AsyncIterator[ReferralRow]:
        params = filter_params(filters or {}, REFERRAL_FILTERS, method=f"GET {REFERRALS}")
        async for row in self._client.iter_rows(
            REFERRALS, params, scope=ENDPOINTS[REFERRALS], names=("referrals", "clients"), mode=mode,
            per_page=per_page,
        ):  # fmt: skip
            parsed = ReferralRow.from_wire(row)
            if parsed is None:
                log.warning("GET %s: a row without an id was skipped", REFERRALS)
                continue
            yield parsed

    async def exchanges(
        self,
        filters: Mapping[str, str | None] | None = None,
        *,
        mode: PageMode | None = None,
        per_page: int = 100,
    ) -> AsyncIterator[PartnerExchangeRow]:
        params = filter_params(filters or {}, EXCHANGE_FILTERS, method=f"GET {EXCHANGES}")
        async for row in self._client.iter_rows(
            EXCHANGES, params, scope=ENDPOINTS[EXCHANGES], names=("exchanges",), mode=mode, per_page=per_page
        ):
            parsed = PartnerExchangeRow.from_wire(row)
            if parsed is None:
                log.warning("GET %s: a row without an id was skipped", EXCHANGES)
                continue
            yield parsed

    async def payouts(
        self,
        filters: Mapping[str, str | None] | None = None,
        *,
        mode: PageMode | None = None,
        per_page: int = 100,
    ) -> AsyncIterator[PayoutRow]:
        params = filter_params(filters or {}, PAYOUT_FILTERS, method=f"GET {PAYOUTS}")
        async for row in self._client.iter_rows(
            PAYOUTS, params, scope=ENDPOINTS[PAYOUTS], names=("payouts", "withdrawals"), mode=mode,
            per_page=per_page,
        ):  # fmt: skip
            parsed = PayoutRow.from_wire(row)
            if parsed is None:
                log.warning("GET %s: a row without an id was skipped", PAYOUTS)
                continue
            yield parsed
