"""The partner cabinet's commands, for the bot's command menu, /help and the cabinet's own screen."""

from aiogram.utils.i18n import gettext as _

from bot.domain.capabilities import PlatformInfo
from bot.i18n import N_
from bot.partner.features import Feature, features

# (command, feature it needs or None, description msgid) in the menu's and /help's order.
_COMMANDS: tuple[tuple[str, Feature | None, str], ...] = (
    ("partner", None, N_("Partner cabinet")),
    ("stats", Feature.STATS, N_("Partner statistics")),
    ("clicks", Feature.CLICKS, N_("Clicks on your referral links")),
    ("referrals", Feature.REFERRALS, N_("Clients you referred")),
    ("pexchanges", Feature.EXCHANGES, N_("Exchanges you referred")),
    ("payouts", Feature.PAYOUTS, N_("Your partner payouts")),
    ("withdraw", Feature.WITHDRAW, N_("Request a partner payout")),
    ("link", Feature.LINK, N_("Make a referral link")),
    ("login", None, N_("Link your partner key")),
    ("logout", None, N_("Unlink your partner key")),
)


def partner_commands(info: PlatformInfo) -> list[tuple[str, str]]:
    """(command, msgid of its description) of every partner command this platform serves, for the
    command menu and /help; empty when the platform has no partner cabinet."""
    served = features(info)
    if not served:
        return []
    return [(command, text) for command, needs, text in _COMMANDS if needs is None or needs in served]


def partner_greeting(info: PlatformInfo) -> str:
    """What the bot offers partners on this platform, for /start of a partner-only deployment (only
    what it serves: no balance or payouts where the platform has none). Translated."""
    served = features(info)
    if Feature.SUMMARY in served and Feature.PAYOUTS in served:
        return _(
            "I am the exchange service's assistant for its partners: your balance, statistics, referred "
            "exchanges and payouts, right here."
        )
    return _(
        "I am the exchange service's assistant for its partners: what you earned, your statistics and "
        "the exchanges you referred, right here."
    )
