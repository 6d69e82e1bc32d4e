"""API v3 scopes: the two spellings, which capability each partner scope unlocks, and the sentence that
tells a partner what to change on the site.

The OpenAPI spells every scope ``public-api:<name>``, the guides mostly ``<name>``: compare after
removing the prefix (:func:`short_scope`).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.capabilities import Capability

__all__ = [
    "KEYS_PAGE",
    "PARTNER_SCOPES",
    "PREFIX",
    "WEBHOOK_READ",
    "WEBHOOK_WRITE",
    "missing_scope_message",
    "scope_set",
    "short_scope",
]

PREFIX = "public-api:"
KEYS_PAGE = "Profile → Settings → API"

# The partner cabinet preset, by the capability each scope unlocks.
PARTNER_SCOPES: dict[Capability, str] = {
    Capability.PARTNER_SUMMARY: "partner:read",
    Capability.PARTNER_STATS: "partner:statistics:read",
    Capability.PARTNER_REFERRALS: "partner:referrals:read",
    Capability.PARTNER_EXCHANGES: "partner:exchanges:read",
    Capability.PARTNER_PAYOUTS: "partner:payouts:read",
}
WEBHOOK_READ = "webhooks:read"
WEBHOOK_WRITE = "webhooks:write"
SCOPES_READ = "scopes:read"
CLIENT_READ = "client:read"

_UNLOCKS: dict[str, str] = {
    "partner:read": "the partner summary (status, balance)",
    "partner:statistics:read": "the statistics by period",
    "partner:referrals:read": "the list of registered clients you brought",
    "partner:exchanges:read": "the exchanges that earn you a reward",
    "partner:payouts:read": "the payout history",
    WEBHOOK_READ: "instant payout notices (with webhooks:write)",
    WEBHOOK_WRITE: "instant payout notices",
}


def short_scope(name: str) -> str:
    """``public-api:partner:read`` → ``partner:read`` (lower case, trimmed)."""
    name = name.strip().lower()
    return name[len(PREFIX) :] if name.startswith(PREFIX) else name


def scope_set(names: Iterable[str]) -> frozenset[str]:
    return frozenset(short_scope(n) for n in names if n and n.strip())


def missing_scope_message(scope: str) -> str:
    short = short_scope(scope)
    unlocks = _UNLOCKS.get(short)
    tail = f" (it unlocks {unlocks})" if unlocks else ""
    return (
        f"the key lacks the scope {short}{tail}: ask the exchanger to enable {short} for this key "
        f"({KEYS_PAGE} on the site shows the key's scopes)"
    )
