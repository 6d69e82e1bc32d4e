"""The API v3 JSON envelope and its errors, mapped to the bot's neutral errors.

Success: ``{"state": 0, "message", "result", "meta": {request_id, correlation_id, timestamp,
pagination}}``. Error: ``{"state": 1, "message", "code": <HTTP status>, "result": null, "error": {"code",
"type" (deprecated alias), "details"}, "meta"}``. A response is a success only when it is 2xx **and**
``state == 0``; branch on ``error.code`` (``type`` when ``code`` is missing), never on ``message``. A body
that is not a JSON object with an integer ``state`` (an nginx page, a maintenance page with status 200,
a truncated body) is a transport failure, retryable like a 5xx.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.domain.errors import (
    ApiError,
    CredentialsRejected,
    ExchangerError,
    IdempotencyConflict,
    IpNotAllowed,
    Maintenance,
    PermissionMissing,
    RateLimited,
    UnexpectedResponse,
    ValidationFailed,
)
from bot.platforms.iexexchanger import wire
from bot.platforms.iexexchanger.errors import (
    ApiAccessDisabled,
    QuotaExhausted,
    SignatureRejected,
    SignatureReplay,
    SignatureRequired,
)
from bot.platforms.iexexchanger.scopes import KEYS_PAGE, missing_scope_message, short_scope

__all__ = ["Envelope", "NotFound", "decode", "error_for", "redact", "snippet"]


class NotFound(ApiError):
    """404: no such resource or route on this install."""


@dataclass(frozen=True)
class Envelope:
    http_status: int
    state: int
    message: str = ""
    error_code: str | None = None
    details: Any = None
    result: Any = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    retry_after: float | None = None  # seconds, from Retry-After (or X-RateLimit-Reset on a 429)

    @property
    def ok(self) -> bool:
        return 200 <= self.http_status < 300 and self.state == 0

    @property
    def pagination(self) -> Mapping[str, Any] | None:
        value = self.meta.get("pagination")
        return value if isinstance(value, Mapping) else None


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def snippet(body: bytes, secrets: tuple[str, ...], limit: int = 120) -> str:
    """A short printable excerpt of a body: an HTML page's title, or its text without tags."""
    content = body[:4096].decode("utf-8", errors="replace")
    title = re.search(r"<title[^>]*>(.*?)</title>", content, re.IGNORECASE | re.DOTALL)
    if title:
        content = "title: " + title.group(1)
    content = re.sub(r"<[^>]*>", " ", content)
    content = re.sub(r"[\x00-\x1f\x7f\s]+", " ", content).strip()
    content = redact(content, secrets)
    return content[:limit] + ("…" if len(content) > limit else "")


