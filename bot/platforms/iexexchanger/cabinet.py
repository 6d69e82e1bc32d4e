"""A partner's cabinet on their own iEXExchanger key (:class:`~bot.platforms.base.PartnerCabinet`),
with the optional members this platform serves: :meth:`IexCabinet.statistics`, :meth:`IexCabinet.referrals`,
:meth:`IexCabinet.register_push` / :meth:`IexCabinet.unregister_push`; plus :meth:`IexCabinet.payout`
(one payout read again: the source of truth after a webhook).

Periods are unix seconds, inclusive. Lists are filtered by the server with full ISO-8601 boundaries
(``filter[created_from]``/``[created_to]``, UTC with its offset: the time zone of a bare date is the
server's own) and again here, so a server that reads the boundaries otherwise (or ignores a filter)
never puts a row outside the period.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pydantic import SecretStr

from bot.domain.capabilities import Capability
from bot.domain.errors import ExchangerError, NotAPartner, PermissionMissing, ValidationFailed
from bot.domain.models import (
    OrderPhase,
    PartnerClick,
    PartnerExchange,
    PartnerNews,
    PartnerNewsKind,
    PartnerPayout,
    PartnerReferral,
    PartnerStats,
    PartnerSummary,
    PayoutStatus,
)
from bot.platforms.base import KeyCheck, PushEvent, PushRegistration
from bot.platforms.iexexchanger import mapping, wire
from bot.platforms.iexexchanger.client import IexClient
from bot.platforms.iexexchanger.envelope import NotFound
from bot.platforms.iexexchanger.errors import SignatureRequired, StatsRangeUnsupported
from bot.platforms.iexexchanger.models import PartnerProfile
from bot.platforms.iexexchanger.partner import CUSTOM_PERIOD, ENDPOINTS, PERIODS, PartnerApi
from bot.platforms.iexexchanger.scopes import (
    CLIENT_READ,
    PARTNER_SCOPES,
    WEBHOOK_WRITE,
    missing_scope_message,
)
from bot.platforms.iexexchanger.webhooks_api import WebhooksApi

__all__ = ["PAYOUT_PAID_EVENT", "IexCabinet", "InstallState", "WebhookRegistration", "token_label"]

log = logging.getLogger(__name__)

PAYOUT_PAID_EVENT = "partner.payout.paid"
WEBHOOK_NAME = "exchanger-bot (Telegram)"
_PATH_OF_SCOPE = {scope: path for path, scope in ENDPOINTS.items()}
DAY = 86400


@dataclass
class InstallState:
    """What the bot learned about this install, shared by every partner's cabinet, and a short cache
    of each key's summary and statistics (the documentation asks clients to cache them briefly)."""

    stats_range: bool | None = None  # typed statistics ranges: None until tried
    cache_seconds: float = 20.0
    _cache: dict[tuple[str, str], tuple[float, object]] = field(default_factory=dict, repr=False)

    def cached(self, key: tuple[str, str]) -> object | None:
        hit = self._cache.get(key)
        if hit is None or hit[0] < time.monotonic():
            self._cache.pop(key, None)
            return None
        return hit[1]

    def keep(self, key: tuple[str, str], value: object) -> None:
        if self.cache_seconds > 0:
            if len(self._cache) > 1000:
                self._cache.clear()
            self._cache[key] = (time.monotonic() + self.cache_seconds, value)


@dataclass(frozen=True)
class WebhookRegistration:
    """A registered endpoint. ``secret`` comes once: store it encrypted, never log it."""

    endpoint_id: str
    url: str = field(repr=False)
    secret: SecretStr = field(repr=False)
    events: tuple[str, ...] = ()


def _denied(exc: BaseException) -> bool:
    """A scope the key lacks (a missing signature is not one: the key must be linked with its secret)."""
    return isinstance(exc, PermissionMissing) and not isinstance(exc, SignatureRequired)


def token_label(token: str) -> str:
    """What a partner recognises the key by: a Sanctum token's id and the first characters of its
    secret part (``41|abcd…``), or the first characters of another token. Never the whole token."""
    head, sep, rest = token.partition("|")
    if sep and head.isdigit() and len(rest) >= 8:
        return f"{head}|{rest[:4]}…"
    return f"{token[:4]}…"


