"""Referral links to a Lara site (:class:`~bot.platforms.base.ReferralLinks`).

``{site}/?rid={rid}`` then the extra parameters, URL-encoded; they come back with the exchanges the
visit led to, in ``transition_query_params``. Only the site's root is documented to take ``rid``, so
that is the default page; a ``page_url`` elsewhere on the same site is honoured, one on another host
is not. ``rid`` always comes first and from the partner id: a parameter of that name is dropped.
Parameter names must be ``[A-Za-z0-9_]{1,32}`` (PHP turns dots and spaces into ``_`` and ``name[]``
into arrays, so other names would not come back as sent): :meth:`LaraLinks.link` raises
``ValueError`` for others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from bot.platforms.larascript.info import RID_PATTERN

__all__ = ["PARAM_NAME", "REFERRAL_PARAM", "LaraLinks"]

REFERRAL_PARAM = "rid"
PARAM_NAME = re.compile(r"[A-Za-z0-9_]{1,32}")
_RID = re.compile(RID_PATTERN)


class LaraLinks:
    reserved_params = frozenset({REFERRAL_PARAM})
    param_name_pattern = PARAM_NAME.pattern

    def __init__(self, site_url: str) -> None:
        self.site_url = site_url.rstrip("/")

    def link(self, partner_id: str, params: Mapping[str, str], page_url: str | None = None) -> str:
        rid = str(partner_id).strip()
        if not _RID.fullmatch(rid):
            raise ValueError("the rid must be 1-64 letters, digits, _ or -")
        site = urlsplit(self.site_url)
        page = urlsplit((page_url or "").strip())
        if page_url and page.netloc.lower() == site.netloc.lower() and page.scheme in ("http", "https"):
            scheme, netloc, path = page.scheme, page.netloc, page.path or "/"
        else:
            scheme, netloc, path = site.scheme, site.netloc, (site.path.rstrip("/") + "/")
        added = []
        for name, value in params.items():
            if name.lower() in self.reserved_params:
                continue
            if not PARAM_NAME.fullmatch(name):
                raise ValueError(f"parameter names must match {PARAM_NAME.pattern}")
            added.append((name, value))
        return urlunsplit((scheme, netloc, path, urlencode([(REFERRAL_PARAM, rid), *added]), ""))
