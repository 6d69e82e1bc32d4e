"""The partner cabinet's screens and the platform capabilities each needs.

The interface offers a screen only when the platform serves it (:func:`features`). A capability the
platform serves but a partner's key may not use keeps its screen: the call raises
``PermissionMissing`` and the screen names the permission to tick on the site.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from bot.domain.capabilities import Capability, PlatformInfo

__all__ = ["Feature", "capabilities_lacking", "features", "serves"]


class Feature(StrEnum):
    SUMMARY = "summary"  # balance, minimum payout, payout methods
    STATS = "stats"  # figures of a period, from clicks and/or exchanges
    CLICKS = "clicks"  # the clicks on the partner's links
    REFERRALS = "referrals"  # the registered clients the partner brought
    EXCHANGES = "exchanges"  # exchanges the partner referred
    PAYOUTS = "payouts"  # the partner's payouts
    WITHDRAW = "withdraw"  # request a payout through the API
    LINK = "link"  # the referral link builder


# A feature is served when the platform serves ALL of ``_NEEDS_ALL`` and ANY of ``_NEEDS_ANY``.
_NEEDS_ALL: dict[Feature, frozenset[Capability]] = {
    Feature.SUMMARY: frozenset({Capability.PARTNER_SUMMARY}),
    Feature.STATS: frozenset(),
    Feature.CLICKS: frozenset({Capability.PARTNER_CLICKS}),
    Feature.REFERRALS: frozenset({Capability.PARTNER_REFERRALS}),
    Feature.EXCHANGES: frozenset({Capability.PARTNER_EXCHANGES}),
    Feature.PAYOUTS: frozenset({Capability.PARTNER_PAYOUTS}),
    # The payout form offers the summary's methods and checks its minimum.
    Feature.WITHDRAW: frozenset({Capability.PAYOUT_REQUEST, Capability.PARTNER_SUMMARY}),
    Feature.LINK: frozenset({Capability.REFERRAL_LINKS}),
}
_NEEDS_ANY: dict[Feature, frozenset[Capability]] = {
    Feature.STATS: frozenset({Capability.PARTNER_CLICKS, Capability.PARTNER_EXCHANGES}),
}


def serves(info: PlatformInfo, feature: Feature) -> bool:
    if not info.serves(*_NEEDS_ALL[feature]):
        return False
    any_of = _NEEDS_ANY.get(feature)
    return any_of is None or bool(any_of & info.capabilities)


def features(info: PlatformInfo) -> frozenset[Feature]:
    """The cabinet's screens this platform serves (none when it has no partner cabinet at all)."""
    if not info.has_partner_cabinet:
        return frozenset()
    return frozenset(feature for feature in Feature if serves(info, feature))


def capabilities_lacking(info: PlatformInfo, missing: Mapping[Capability, str]) -> dict[Capability, str]:
    """Of a key's missing capabilities (``KeyCheck.missing``), those the platform serves at all, with
    the permission to tick on the site for each, in a stable order."""
    return {c: missing[c] for c in Capability if c in missing and c in info.capabilities}
