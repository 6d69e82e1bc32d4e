"""Request signatures, nonces and webhook signatures (the same HMAC, different secrets).

A request is signed over the exact bytes sent: serialize once (:func:`body_bytes`), sign those, send
those. The nonce is new on every attempt, retries included: the server remembers nonces for 5 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["body_bytes", "new_nonce", "sign", "signature_matches"]


def _default(value: object) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("a non-finite amount can't be sent")
        return format(value, "f")
    raise TypeError(f"can't send {type(value).__name__}")


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """Compact JSON with decimals as strings, in the payload's own key order: the one serialization."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=_default).encode()


def sign(secret: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``body`` keyed with ``secret``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, given: str) -> bool:
    """Constant-time check of a hex signature (case-insensitive, surrounding spaces ignored)."""
    expected = sign(secret, body)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("ascii", "replace"))


def new_nonce() -> str:
    """32 random hex characters (16 bytes): within the server's 16..64, never reused."""
    return secrets.token_hex(16)
