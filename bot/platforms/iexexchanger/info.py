"""What iEXExchanger (API v3, partner part) serves, as data (:class:`~bot.domain.capabilities.PlatformInfo`).

A partner links a key with its Bearer token; the key's HMAC secret is asked for only when the server
answers ``signature_required`` (:class:`~bot.platforms.iexexchanger.errors.SignatureRequired` carries
:data:`HMAC_SECRET_FIELD`). The API has no payout request and no referral-link form: payouts are asked
for on the site. Neither the cabinet's route nor the payout page's is documented (the site is a
single-page app), so both point at the site's root and ``extra`` says where to click from there.
"""

from __future__ import annotations

from bot.domain.capabilities import Capability, CredentialField, PlatformInfo
from bot.i18n import N_

__all__ = ["HMAC_SECRET_FIELD", "INFO", "NAME", "TOKEN_FIELD"]

NAME = "iexexchanger"

# Sanctum-style tokens look like "41|<40 characters>": opaque, never split or validated beyond the shape
# an HTTP header can carry.
TOKEN_FIELD = CredentialField(
    "token",
    N_("API token (Bearer)"),
    secret=True,
    pattern=r"^[!-~]{16,512}$",
    hint=N_(
        "Profile → Settings → API on the exchanger's site: the Bearer token shown once when the key was "
        "created"
    ),
)
HMAC_SECRET_FIELD = CredentialField(
    "hmac_secret",
    N_("HMAC secret"),
    secret=True,
    pattern=r"^[!-~]{8,512}$",
    hint=N_("Shown once next to the Bearer token when the key was created (the key has HMAC switched on)"),
    optional=True,
)

INFO = PlatformInfo(
    name=NAME,
    title="iEXExchanger",
    capabilities=frozenset(
        {
            Capability.PARTNER_SUMMARY,
            Capability.PARTNER_STATS,
            Capability.PARTNER_REFERRALS,
            Capability.PARTNER_EXCHANGES,
            Capability.PARTNER_PAYOUTS,
            Capability.PUSH_WEBHOOK,
            Capability.PARTNER_NEWS,
        }
    ),
    credential_fields=(TOKEN_FIELD, HMAC_SECRET_FIELD),
    key_page="/",
    payout_page="/",
    extra={
        "key_page_hint": "profile menu (top right) → Settings → API",
        "payout_page_hint": "profile menu (top right) → Referral program",
        "stats_periods": "day,week,month",
        "webhook_path": "/webhooks/iexexchanger",
    },
)
