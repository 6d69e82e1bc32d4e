"""What a platform can do, as data: the interface offers only what the platform (and the key) serves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import SecretStr

from bot.domain.models import AmountSide

__all__ = [
    "Capability",
    "CredentialField",
    "CredentialInputError",
    "PartnerCredentials",
    "PlatformInfo",
]


class Capability(StrEnum):
    # customers
    CATALOGUE = "catalogue"
    QUOTE = "quote"
    ORDERS = "orders"  # create orders and read them back
    CANCEL = "cancel"
    MARK_PAID = "mark_paid"
    EMERGENCY_DECISION = "emergency_decision"
    ORDER_FEED = "order_feed"  # one call lists every order changed since a time
    PUSH_CALLBACK = "push_callback"  # an unsigned per-order callback URL
    PUSH_WEBHOOK = "push_webhook"  # signed account webhooks
    # partners
    PARTNER_SUMMARY = "partner_summary"
    PARTNER_STATS = "partner_stats"  # statistics computed by the server
    PARTNER_CLICKS = "partner_clicks"
    PARTNER_REFERRALS = "partner_referrals"  # registered clients brought by the partner
    PARTNER_EXCHANGES = "partner_exchanges"
    PARTNER_PAYOUTS = "partner_payouts"
    PAYOUT_REQUEST = "payout_request"
    REFERRAL_LINKS = "referral_links"
    REFERENCE_CODES = "reference_codes"
    PARTNER_NEWS = "partner_news"  # PartnerCabinet.news: what to tell a partner, polled with a cursor


CUSTOMER_FLOW = frozenset({Capability.CATALOGUE, Capability.QUOTE, Capability.ORDERS})
PARTNER_CABINET = frozenset(
    {
        Capability.PARTNER_SUMMARY,
        Capability.PARTNER_STATS,
        Capability.PARTNER_CLICKS,
        Capability.PARTNER_REFERRALS,
        Capability.PARTNER_EXCHANGES,
        Capability.PARTNER_PAYOUTS,
        Capability.PAYOUT_REQUEST,
        Capability.REFERRAL_LINKS,
    }
)


@dataclass(frozen=True)
class CredentialField:
    """One value a partner types to link their key. ``label`` and ``hint`` are msgids (``N_``)."""

    name: str
    label: str
    secret: bool = True
    pattern: str = r"^\S{16,256}$"
    hint: str = ""
    # Asked only when the exchange says the key needs it (e.g. ``SignatureRequired.field`` names it);
    # a login asks every field that is not optional, in order.
    optional: bool = False

    def accepts(self, value: str) -> bool:
        """Shape only, and only characters an HTTP header can carry (printable ASCII)."""
        return value.isascii() and value.isprintable() and re.fullmatch(self.pattern, value) is not None


class CredentialInputError(ValueError):
    """``Platform.credentials`` can't use a typed value (it passed the field's pattern). ``field``: the
    :class:`CredentialField` to ask for again; ``reason``: "empty", "shape", "other_site" (a pasted
    link is for another site), "missing_param" (the link lacks the needed parameter) or "ambiguous"
    (it holds several). The message names the field, never its value."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason


class PartnerCredentials:
    """A partner's key as the platform's named fields. Secret fields are ``SecretStr``; ``label`` is
    what the partner recognises the key by (a login, the key's first characters). repr shows no value."""

    __slots__ = ("label", "platform", "values")

    def __init__(self, platform: str, values: dict[str, SecretStr], label: str = "") -> None:
        self.platform = platform
        self.values = dict(values)
        self.label = label

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else value.get_secret_value()

    def __repr__(self) -> str:
        return f"PartnerCredentials({self.platform!r}, fields={sorted(self.values)!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PartnerCredentials)
            and self.platform == other.platform
            and {k: v.get_secret_value() for k, v in self.values.items()}
            == {k: v.get_secret_value() for k, v in other.values.items()}
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class PlatformInfo:
    """A platform's declaration: who it is, what it serves, what a partner types to link a key."""

    name: str  # EXCHANGER_PLATFORM value
    title: str  # shown to people
    capabilities: frozenset[Capability]
    amount_sides: tuple[AmountSide, ...] = (AmountSide.GIVE, AmountSide.GET)
    credential_fields: tuple[CredentialField, ...] = ()
    # Where on the site a partner creates the key, relative to the site's root.
    key_page: str = ""
    # Where on the site a partner asks for a payout when the API can't (relative), if anywhere.
    payout_page: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def serves(self, *capabilities: Capability) -> bool:
        return all(c in self.capabilities for c in capabilities)

    @property
    def has_customer_flow(self) -> bool:
        return CUSTOMER_FLOW <= self.capabilities

    @property
    def has_partner_cabinet(self) -> bool:
        return bool(PARTNER_CABINET & self.capabilities)
