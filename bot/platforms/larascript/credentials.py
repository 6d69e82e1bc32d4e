"""What a partner types at /login: the API key, then their rid or their referral link.

The API never returns the rid, so it is the partner's word; a pasted link must be on the exchanger's
own site (``www.`` aside) and carry exactly one ``rid``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from pydantic import SecretStr

from bot.domain.capabilities import CredentialInputError, PartnerCredentials
from bot.logs import REDACTOR
from bot.platforms.larascript.info import KEY_FIELD, NAME, RID_FIELD, RID_PATTERN

__all__ = ["key_label", "make_credentials", "rid_from"]

_RID = re.compile(RID_PATTERN)


def _refused(reason: str, message: str) -> CredentialInputError:
    return CredentialInputError(RID_FIELD.name, reason, message)


def _host(netloc_host: str | None) -> str:
    host = (netloc_host or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def rid_from(value: str, site_url: str) -> str:
    """The rid typed, or taken from a referral link on ``site_url``. ``CredentialInputError`` (a
    ValueError) says what is wrong."""
    text = (value or "").strip()
    if _RID.fullmatch(text):
        return text
    if not text:
        raise _refused("empty", "rid: empty; send the rid (e.g. 123) or your referral link")
    if "://" not in text and ("rid=" in text or "/" in text):
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refused("shape", "rid: must be 1-64 letters, digits, _ or -, or a referral link with ?rid=")
    site_host = _host(urlsplit(site_url).hostname)
    if _host(parts.hostname) != site_host:
        raise _refused(
            "other_site", f"rid: the link is for another site; a referral link of {site_host} is needed"
        )
    rids = [v.strip() for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() == "rid"]
    if not rids:
        raise _refused("missing_param", "rid: the link has no rid= parameter")
    if len(set(rids)) > 1:
        raise _refused("ambiguous", "rid: the link has more than one rid")
    if not _RID.fullmatch(rids[0]):
        raise _refused("shape", "rid: the link's rid must be 1-64 letters, digits, _ or -")
    return rids[0]


def key_label(key: str, rid: str) -> str:
    """What the partner recognises the link by: their rid and the key's first characters."""
    return f"rid {rid} · {key[:4]}…"


def make_credentials(values: Mapping[str, str], site_url: str) -> PartnerCredentials:
    key = (values.get(KEY_FIELD.name) or "").strip()
    if key:
        REDACTOR.add(key)
    if not KEY_FIELD.accepts(key):
        raise CredentialInputError(
            KEY_FIELD.name, "shape", "key: missing or malformed (8-512 printable characters without spaces)"
        )
    rid = rid_from(values.get(RID_FIELD.name) or "", site_url)
    return PartnerCredentials(
        NAME,
        {KEY_FIELD.name: SecretStr(key), RID_FIELD.name: SecretStr(rid)},
        label=key_label(key, rid),
    )
