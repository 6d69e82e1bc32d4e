"""0trace's numeric error codes → the neutral errors. The code decides, never the HTTP status (the
single exception: code 1 with HTTP 409 is an Idempotency-Key reused with another body)."""

from __future__ import annotations

from bot.domain.errors import (
    ActionNotAllowed,
    AmountOutOfLimits,
    ApiError,
    CredentialsRejected,
    ExchangerError,
    ExchangerUnavailable,
    IdempotencyConflict,
    Maintenance,
    OrderNotFound,
    RateLimited,
    ValidationFailed,
)

__all__ = ["LIMIT_MAX", "LIMIT_MIN", "RETRYABLE_CODES", "error_for"]

LIMIT_MIN, LIMIT_MAX = 7, 8
RATE_LIMIT = 5
# Worth repeating a read (and a create, with the same key and bytes) after these.
RETRYABLE_CODES = frozenset({5, 9, 10, 11, 99})


class UpstreamUnavailable(ExchangerUnavailable):
    """0trace says one of its own upstreams (or its reserve) is down: try again shortly."""


def error_for(
    code: int, msg: str, *, method: str, http_status: int | None = None, retry_after: float | None = None
) -> ExchangerError:
    text, key = msg or "", str(code)
    if code == 1:
        if http_status == 409:
            return IdempotencyConflict(
                "the Idempotency-Key was used with another request body", method=method, code=key, text=text
            )
        return ValidationFailed(text or "INVALID_REQUEST", method=method, code=key)
    if code in (2, 3):
        return CredentialsRejected(
            "0trace refused the API key or the signature", method=method, code=key, text=text
        )
    if code == 4:
        return CredentialsRejected(
            "the partner record is switched off by 0trace's operator", method=method, code=key, text=text
        )
    if code == RATE_LIMIT:
        return RateLimited(text or "RATE_LIMIT", retry_after=retry_after, method=method, code=key, text=text)
    if code == 6:
        return OrderNotFound(text or "NOT_FOUND", method=method, code=key, text=text)
    if code in (LIMIT_MIN, LIMIT_MAX):
        return AmountOutOfLimits(text, method=method, code=key, text=text)
    if code == 10:
        return Maintenance(text or "MAINTENANCE", method=method, code=key, text="")
    if code in (9, 11, 99):
        return UpstreamUnavailable(text or "unavailable", method=method, code=key, text=text)
    if code == 12:
        return ActionNotAllowed(text or "EMERGENCY_INVALID_CHOICE", method=method, code=key, text=text)
    return ApiError(key, text, method=method)
