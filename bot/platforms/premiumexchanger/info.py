"""What PremiumExchanger serves, as data (:class:`~bot.domain.capabilities.PlatformInfo`)."""

from __future__ import annotations

from bot.domain.capabilities import Capability, CredentialField, PlatformInfo
from bot.domain.models import AmountSide
from bot.i18n import N_

__all__ = ["INFO", "NAME", "api_locale"]

NAME = "premiumexchanger"

INFO = PlatformInfo(
    name=NAME,
    title="PremiumExchanger",
    capabilities=frozenset(
        {
            Capability.CATALOGUE,
            Capability.QUOTE,
            Capability.ORDERS,
            Capability.CANCEL,
            Capability.MARK_PAID,
            Capability.ORDER_FEED,
            Capability.PUSH_CALLBACK,
            Capability.PARTNER_SUMMARY,
            Capability.PARTNER_CLICKS,
            Capability.PARTNER_EXCHANGES,
            Capability.PARTNER_PAYOUTS,
            Capability.PAYOUT_REQUEST,
            Capability.REFERRAL_LINKS,
        }
    ),
    amount_sides=(AmountSide.GIVE, AmountSide.GET, AmountSide.GIVE_WITH_FEES, AmountSide.GET_WITH_FEES),
    credential_fields=(
        # The login is a short word the site generates; printable ASCII without spaces (an HTTP header).
        CredentialField("login", N_("API login"), secret=False, pattern=r"^[!-~]{1,100}$"),
        CredentialField("key", N_("API key"), secret=True, pattern=r"^\S{16,256}$"),
    ),
    key_page="/user-api/",
)

# Bot locale → API-LANG. Other values pass through when already shaped like "de_DE" (see transport).
_API_LOCALES = {"en": "en_US", "ru": "ru_RU"}


def api_locale(lang: str | None) -> str | None:
    """The API-LANG for a bot locale: ``en`` → ``en_US``, ``ru`` → ``ru_RU``; None sends no API-LANG."""
    if not lang:
        return None
    return _API_LOCALES.get(lang.strip().lower(), lang.strip())