def decode(
    status: int, body: bytes, headers: Mapping[str, str], *, method: str, secrets: tuple[str, ...]
) -> Envelope:
    """The envelope of a response, or ``UnexpectedResponse`` (transient: worth retrying a read)."""
    try:
        payload = wire.decode_json(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise UnexpectedResponse(
            "the body is not JSON",
            method=method,
            status_code=status,
            snippet=snippet(body, secrets),
            transient=True,
        ) from None
    state = payload.get("state") if isinstance(payload, dict) else None
    if isinstance(state, bool) or not isinstance(state, int):
        raise UnexpectedResponse(
            "not an API v3 envelope (no integer state)",
            method=method,
            status_code=status,
            snippet=snippet(body, secrets),
            transient=True,
        )
    meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
    error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
    code = wire.opt_text(error.get("code")) or wire.opt_text(error.get("type"))
    request_id = wire.opt_text(meta.get("request_id")) or wire.opt_text(headers.get("x-request-id"))
    message = payload.get("message")
    return Envelope(
        http_status=status,
        state=state,
        message=redact(message if isinstance(message, str) else "", secrets)[:500],
        error_code=code.lower() if code else None,
        details=error.get("details"),
        result=payload.get("result"),
        meta=meta,
        request_id=request_id,
    )


def _field_errors(details: Any, secrets: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(details, Mapping):
        return {}
    found: dict[str, str] = {}
    for name, value in details.items():
        if isinstance(value, list):
            words = " ".join(wire.text(v) for v in value if wire.text(v))
        else:
            words = wire.text(value)
        found[str(name)] = redact(words, secrets)
    return found


def _scope_named(details: Any) -> str | None:
    if isinstance(details, Mapping):
        for key in ("scope", "required_scope", "missing_scope"):
            value = details.get(key)
            if isinstance(value, str) and value.strip():
                return short_scope(value)
        scopes = details.get("required_scopes") or details.get("scopes")
        if isinstance(scopes, list) and scopes and isinstance(scopes[0], str):
            return short_scope(scopes[0])
    return None


def error_for(
    envelope: Envelope,
    *,
    method: str,
    scope: str | None = None,
    retry_after: float | None = None,
    secrets: tuple[str, ...] = (),
) -> ExchangerError:
    """The neutral error for an error envelope (or a non-2xx status with ``state`` 0)."""
    code = envelope.error_code
    status = envelope.http_status
    said = envelope.message
    ref = f" [request {envelope.request_id}]" if envelope.request_id else ""

    if code == "authentication_required":
        return CredentialsRejected(
            "no Bearer token reached the server (authentication_required): a proxy in between may drop "
            "the Authorization header" + ref,
            method=method,
            code=code,
            text=said,
        )
    if code == "invalid_token":
        return CredentialsRejected(
            "the exchanger does not accept the token (invalid_token): it is wrong, deleted, switched off "
            f"or expired. Check that the key is switched on in {KEYS_PAGE}, or create a new key and link "
            "its token" + ref,
            method=method,
            code=code,
            text=said,
        )
    if code == "api_access_disabled":
        return ApiAccessDisabled(
            "API access is off for this account (api_access_disabled): ask the exchanger's support to "
            "enable API access for your account" + ref,
            method=method,
            code=code,
            text=said,
        )
    if code == "ip_not_allowed":
        return IpNotAllowed(
            "the key accepts requests only from other IP addresses (ip_not_allowed): add the bot server's "
            f"IP address to the key's IP allow-list in {KEYS_PAGE}, or clear the list" + ref,
            method=method,
            code=code,
            text=said,
        )
    if code == "scope_denied" or (status == 403 and code is None):
        permission = _scope_named(envelope.details) or scope
        message = (
            missing_scope_message(permission) if permission else "the key lacks the scope this call needs"
        )
        return PermissionMissing(message + ref, permission=permission, method=method, code=code or "403")
    if code == "signature_required":
        return SignatureRequired(method=method, code=code, text=said)
    if code == "signature_replay":
        return SignatureReplay(
            "the server saw this request's nonce already (signature_replay)" + ref,
            method=method,
            code=code,
            text=said,
        )
    if code == "invalid_signature":
        return SignatureRejected(
            "the server refused the request signature (invalid_signature): the HMAC secret is wrong (the "
            "webhook secret is a different one) or this server's clock is off" + ref,
            method=method,
            code=code,
            text=said,
        )
    if code == "quota_exceeded":
        return QuotaExhausted(
            "the key's API quota is used up (quota_exceeded)" + ref,
            retry_after=retry_after,
            method=method,
            code=code,
            text=said,
        )
    if code == "rate_limit_exceeded" or status == 429:
        return RateLimited(
            "too many requests (rate_limit_exceeded)" + ref,
            retry_after=retry_after,
            method=method,
            code=code or "429",
            text=said,
        )
    if code == "validation_error" or status == 422:
        return ValidationFailed(
            said or "validation failed", _field_errors(envelope.details, secrets), method=method, code=code
        )
    if code == "idempotency_conflict" or status == 409:
        return IdempotencyConflict((said or "idempotency conflict") + ref, method=method, code=code)
    if code in ("maintenance", "service_unavailable", "maintenance_mode"):
        return Maintenance(
            "the exchange is closed for maintenance" + ref, method=method, code=code, text=said
        )
    if status >= 500:
        return UnexpectedResponse(
            f"server error {code or ''}".strip() + ref, method=method, status_code=status, transient=True
        )
    if status == 401:
        return CredentialsRejected(
            f"the server refused the key ({code or 'HTTP 401'})" + ref, method=method, code=code, text=said
        )
    if status == 404 or code == "not_found":
        return NotFound(code or "not_found", (said or "not found") + ref, method=method)
    if envelope.state == 0:
        return UnexpectedResponse(
            "a success envelope with an error status" + ref, method=method, status_code=status
        )
    return ApiError(code or str(status), said + ref, method=method)