class IexCabinet:
    def __init__(self, client: IexClient, *, install: InstallState | None = None) -> None:
        credentials = client.credentials
        if credentials is None:
            raise ValueError("a cabinet needs the partner's key")
        self._client = client
        self._install = install or InstallState()
        self._fingerprint = credentials.fingerprint
        self._label = token_label(credentials.token.get_secret_value())
        self._balance_currency: str | None = None

    def __repr__(self) -> str:
        return f"IexCabinet({self._client.site_url!r}, key {self._label!r})"

    @property
    def client(self) -> IexClient:
        return self._client

    @property
    def stats_range_supported(self) -> bool | None:
        """Whether :meth:`statistics` takes ``start``/``end`` here: None until the first try."""
        return self._install.stats_range

    def _partner_id(self, profile: PartnerProfile | None, client_id: str | None = None) -> str:
        """The partner's id as the API gives it; the API may name none (one key means one partner),
        then the referral hash, the client id, or a fingerprint of the key (changes with the key)."""
        if profile is not None and profile.id:
            return profile.id
        if profile is not None and profile.referral_hash:
            return profile.referral_hash
        return client_id or f"key-{self._fingerprint[:12]}"

    # -- linking a key ------------------------------------------------------------------------------

    async def check_key(self) -> KeyCheck:
        """Validate a freshly typed key and say which partner scopes it lacks.

        Reads ``/private/scopes`` (both spellings); a key without ``scopes:read`` (it is outside the
        partner preset) is probed instead: one small call per partner endpoint. Raises
        ``CredentialsRejected`` (``invalid_token``; :class:`ApiAccessDisabled`), ``IpNotAllowed``,
        :class:`SignatureRequired` (ask for the key's HMAC secret, then link both),
        :class:`SignatureRejected` (a wrong HMAC secret), ``NotAPartner`` and ``PermissionMissing`` when
        no partner scope at all is granted. ``missing`` maps each capability the key can't use to the
        scope to ask the exchanger for, ``PUSH_WEBHOOK`` → ``webhooks:write`` included (then poll)."""
        client = self._client
        try:
            scopes: frozenset[str] | None = await client.scopes()
        except PermissionMissing as exc:
            if not _denied(exc):
                raise
            scopes = None
        missing: dict[Capability, str] = {}
        if scopes is not None:
            missing = {cap: scope for cap, scope in PARTNER_SCOPES.items() if scope not in scopes}
        else:
            results = await asyncio.gather(
                *(PartnerApi(client).probe(_PATH_OF_SCOPE[scope]) for scope in PARTNER_SCOPES.values()),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, BaseException) and not _denied(result):
                    raise result
            for (cap, scope), result in zip(PARTNER_SCOPES.items(), results, strict=True):
                if _denied(result):
                    missing[cap] = scope
        if len(missing) == len(PARTNER_SCOPES):
            raise PermissionMissing(
                "the key has none of the partner scopes: ask the exchanger to enable "
                + ", ".join(PARTNER_SCOPES.values())
                + " for this key",
                permission=PARTNER_SCOPES[Capability.PARTNER_SUMMARY],
                method="GET /private/partner",
            )
        profile = None
        if Capability.PARTNER_SUMMARY not in missing:
            profile = await self._profile()  # with scopes read, this is where HMAC and the IP show
        elif scopes is not None:
            cap = next(c for c in PARTNER_SCOPES if c not in missing)
            await PartnerApi(client).probe(_PATH_OF_SCOPE[PARTNER_SCOPES[cap]])

        if scopes is not None:
            if WEBHOOK_WRITE not in scopes:
                missing[Capability.PUSH_WEBHOOK] = WEBHOOK_WRITE
        else:
            try:
                await WebhooksApi(client).endpoints()
            except PermissionMissing as exc:
                if not _denied(exc):
                    raise
                missing[Capability.PUSH_WEBHOOK] = WEBHOOK_WRITE

        label, client_id = self._label, None
        if scopes is None or CLIENT_READ in scopes:
            try:
                info = await client.key_info()
            except PermissionMissing as exc:
                if not _denied(exc):
                    raise
            else:
                client_id = info.client_id
                if info.key_name:
                    label = f"{info.key_name} ({self._label})"
        for cap, scope in missing.items():
            log.info("linked key %s lacks %s: %s", self._label, cap.value, missing_scope_message(scope))
        return KeyCheck(partner_id=self._partner_id(profile, client_id), label=label, missing=missing)

    async def _profile(self) -> PartnerProfile:
        try:
            profile = await PartnerApi(self._client).summary()
        except NotFound:
            raise NotAPartner(
                "the exchanger has no partner profile for this account", method="GET /private/partner"
            ) from None
        self._balance_currency = profile.currency
        return profile

    # -- reading ------------------------------------------------------------------------------------

    async def summary(self) -> PartnerSummary:
        key = (self._fingerprint, "summary")
        cached = self._install.cached(key)
        if isinstance(cached, PartnerSummary):
            return cached
        profile = await self._profile()
        summary = mapping.partner_summary(profile, self._partner_id(profile))
        self._install.keep(key, summary)
        return summary

    async def statistics(
        self, period: str = "month", start: int | None = None, end: int | None = None
    ) -> PartnerStats:
        """The server's statistics for ``period`` ("day", "week", "month": windows as the exchanger
        counts them, reported in ``start``/``end`` when the server says), or for the typed range
        ``start``–``end`` (unix seconds) where the install supports one: else
        :class:`StatsRangeUnsupported` (remembered for the install, see ``stats_range_supported``)."""
        partner = PartnerApi(self._client)
        if start is None and end is None:
            if period not in PERIODS:
                raise ValueError(f"period must be one of {', '.join(PERIODS)}")
            key = (self._fingerprint, f"statistics:{period}")
            cached = self._install.cached(key)
            if isinstance(cached, PartnerStats):
                return cached
            stats = mapping.partner_stats(await partner.statistics(period), period=period)
            self._install.keep(key, stats)
            return stats
        if start is None or end is None or end < start:
            raise ValueError("a range needs start <= end")
        method = "GET /private/partner/statistics"
        if self._install.stats_range is False:
            raise StatsRangeUnsupported(
                "this exchanger's statistics take day, week or month only", method=method
            )
        try:
            stats = await partner.statistics(
                CUSTOM_PERIOD, date_from=wire.iso_utc(start), date_to=wire.iso_utc(end)
            )
        except ValidationFailed:
            self._install.stats_range = False
            raise StatsRangeUnsupported(
                "this exchanger's statistics take day, week or month only (a range was refused)",
                method=method,
            ) from None
        if stats.date_from is not None and stats.date_to is not None:
            honoured = abs(stats.date_from - start) <= DAY and abs(stats.date_to - end) <= DAY
        else:
            honoured = stats.period == CUSTOM_PERIOD
        if not honoured:
            self._install.stats_range = False
            raise StatsRangeUnsupported(
                "this exchanger's statistics ignored the range (answered another window)", method=method
            )
        self._install.stats_range = True
        neutral = mapping.partner_stats(stats, period=CUSTOM_PERIOD)
        if neutral.start is None or neutral.end is None:
            neutral = neutral.model_copy(update={"start": start, "end": end})
        return neutral

    async def clicks(self, start: int, end: int) -> AsyncIterator[PartnerClick]:
        raise PermissionMissing(
            "iEXExchanger lists no clicks: they exist only as counts in the statistics",
            permission="partner:statistics:read",
            method="clicks",
        )
        yield  # pragma: no cover  (an async generator, like the other lists)

    async def referrals(self, start: int, end: int) -> AsyncIterator[PartnerReferral]:
        """The registered clients the partner brought, registered within the period."""
        filters = {"created_from": wire.iso_utc(start), "created_to": wire.iso_utc(end)}
        async for row in PartnerApi(self._client).referrals(filters):
            if row.created_at is not None and not start <= row.created_at <= end:
                continue
            yield mapping.partner_referral(row)

    async def exchanges(
        self, start: int, end: int, *, status: OrderPhase | str | None = None
    ) -> AsyncIterator[PartnerExchange]:
        """The exchanges that earn the partner a reward, created within the period. ``status``: a phase
        (the platform codes of that phase) or one platform status word."""
        filters = {"created_from": wire.iso_utc(start), "created_to": wire.iso_utc(end)}
        phase: OrderPhase | None = None
        if isinstance(status, OrderPhase):
            codes = mapping.PHASE_CODES.get(status, ())
            if len(codes) == 1:
                filters["status"] = codes[0]
            else:
                phase = status
        elif status:
            filters["status"] = status.strip().lower()
        async for row in PartnerApi(self._client).exchanges(filters):
            if row.created_at is not None and not start <= row.created_at <= end:
                continue
            fallback = ""
            if row.bonus is not None and not row.bonus_currency:
                fallback = await self._fallback_currency()
            exchange = mapping.partner_exchange(row, fallback_currency=fallback)
            if phase is not None and exchange.status.phase is not phase:
                continue
            yield exchange

    async def _fallback_currency(self) -> str:
        """The balance currency, the best guess for a bonus that names none (read once)."""
        if self._balance_currency is None:
            try:
                await self._profile()
            except ExchangerError:
                self._balance_currency = ""
        return self._balance_currency or ""

    async def payouts(
        self, start: int, end: int, *, status: PayoutStatus | str | None = None
    ) -> AsyncIterator[PartnerPayout]:
        """Payouts created within the period; ``status``: PENDING, PAID or REFUSED (``rejected``)."""
        filters = {"created_from": wire.iso_utc(start), "created_to": wire.iso_utc(end)}
        if status is not None:
            filters["status"] = mapping.payout_status_code(status)
        async for row in PartnerApi(self._client).payouts(filters):
            if row.created_at is not None and not start <= row.created_at <= end:
                continue
            yield mapping.partner_payout(row)

    async def payout(self, payout_id: str) -> PartnerPayout | None:
        """One payout read again by id (``filter[id]``): the source of truth after a webhook."""
        async for row in PartnerApi(self._client).payouts({"id": str(payout_id)}):
            if row.id == str(payout_id):
                return mapping.partner_payout(row)
        return None

    async def request_payout(self, method_id: str, account: str) -> str:
        raise PermissionMissing(
            "the API has no payout request: the partner asks for a payout on the site "
            "(profile menu → Referral program)",
            permission="payout_request",
            method="request_payout",
        )

    # -- webhooks -----------------------------------------------------------------------------------

    async def register_webhook(self, url: str) -> WebhookRegistration:
        """Register ``url`` for ``partner.payout.paid`` on the partner's account (needs ``webhooks:write``;
        ``PermissionMissing`` otherwise: then poll). An endpoint already at that URL is removed first
        (its secret can't be read again). The secret is returned once."""
        webhooks = WebhooksApi(self._client)
        try:
            for endpoint in await webhooks.endpoints():
                if endpoint.url == url:
                    await webhooks.delete(endpoint.id)
        except PermissionMissing as exc:  # webhooks:read not granted: nothing to clean up that we could see
            if not _denied(exc):
                raise
        endpoint = await webhooks.create(url, [PAYOUT_PAID_EVENT], name=WEBHOOK_NAME)
        assert endpoint.secret is not None  # WebhooksApi.create checks it
        return WebhookRegistration(
            endpoint_id=endpoint.id,
            url=url,
            secret=endpoint.secret,
            events=endpoint.events or (PAYOUT_PAID_EVENT,),
        )

    async def register_push(self, url: str) -> PushRegistration:
        registration = await self.register_webhook(url)
        return PushRegistration(registration.endpoint_id, registration.secret, registration.events)

    async def unregister_push(self, endpoint_id: str) -> bool:
        return await self.unregister_webhook(endpoint_id)

    async def unregister_webhook(self, endpoint_id: str | None = None, *, url: str | None = None) -> bool:
        """Remove the endpoint (by id, or every one at ``url``). False when there was none to remove."""
        webhooks = WebhooksApi(self._client)
        if endpoint_id is not None:
            return await webhooks.delete(endpoint_id)
        if url is None:
            raise ValueError("give endpoint_id or url")
        removed = False
        for endpoint in await webhooks.endpoints():
            if endpoint.url == url:
                removed = await webhooks.delete(endpoint.id) or removed
        return removed

    # -- news: payouts that appeared or changed status -------------------------------------------

    async def news(self, cursor: str | None) -> tuple[list[PartnerNews], str]:
        """Payouts created within ``NEWS_WINDOW`` whose status differs from the cursor's (a new one
        counts as changed). The cursor is ``{"s": {payout id: status code}}``; None tells nothing."""
        now = int(time.time())
        known = _load_statuses(cursor)
        current: dict[str, str] = {}
        news: list[PartnerNews] = []
        async for payout in self.payouts(now - NEWS_WINDOW, now):
            code = payout.status_code or payout.status.value
            current[payout.id] = code
            if known is not None and known.get(payout.id) != code:
                news.append(_payout_news(payout))
        news.sort(key=lambda item: (item.time or 0, item.key))
        return news, json.dumps({"s": current}, separators=(",", ":"), sort_keys=True)

    async def push_news(self, event: PushEvent) -> list[PartnerNews]:
        """A ``payout_paid`` push: the payout read again by id (the list is the source of truth)."""
        payout_id = event.payload.get("payout_id")
        if event.kind != "payout_paid" or not payout_id:
            return []
        payout = await self.payout(str(payout_id))
        return [] if payout is None else [_payout_news(payout)]


NEWS_WINDOW = 180 * 86400  # payouts created this recently are watched for status changes


def _load_statuses(cursor: str | None) -> dict[str, str] | None:
    if not cursor:
        return None
    try:
        statuses = json.loads(cursor)["s"]
        return {str(k): str(v) for k, v in dict(statuses).items()}
    except (ValueError, TypeError, KeyError):
        return None  # unreadable: start over (tells nothing this time)


def _payout_news(payout: PartnerPayout) -> PartnerNews:
    code = payout.status_code or payout.status.value
    return PartnerNews(
        kind=PartnerNewsKind.PAYOUT_CHANGED,
        key=f"payout:{payout.id}:{code}",
        time=payout.paid_time or payout.time,
        payout=payout,
    )
