"""Errors every platform adapter raises, in the bot's own words.

Every error carries the API method it came from. Messages are built from the method name and the
server's error text only: they never contain a key, a login, a token or a signature.

Hierarchy::

    ExchangerError
    ├── ExchangerUnavailable            not the customer's fault: say "the exchange is unavailable"
    │   ├── CredentialsRejected, IpNotAllowed, PermissionMissing
    │   │                               └── SignatureRequired: ask for ``field`` too, check again
    │   ├── Maintenance                 ``text``: the site's own words, when it wrote some
    │   ├── RateLimited                 ``retry_after`` seconds
    │   ├── UnexpectedResponse          non-JSON / HTML / wrong shape / unexpected status
    │   └── TransportError              connection failed or broke
    │       └── ExchangerTimeout
    ├── DirectionUnavailable            gone, paused, or closed to orders through the API
    │   └── DirectionProhibited
    ├── ActionNotAllowed                cancel / mark paid / a decision refused
    ├── OrderNotFound                   also: the order's status no longer allows the action
    ├── PartnerError
    │   ├── NotAPartner, PartnerProgramOff
    │   └── PayoutRefused
    ├── IdempotencyConflict
    ├── AmountOutOfLimits               ``minimum`` / ``maximum`` in the amount's own currency
    ├── ValidationFailed                rejected form fields (``AMOUNT_FIELD`` for the amount)
    └── ApiError                        any other error

A ``TransportError`` on a write means the outcome is unknown when ``may_have_been_processed`` is true:
the platform's placement strategy looks the order up before anything is sent again.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "ActionNotAllowed",
    "AmountOutOfLimits",
    "ApiError",
    "CredentialsRejected",
    "DirectionProhibited",
    "DirectionUnavailable",
    "ExchangerError",
    "ExchangerTimeout",
    "ExchangerUnavailable",
    "IdempotencyConflict",
    "IpNotAllowed",
    "Maintenance",
    "NotAPartner",
    "OrderNotFound",
    "PartnerError",
    "PartnerProgramOff",
    "PayoutRefused",
    "PermissionMissing",
    "RateLimited",
    "SignatureRequired",
    "TransportError",
    "UnexpectedResponse",
    "ValidationFailed",
]


class ExchangerError(Exception):
    """Base class. ``method`` is the API method; ``code``/``text`` the server's error, when it sent one."""

    def __init__(
        self, message: str = "", *, method: str | None = None, code: str | None = None, text: str = ""
    ) -> None:
        self.method = method
        self.code = code
        self.text = text
        self.message = message or text or type(self).__name__
        super().__init__(f"{method}: {self.message}" if method else self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(method={self.method!r}, code={self.code!r}, message={self.message!r})"


class ExchangerUnavailable(ExchangerError):
    """The exchange cannot serve the request right now; nothing the customer did or can fix."""


class CredentialsRejected(ExchangerUnavailable):
    """The exchange does not accept the key: wrong, revoked, API access off for the account."""


class IpNotAllowed(ExchangerUnavailable):
    """The key is restricted to other IP addresses."""


class Maintenance(ExchangerUnavailable):
    """The exchange is closed for maintenance; ``text`` is the site's own message (may be empty)."""


class PermissionMissing(ExchangerUnavailable):
    """The key lacks the permission this call needs; ``permission`` names it as the site does."""

    def __init__(self, message: str = "", *, permission: str | None = None, **kwargs: object) -> None:
        self.permission = permission or kwargs.get("method")  # type: ignore[assignment]
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class SignatureRequired(PermissionMissing):
    """The key works only with signed requests: ask the partner for the credential field named
    ``field`` (an optional field of ``PlatformInfo.credential_fields``, e.g. the key's HMAC secret)
    and check the key again with it."""

    def __init__(self, message: str = "", *, field: str, **kwargs: object) -> None:
        self.field = field
        kwargs.setdefault("permission", field)
        super().__init__(message or f"the key needs signed requests: {field} is required", **kwargs)  # type: ignore[arg-type]


class RateLimited(ExchangerUnavailable):
    """The exchange asks us to slow down; ``retry_after`` seconds (None: not said)."""

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class DirectionUnavailable(ExchangerError):
    """The direction is gone, paused, or not open to orders through the API: choose another."""


class DirectionProhibited(DirectionUnavailable):
    """The direction can be used on the site only, not through the bot."""


class UnexpectedResponse(ExchangerUnavailable):
    """The body was not the API's JSON envelope (HTML page, proxy error, wrong shape, non-200)."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        status_code: int | None = None,
        snippet: str = "",
        transient: bool = False,
    ) -> None:
        self.status_code = status_code
        self.snippet = snippet
        self.transient = transient  # a proxy/maintenance page or 5xx: worth retrying a read
        details = [message]
        if status_code is not None:
            details.append(f"HTTP {status_code}")
        if snippet:
            details.append(f"body starts {snippet!r}")
        super().__init__(", ".join(details), method=method)


class TransportError(ExchangerUnavailable):
    """The connection failed or broke. ``may_have_been_processed``: the server may have acted on it."""

    def __init__(
        self, message: str, *, method: str | None = None, may_have_been_processed: bool = True
    ) -> None:
        self.may_have_been_processed = may_have_been_processed
        super().__init__(message, method=method)


class ExchangerTimeout(TransportError):
    """No answer in time. On a write method the server may still have processed the request."""


class ActionNotAllowed(ExchangerError):
    """The exchange refused the action (cancel, mark paid, a decision) for this order."""


class OrderNotFound(ExchangerError):
    """The exchange does not show the order (to this key), or its status no longer allows the action.

    Never conclude the order vanished from this alone: keep the last known status.
    """


class PartnerError(ExchangerError):
    """Partner-cabinet errors."""


class NotAPartner(PartnerError):
    """The key does not belong to a partner account (a site's system key, say)."""


class PartnerProgramOff(PartnerError):
    """The affiliate module is off on this exchange."""


class PayoutRefused(PartnerError):
    """A payout request was refused; ``text`` is the server's reason (may contain HTML). ``reason``,
    where the adapter recognises it: "method" (unknown payout method), "account" (the account was
    refused), "minimum" (the balance is below the minimum payout); None otherwise."""

    def __init__(
        self, text: str, *, method: str | None = None, code: str | None = None, reason: str | None = None
    ) -> None:
        self.reason = reason
        super().__init__(text or "payout refused", method=method, code=code, text=text)


class IdempotencyConflict(ExchangerError):
    """The exchange already has an order (or another request) under this idempotency key."""


class AmountOutOfLimits(ExchangerError):
    """The amount is outside the exchange's limits, in the amount's own currency when known."""

    def __init__(
        self, message: str = "", *, minimum: Decimal | None = None, maximum: Decimal | None = None,
        **kwargs: object,
    ) -> None:  # fmt: skip
        self.minimum, self.maximum = minimum, maximum
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class ValidationFailed(ExchangerError):
    """The exchange rejected the form. ``field_errors`` maps a field name (``AMOUNT_FIELD`` for the
    amount) to the server's message (may contain HTML)."""

    def __init__(
        self, text: str, field_errors: dict[str, str] | None = None, *, method: str | None = None,
        code: str | None = None,
    ) -> None:  # fmt: skip
        self.field_errors = dict(field_errors or {})
        message = text or "validation failed"
        if self.field_errors:
            message += f" (fields: {', '.join(sorted(self.field_errors))})"
        super().__init__(message, method=method, code=code, text=text)


class ApiError(ExchangerError):
    """Any other error the API reported."""

    def __init__(self, code: str | None, text: str, *, method: str | None = None) -> None:
        super().__init__(
            f"error {code}: {text}" if text else f"error {code}", method=method, code=code, text=text
        )
