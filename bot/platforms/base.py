"""The small protocols every exchanger platform adapter implements, each only where it declares the
capability (``PlatformInfo.capabilities``). Everything outside ``bot/platforms/<name>/`` talks to a
platform through these and the models of :mod:`bot.domain` only.

Every method may raise the errors of :mod:`bot.domain.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from pydantic import SecretStr

from bot.domain.capabilities import Capability, PartnerCredentials, PlatformInfo
from bot.domain.models import (
    AmountSide,
    CurrencyLists,
    Direction,
    DirectionSummary,
    Order,
    OrderObservation,
    OrderRef,
    OrderRequest,
    OrderStatus,
    PartnerClick,
    PartnerExchange,
    PartnerNews,
    PartnerPayout,
    PartnerReferral,
    PartnerStats,
    PartnerSummary,
    Quote,
    ReferenceCode,
)

__all__ = [
    "CustomerApi",
    "FeedPage",
    "KeyCheck",
    "OrderFeed",
    "OrderUnreachable",
    "PartnerCabinet",
    "Placement",
    "PlacementUncertain",
    "Platform",
    "PushEvent",
    "PushRegistration",
    "PushRejected",
    "ReferenceCodes",
    "ReferralLinks",
    "SelfCheck",
    "WebhookReceiver",
]


class CustomerApi(Protocol):
    """The customer flow, in one language (titles, labels and status titles come in it)."""

    async def currencies(self) -> CurrencyLists: ...

    async def directions(self) -> list[DirectionSummary]: ...

    async def direction(self, direction_id: str) -> Direction:
        """Raises ``DirectionUnavailable`` when it is gone or closed to orders through the API."""
        ...

    async def quote(
        self, direction_id: str, amount: Decimal, side: AmountSide, price_fields: Mapping[str, str]
    ) -> Quote:
        """``price_fields``: answers to the direction's fields that change the price."""
        ...

    async def read_order(self, ref: OrderRef) -> Order: ...

    async def cancel_order(self, ref: OrderRef) -> None: ...

    async def mark_paid(self, ref: OrderRef) -> None: ...

    async def continue_order(self, ref: OrderRef) -> None:
        """The emergency decision: go on at the current rate."""
        ...


class PlacementUncertain(Exception):
    """The exchange gave no clear answer and whether the order exists can't be told yet. Placing
    again with the same key is safe: it never makes a second order."""


class OrderUnreachable(Exception):
    """The exchange created the order, but the per-order secret needed to follow it was lost with the
    answer (only a replay without it came back). ``order`` is what is known; never show it as payable."""

    def __init__(self, order: Order) -> None:
        super().__init__(f"order {order.id}: created, but its access secret was lost")
        self.order = order


class Placement(Protocol):
    """Creating an order exactly once per idempotency key, whatever the network does.

    The core stores the key (and ``prepare``'s bytes, encrypted) before ``place`` is first called,
    calls ``place`` again with the same values on every retry, and attaches the order it returns.

    A create without a clear answer may still be committed by the exchange long after the request
    timed out: such a reservation is kept, and looked up again, until ``commit_horizon_seconds`` after
    it was made; only a lookup made after that may drop it for good.
    """

    commit_horizon_seconds: int

    def new_key(self) -> str: ...

    def prepare(self, request: OrderRequest, key: str) -> bytes | None:
        """The exact request to resend on every retry, or None when the platform rebuilds it."""
        ...

    async def place(
        self,
        request: OrderRequest,
        key: str,
        prepared: bytes | None,
        *,
        reserved_at: int,
        retry: bool,
        lang: str | None = None,
    ) -> Order:
        """Create the order, or return the one an earlier attempt created. ``reserved_at``: our clock
        when the key was stored; ``retry``: an earlier attempt may have reached the exchange; ``lang``:
        the chat's language, for the texts the answer carries (instructions, titles) where the
        platform words them per language.
        Raises :class:`PlacementUncertain`, or the exchange's refusal (then no order exists)."""
        ...

    async def find(self, key: str, *, reserved_at: int, prepared: bytes | None = None) -> Order | None:
        """The order created under ``key``; None when the exchange has none (yet: see
        ``commit_horizon_seconds``). ``prepared``: the bytes stored at the reservation. Raises
        :class:`OrderUnreachable` (it exists but can't be followed) or ``ExchangerError`` when that
        can't be told now."""
        ...


