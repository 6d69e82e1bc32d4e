"""The sandbox's check of a private request, in the documented order, and its HMAC verification.

1 Bearer sent (401 authentication_required) · 2 token known (401 invalid_token) · 4 API access on
for the client (403 api_access_disabled) · 5 key switched on (401 invalid_token) · 7 IP in the key's
allow-list (403 ip_not_allowed) · 8 the endpoint's scope (403 scope_denied) · 9 HMAC when the key
requires it (401 signature_required / invalid_signature / signature_replay).

The canonical string is built here on its own (not with the client's signing module), from the query
as PHP parses it: ``+`` is a space, the last of a repeated name wins, every name and value re-encoded
with ``rawurlencode`` and sorted byte-wise.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote_plus

from bot.platforms.iexexchanger.sandbox.keys import CLIENTS, DemoKey

__all__ = ["NonceBook", "Refusal", "authenticate", "canonical", "has_scope", "short"]

PREFIX = "public-api:"
SKEW = 300  # seconds a signed request's timestamp may be off


class Refusal(Exception):
    """An error answer: HTTP ``status``, ``error.code``, a human message, optional details/headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details
        self.headers = dict(headers or {})


def short(scope: str) -> str:
    scope = scope.strip().lower()
    return scope[len(PREFIX) :] if scope.startswith(PREFIX) else scope


def has_scope(key: DemoKey, scope: str) -> bool:
    return short(scope) in {short(s) for s in key.scopes}


def _enc(text: str) -> str:
    return quote(text, safe="-_.~")  # PHP rawurlencode


def _php_pairs(raw_query: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = unquote_plus(name)
        found.pop(name, None)
        found[name] = unquote_plus(value)
    return found


def canonical(method: str, path: str, raw_query: str, body: bytes, timestamp: str, nonce: str) -> str:
    query = "&".join(sorted(f"{_enc(k)}={_enc(v)}" for k, v in _php_pairs(raw_query).items()))
    return "\n".join(["v1", method.upper(), path, query, hashlib.sha256(body).hexdigest(), timestamp, nonce])


def _timestamp(value: str) -> float | None:
    if value.isdigit():
        return float(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo else None


class NonceBook:
    """Nonces seen per key within the signature window (a reuse is ``signature_replay``)."""

    def __init__(self) -> None:
        self._seen: dict[int, dict[str, float]] = {}

    def use(self, key_id: int, nonce: str, now: float) -> bool:
        seen = self._seen.setdefault(key_id, {})
        for old, at in list(seen.items()):
            if at < now - 2 * SKEW:
                del seen[old]
        if nonce in seen:
            return False
        seen[nonce] = now
        return True


@dataclass(frozen=True)
class Caller:
    key: DemoKey
    signed: bool


def _ip_allowed(key: DemoKey, remote: str | None) -> bool:
    if not key.allowed_ips:
        return True
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in key.allowed_ips)


def authenticate(
    *,
    headers: Mapping[str, str],
    keys: Iterable[DemoKey],
    remote: str | None,
    scope: str | None,
    method: str,
    path: str,
    raw_query: str,
    body: bytes,
    now: float,
    nonces: NonceBook,
) -> Caller:
    auth = headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        raise Refusal(401, "authentication_required", "Authentication required.")
    token = auth[7:].strip()
    key = next((k for k in keys if hmac.compare_digest(k.token.encode(), token.encode())), None)
    if key is None:
        raise Refusal(401, "invalid_token", "Invalid API token.")
    client = CLIENTS.get(key.client_id)
    if client is not None and not client.api_access:
        raise Refusal(403, "api_access_disabled", "API access is disabled for this account.")
    if not key.enabled:
        raise Refusal(401, "invalid_token", "Invalid API token.")
    if not _ip_allowed(key, remote):
        raise Refusal(403, "ip_not_allowed", "Requests from this IP address are not allowed for this token.")
    if scope is not None and not has_scope(key, scope):
        raise Refusal(403, "scope_denied", "This API token does not have the required scope.")
    timestamp = headers.get("X-Api-Timestamp", "").strip()
    nonce = headers.get("X-Api-Nonce", "").strip()
    signature = headers.get("X-Api-Signature", "").strip()
    if not (timestamp and nonce and signature):
        if key.hmac_required:
            raise Refusal(401, "signature_required", "HMAC signature is required for this token.")
        return Caller(key, signed=False)
    if key.hmac_secret is None:
        return Caller(key, signed=False)  # a key without HMAC ignores the headers
    expected = hmac.new(
        key.hmac_secret.encode(),
        canonical(method, path, raw_query, body, timestamp, nonce).encode(),
        hashlib.sha256,
    ).hexdigest()
    given = signature[7:] if signature.lower().startswith("sha256=") else signature
    moment = _timestamp(timestamp)
    if (
        not hmac.compare_digest(expected.encode(), given.lower().encode("ascii", "replace"))
        or moment is None
        or abs(now - moment) > SKEW
    ):
        raise Refusal(401, "invalid_signature", "Invalid request signature.")
    if not nonces.use(key.key_id, nonce, now):
        raise Refusal(401, "signature_replay", "This request nonce has already been used.")
    return Caller(key, signed=True)
