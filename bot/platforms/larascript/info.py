"""What a Lara-script exchanger serves, as data (:class:`~bot.domain.capabilities.PlatformInfo`).

Lara publishes one partner method (the list of a partner's referral exchanges, ``X-API-Key``) and no
customer API: a Lara deployment of the bot is partner-only. The cabinet's summary and statistics are
computed here from that one list (so no ``PARTNER_STATS``: nothing is computed by the server). There
are no clicks, balance, payouts or payout requests. The API never returns the partner's ``rid``: the
partner types it (or pastes their referral link) when linking the key.
"""

from __future__ import annotations

from bot.domain.capabilities import Capability, CredentialField, PlatformInfo
from bot.i18n import N_

__all__ = ["INFO", "KEY_FIELD", "NAME", "RID_FIELD", "RID_PATTERN"]

NAME = "larascript"

# The rid as the site writes it in referral links (numeric in the docs; kept as text).
RID_PATTERN = r"[A-Za-z0-9_-]{1,64}"

KEY_FIELD = CredentialField(
    "key",
    N_("API key"),
    secret=True,
    pattern=r"^[!-~]{8,512}$",
    hint=N_("Your personal account on the exchanger's website: the partner API key (X-API-Key)"),
)
# A rid, or a referral link holding one (the bot takes the rid from it and checks the link's site).
RID_FIELD = CredentialField(
    "rid",
    N_("partner ID (rid) or your referral link"),
    secret=False,
    pattern=rf"^(?:{RID_PATTERN}|(?:https?://)?[!-~]{{1,2000}}[?&]rid={RID_PATTERN}(?:[&#][!-~]*)?)$",
    hint=N_(
        "The rid= value of your referral link, e.g. 123 in https://site/?rid=123; or paste the whole link"
    ),
)

INFO = PlatformInfo(
    name=NAME,
    title="Lara-script",
    capabilities=frozenset(
        {
            Capability.PARTNER_SUMMARY,
            Capability.PARTNER_EXCHANGES,
            Capability.REFERRAL_LINKS,
            Capability.PARTNER_NEWS,
        }
    ),
    credential_fields=(KEY_FIELD, RID_FIELD),
    extra={
        # The summary is computed from the exchange list: "earned" per reward currency, no balance.
        "summary_from_exchanges": "1",
        # A period's exchanges are those created in it; "completed" counts those completed by now.
        "period_rule": "created_in_period_completed_by_now",
        "referral_param": "rid",
        "param_name_pattern": r"[A-Za-z0-9_]{1,32}",
    },
)
