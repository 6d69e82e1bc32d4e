"""Bot deep links that attribute a customer to a partner: ``https://t.me/<bot>?start=<payload>``.

Payload: ``r<partner id>-<tag>-<mac>``, at most 64 characters of ``[A-Za-z0-9_-]`` as Telegram
requires. The partner id is the platform's, as a string of ``[A-Za-z0-9_]``; ``mac`` is HMAC-SHA256
over the rest with the bot's signing key, truncated to 9 bytes and base64url-encoded (12 characters):
a partner id or tag changed by hand fails the check and is ignored. Links made when partner ids were
numbers (``r7-spring-…``) read the same.

Reference-code links (the operator's own codes, made by admins): ``c<mac><code>``, the same 12-character
mac under another context, then the code (``[A-Za-z0-9_-]``, which may hold dashes, hence no separator).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import NamedTuple

MAX_PAYLOAD = 64
_MAC_BYTES = 9
_MAC_CHARS = 12
_OVERHEAD = 1 + 1 + 1 + _MAC_CHARS  # "r", two "-", the mac
MAX_TAG = 30
_TAG = re.compile(rf"[a-z0-9_]{{0,{MAX_TAG}}}")
_PARTNER = re.compile(r"[A-Za-z0-9_]+")
_CONTEXT = b"exchanger-bot deep link v1|"

# Payloads that look like ours (the deep-link handler checks them; others go to the plain /start).
PAYLOAD_PATTERN = r"^r[A-Za-z0-9_]+-"


class DeepLinkTarget(NamedTuple):
    partner_id: str
    tag: str


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, _CONTEXT + body.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def can_carry(partner_id: str) -> bool:
    """Whether a payload can name this partner (the id's characters and length)."""
    return bool(_PARTNER.fullmatch(partner_id)) and len(partner_id) + _OVERHEAD <= MAX_PAYLOAD


def fit_tag(partner_id: str, tag: str) -> str:
    """``tag`` cut so that a payload of ``partner_id`` with it fits in 64 characters."""
    return tag[: max(0, MAX_PAYLOAD - _OVERHEAD - len(partner_id))]


def encode_payload(key: bytes, partner_id: str, tag: str = "") -> str:
    partner = str(partner_id)
    if not _PARTNER.fullmatch(partner) or not _TAG.fullmatch(tag):
        raise ValueError("the partner id must be [A-Za-z0-9_]+ and the tag [a-z0-9_]{0,30}")
    body = f"r{partner}-{tag}"
    payload = f"{body}-{_mac(key, body)}"
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("the partner id and the tag are too long for a deep link")
    return payload


def decode_payload(key: bytes, payload: str | None) -> DeepLinkTarget | None:
    """The partner and tag of a genuine payload; None for anything else (forged, garbled, foreign)."""
    if not payload or len(payload) > MAX_PAYLOAD or len(payload) < _OVERHEAD + 1 or not payload.isascii():
        return None
    body, sep, mac = payload[: -_MAC_CHARS - 1], payload[-_MAC_CHARS - 1], payload[-_MAC_CHARS:]
    if sep != "-" or not body.startswith("r"):
        return None
    partner, dash, tag = body[1:].partition("-")
    if not dash or not _PARTNER.fullmatch(partner) or not _TAG.fullmatch(tag):
        return None
    if not hmac.compare_digest(mac, _mac(key, body)):
        return None
    return DeepLinkTarget(partner, tag)


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"


_CODE_CONTEXT = b"exchanger-bot code link v1|"
_CODE = re.compile(r"[A-Za-z0-9_-]{1,50}")
CODE_PAYLOAD_PATTERN = r"^c[A-Za-z0-9_-]{13,63}$"


def _code_mac(key: bytes, code: str) -> str:
    digest = hmac.new(key, _CODE_CONTEXT + code.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def encode_code_payload(key: bytes, code: str) -> str:
    """A ``/start`` payload that attributes the customer to the reference code ``code``."""
    if not _CODE.fullmatch(code):
        raise ValueError("a reference code in a deep link must be [A-Za-z0-9_-]{1,50}")
    return f"c{_code_mac(key, code)}{code}"


def decode_code_payload(key: bytes, payload: str | None) -> str | None:
    """The reference code of a genuine code payload; None for anything else."""
    if not payload or len(payload) > MAX_PAYLOAD or not payload.isascii() or not payload.startswith("c"):
        return None
    mac, code = payload[1 : 1 + _MAC_CHARS], payload[1 + _MAC_CHARS :]
    if len(mac) != _MAC_CHARS or not _CODE.fullmatch(code):
        return None
    return code if hmac.compare_digest(mac, _code_mac(key, code)) else None