@dataclass(frozen=True)
class FeedPage:
    observations: list[OrderObservation]
    cursor: int  # pass it back next time (the platform's clock)


class OrderFeed(Protocol):
    """Every order of the bot's key whose status changed since ``cursor``, in a bounded number of calls."""

    async def changed_since(self, cursor: int) -> FeedPage: ...


@dataclass(frozen=True)
class KeyCheck:
    partner_id: str
    label: str  # what the partner recognises the key by (never a secret)
    # Capabilities this key can't use, with the permission to tick on the site for each.
    missing: Mapping[Capability, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PushRegistration:
    """A push endpoint registered on the site for one partner (``PartnerCabinet.register_push``).
    ``secret`` signs its deliveries and comes back only this once: store it encrypted and pass it to
    ``WebhookReceiver.verify``; ``endpoint_id`` removes it again (``unregister_push``)."""

    endpoint_id: str
    secret: SecretStr = field(repr=False)
    events: tuple[str, ...] = ()


class PartnerCabinet(Protocol):
    """A partner's cabinet on their own key. Lists cover a period (unix seconds, inclusive) and are
    read page after page to the end."""

    async def check_key(self) -> KeyCheck:
        """Raises ``CredentialsRejected``, ``NotAPartner`` or ``PermissionMissing`` (nothing usable)."""
        ...

    async def summary(self) -> PartnerSummary: ...

    def clicks(self, start: int, end: int) -> AsyncIterator[PartnerClick]: ...

    def exchanges(self, start: int, end: int) -> AsyncIterator[PartnerExchange]: ...

    def payouts(self, start: int, end: int) -> AsyncIterator[PartnerPayout]: ...

    def referrals(self, start: int, end: int) -> AsyncIterator[PartnerReferral]:
        """The registered clients the partner brought, registered within the period. Optional: only
        where the platform declares ``Capability.PARTNER_REFERRALS``."""
        ...

    async def request_payout(self, method_id: str, account: str) -> str:
        """Never retried. Returns the payout id; ``PayoutRefused`` carries the server's reason."""
        ...

    async def statistics(self, period: str, start: int | None = None, end: int | None = None) -> PartnerStats:
        """The server's own figures for ``period`` ("day", "week", "month": the platform's windows), or
        for ``start``..``end`` where the platform takes a range (else ``ValidationFailed``). Optional:
        only where the platform declares ``Capability.PARTNER_STATS``."""
        ...

    async def register_push(self, url: str) -> PushRegistration:
        """Have the site sign this partner's events to ``url``. Optional: only where the platform
        declares ``Capability.PUSH_WEBHOOK`` for partner keys; ``PermissionMissing`` when the key may
        not (``KeyCheck.missing`` names it): then poll instead."""
        ...

    async def unregister_push(self, endpoint_id: str) -> bool:
        """Remove a registration (at /logout); False when the site no longer had it."""
        ...

    async def news(self, cursor: str | None) -> tuple[list[PartnerNews], str]:
        """What to tell the partner since ``cursor``, oldest first, and the cursor to store once it is
        told (plain text, not secret). ``None`` (the first poll) tells nothing and returns the cursor
        to start from: linking a key never floods the chat with history. Optional: only where the
        platform declares ``Capability.PARTNER_NEWS``; ``CredentialsRejected``: stop polling."""
        ...

    async def push_news(self, event: PushEvent) -> list[PartnerNews]:
        """The news a verified partner push carries (re-read from the platform's lists, the source of
        truth), with the same ``PartnerNews.key`` polling would give. Optional: where the platform
        pushes partner events."""
        ...


class ReferralLinks(Protocol):
    reserved_params: frozenset[str]  # parameters a partner can't set (the partner's own id)

    def link(self, partner_id: str, params: Mapping[str, str], page_url: str | None = None) -> str:
        """A link to the site (or ``page_url`` on it) that credits ``partner_id``, with ``params``."""
        ...


class ReferenceCodes(Protocol):
    """The operator's reference codes (``Capability.REFERENCE_CODES``), exposed as ``Platform.codes``
    by the adapters that declare it (read it with ``getattr(platform, "codes", None)``)."""

    max_markup_bps: int
    max_label: int

    def valid_code(self, code: str) -> bool:
        """Whether ``code`` has the shape the platform accepts (before asking it)."""
        ...

    async def list(self) -> list[ReferenceCode]:
        """Every code, enabled or not, newest first."""
        ...

    async def create(self, code: str, label: str | None, markup_bps: int) -> ReferenceCode:
        """``ValidationFailed`` when the platform refuses it (taken, over the cap, out of range)."""
        ...

    async def set_enabled(self, code: str, enabled: bool) -> ReferenceCode: ...

    async def link(self, code: str, give: str | None = None, get: str | None = None) -> str:
        """The site's referral link for ``code``, with an optional pair of currency ids (checked
        against the catalogue: ``ValueError`` for an unknown one)."""
        ...


class PushRejected(Exception):
    """A push that must change nothing: forged, stale, replayed or malformed. ``status`` is the HTTP
    answer (4xx); the message is for the log and holds no secret."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PushEvent:
    """One verified push. ``dedupe_key`` is unique per real event (stored, so a redelivery is dropped).
    An order event carries ``observation``; a partner event names its ``kind`` (e.g. "payout_paid")."""

    dedupe_key: str
    observation: OrderObservation | None = None
    kind: str = "order_status"
    partner_id: str | None = None
    payload: Mapping[str, object] = field(default_factory=dict)


class WebhookReceiver(Protocol):
    """Signed pushes at ``POST {PUBLIC_URL}{path}`` (``{path}/<token>`` when ``per_partner_token``)."""

    path: str
    per_partner_token: bool

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        now: float,
        token: str | None = None,
        secret: str | None = None,
    ) -> list[PushEvent]:
        """Check the signature over the raw ``body`` (constant time) and the time window, then parse.
        Raises :class:`PushRejected`. ``token``: the path's per-partner token, if any; ``secret``: that
        partner's stored ``PushRegistration.secret``, where the platform signs per registration."""
        ...


@dataclass(frozen=True)
class SelfCheck:
    ok: bool
    message: str  # plain words for the operator's log; no secret


class Platform(Protocol):
    """One exchange site on one platform: the adapter's root object. Pieces the platform does not
    serve are None (``placement``, ``feed``, ``links``, ``webhooks``) or raise ``PermissionMissing``."""

    info: PlatformInfo
    site_url: str
    placement: Placement | None
    feed: OrderFeed | None
    links: ReferralLinks | None
    webhooks: WebhookReceiver | None

    def customer(self, lang: str | None = None) -> CustomerApi: ...

    def cabinet(self, credentials: PartnerCredentials, lang: str | None = None) -> PartnerCabinet: ...

    def status_of(self, code: str, title: str = "") -> OrderStatus:
        """The neutral status of one of the platform's codes (for orders stored with a code only)."""
        ...

    def credentials(self, values: Mapping[str, str]) -> PartnerCredentials:
        """Named fields as typed by a partner → credentials (redacted from logs from now on)."""
        ...

    async def self_check(self) -> SelfCheck: ...

    async def aclose(self) -> None: ...
