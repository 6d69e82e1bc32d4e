"""HMAC signatures of API v3, byte for byte as the server's ApiSignatureMiddleware computes them.

Requests (``X-Api-Timestamp``, ``X-Api-Nonce``, ``X-Api-Signature``)::

    v1 \\n METHOD \\n /api/v3/private/... \\n canonical_query \\n sha256hex(body) \\n timestamp \\n nonce

``canonical_query``: each parameter as PHP sees it, ``rawurlencode(name)=rawurlencode(value)`` (RFC 3986:
only ``A-Z a-z 0-9 - _ . ~`` stay, every other UTF-8 byte is ``%XX`` upper-case), sorted byte-wise,
joined by ``&``. The request URL carries the very same encoding, so what PHP decodes is what was signed.

Webhooks (``X-Webhook-Signature``)::

    v1 \\n event_id \\n event_type \\n timestamp \\n nonce \\n sha256hex(raw body)

Three different secrets: the Bearer token, the key's HMAC secret and an endpoint's webhook secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from urllib.parse import quote, unquote_plus

__all__ = [
    "EMPTY_BODY_SHA256",
    "canonical_query",
    "canonical_request",
    "new_nonce",
    "php_query_pairs",
    "query_string",
    "rawurlencode",
    "sign_request",
    "signature_matches",
    "webhook_canonical",
    "webhook_signature",
]

EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PREFIX = "sha256="


def rawurlencode(text: str) -> str:
    """PHP's ``rawurlencode``: RFC 3986 unreserved characters kept, everything else ``%XX``."""
    return quote(text, safe="-_.~", encoding="utf-8", errors="strict")


def _check_unique(params: Sequence[tuple[str, str]]) -> None:
    names = [name for name, _ in params]
    if len(set(names)) != len(names):
        raise ValueError("a query parameter name is repeated (PHP would keep only the last one)")


def query_string(params: Sequence[tuple[str, str]]) -> str:
    """The query as sent: the canonical encoding, in the given order (no ``+`` for spaces)."""
    _check_unique(params)
    return "&".join(f"{rawurlencode(k)}={rawurlencode(v)}" for k, v in params)


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    pairs = list(params)
    _check_unique(pairs)
    return "&".join(sorted(f"{rawurlencode(k)}={rawurlencode(v)}" for k, v in pairs))


def php_query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """A raw query string as PHP parses it for signing: ``+`` is a space, the last of a repeated name
    wins, bracketed names stay as written (``filter[status]``)."""
    found: dict[str, str] = {}
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = unquote_plus(name, errors="strict")
        if not name:
            continue
        found.pop(name, None)
        found[name] = unquote_plus(value, errors="strict")
    return list(found.items())


def canonical_request(
    method: str, path: str, params: Iterable[tuple[str, str]], body: bytes, timestamp: str, nonce: str
) -> str:
    return "\n".join(
        [
            "v1",
            method.upper(),
            path,
            canonical_query(params),
            hashlib.sha256(body).hexdigest(),
            timestamp,
            nonce,
        ]
    )


def sign_request(
    secret: str,
    method: str,
    path: str,
    params: Iterable[tuple[str, str]],
    body: bytes,
    timestamp: str,
    nonce: str,
) -> str:
    """``sha256=<lowercase hex>`` for ``X-Api-Signature``; ``path`` includes ``/api/v3`` (no host, no
    query)."""
    message = canonical_request(method, path, params, body, timestamp, nonce)
    return PREFIX + hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    """Unique per request (the server refuses a reused nonce with ``signature_replay``)."""
    return secrets.token_hex(16)


def webhook_canonical(event_id: str, event_type: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join(["v1", event_id, event_type, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def webhook_signature(
    secret: str, event_id: str, event_type: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """``sha256=<hex>`` over the raw body bytes, never re-encoded JSON."""
    message = webhook_canonical(event_id, event_type, timestamp, nonce, body)
    return PREFIX + hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    """Constant-time comparison, with or without the ``sha256=`` prefix, hex in either case."""
    given = given.strip()
    if given[: len(PREFIX)].lower() == PREFIX:
        given = given[len(PREFIX) :]
    if expected.startswith(PREFIX):
        expected = expected[len(PREFIX) :]
    return hmac.compare_digest(expected.lower().encode("ascii"), given.lower().encode("ascii", "replace"))
