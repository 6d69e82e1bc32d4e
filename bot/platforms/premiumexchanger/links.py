"""Referral links to a PremiumExchanger site (:class:`~bot.platforms.base.ReferralLinks`).

``https://SITE/?rid=<partner user id>`` credits the partner on any page of the site (a direction's
``url`` lands on that pair). Extra parameters (UTM tags) come back with the click in
get_partner_links' ``query_string``. ``rid`` always comes first and always from the partner id: a
parameter of that name in ``params`` or already in ``page_url`` is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REFERRAL_PARAM", "PremiumExchangerLinks"]

REFERRAL_PARAM = "rid"


class PremiumExchangerLinks:
    reserved_params = frozenset({REFERRAL_PARAM})

    def __init__(self, site_url: str) -> None:
        self.site_url = site_url.rstrip("/")

    def link(self, partner_id: str, params: Mapping[str, str], page_url: str | None = None) -> str:
        """``page_url`` (or the site's root) + ``rid`` + ``params`` URL-encoded, in their order.
        A parameter already in ``page_url`` is kept unless ``params`` sets it again."""
        parts = urlsplit((page_url or self.site_url + "/").strip())
        ours = {name.lower() for name in params} | self.reserved_params
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in ours]
        added = [(k, v) for k, v in params.items() if k.lower() not in self.reserved_params]
        query = urlencode([(REFERRAL_PARAM, str(partner_id)), *kept, *added])
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
