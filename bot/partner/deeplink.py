"""Bot deep links that attribute a customer to a partner: ``https://t.me/<bot>?start=<payload>``.

Payload: ``r<partner id>-<tag>-<mac>``, at most 64 characters of ``[A-Za-z0-9_-]`` as Telegram
requires. ``mac`` is HMAC-SHA256 over the rest with the bot's signing key, truncated to 9 bytes and
base64url-encoded (12 characters): a partner id or tag changed by hand fails the check and is ignored.
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
_TAG = re.compile(r"[a-z0-9_]{0,30}")
_PARTNER = re.compile(r"[1-9][0-9]{0,11}")
_CONTEXT = b"exchanger-bot deep link v1|"


class DeepLinkTarget(NamedTuple):
    partner_id: int
    tag: str


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, _CONTEXT + body.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def encode_payload(key: bytes, partner_id: int | str, tag: str = "") -> str:
    partner = str(partner_id)
    if not _PARTNER.fullmatch(partner) or not _TAG.fullmatch(tag):
        raise ValueError("partner id must be a positive integer and the tag [a-z0-9_]{0,30}")
    body = f"r{partner}-{tag}"
    payload = f"{body}-{_mac(key, body)}"
    assert len(payload) <= MAX_PAYLOAD
    return payload


def decode_payload(key: bytes, payload: str | None) -> DeepLinkTarget | None:
    """The partner and tag of a genuine payload; None for anything else (forged, garbled, foreign)."""
    if not payload or len(payload) > MAX_PAYLOAD or len(payload) < _MAC_CHARS + 3 or not payload.isascii():
        return None
    body, sep, mac = payload[: -_MAC_CHARS - 1], payload[-_MAC_CHARS - 1], payload[-_MAC_CHARS:]
    if sep != "-" or not body.startswith("r"):
        return None
    partner, dash, tag = body[1:].partition("-")
    if not dash or not _PARTNER.fullmatch(partner) or not _TAG.fullmatch(tag):
        return None
    if not hmac.compare_digest(mac, _mac(key, body)):
        return None
    return DeepLinkTarget(int(partner), tag)


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"
