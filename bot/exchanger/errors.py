"""Errors raised by exchanger platforms.

Every error carries the API method it came from. Messages are built from the method name and the
server's error text only: they never contain the API key or login.

Hierarchy::

    ExchangerError
    ├── ExchangerUnavailable            not the customer's fault: say "the exchange is unavailable"
    │   ├── ApiDisabled, IpBlocked, Maintenance, MethodNotSupported
    │   ├── DirectionNotFound, DirectionProhibited
    │   ├── UnexpectedResponse          non-JSON / HTML / wrong shape / non-200
    │   └── TransportError              connection failed or broke
    │       └── ExchangerTimeout
    ├── ActionDisabled                  cancel / pay / success refused
    ├── NoBid                           "no bid exists" (also: the status forbids the action)
    ├── PartnerError
    │   ├── NoPartnerId, NoActivePartnerProgram
    │   └── PayoutRefused
    ├── ApiIdNotUnique
    ├── ValidationFailed                create_bid field errors
    └── ApiError                        any other error code / text

A ``TransportError`` on a write method (create_bid, pay/cancel/success, payouts) means the outcome is
unknown when ``may_have_been_processed`` is true: look the order up (``find_order_by_api_id``).
"""

from __future__ import annotations

__all__ = [
    "ActionDisabled",
    "ApiDisabled",
    "ApiError",
    "ApiIdNotUnique",
    "DirectionNotFound",
    "DirectionProhibited",
    "ExchangerError",
    "ExchangerTimeout",
    "ExchangerUnavailable",
    "IpBlocked",
    "Maintenance",
    "MethodNotSupported",
    "NoActivePartnerProgram",
    "NoBid",
    "NoPartnerId",
    "PartnerError",
    "PayoutRefused",
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


class ApiDisabled(ExchangerUnavailable):
    """Wrong login/key, user banned or not allowed the API, API off, or site maintenance."""


class IpBlocked(ExchangerUnavailable):
    """The key is restricted to other IP addresses."""


class Maintenance(ExchangerUnavailable):
    """The exchange is in maintenance mode."""


class MethodNotSupported(ExchangerUnavailable):
    """The method is not enabled for this key (or the platform has no such capability)."""


class DirectionNotFound(ExchangerUnavailable):
    """The direction does not exist or is not allowed for the API."""


class DirectionProhibited(ExchangerUnavailable):
    """The direction is allowed on the site only ("Direction prohibited by settings API")."""


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


class ActionDisabled(ExchangerError):
    """The exchange refused cancel / pay / success for this order."""


class NoBid(ExchangerError):
    """``no bid exists``: unknown order, or its status/direction does not allow the action.

    Never conclude the order vanished from this alone: re-read it and keep the last known status.
    """


class PartnerError(ExchangerError):
    """Partner-cabinet errors."""


class NoPartnerId(PartnerError):
    """The key does not belong to a real user (the "System" user has no partner account)."""


class NoActivePartnerProgram(PartnerError):
    """The affiliate module is off on this exchange."""


class PayoutRefused(PartnerError):
    """add_partner_payout was refused; ``text`` is the server's reason (may contain HTML)."""

    def __init__(self, text: str, *, method: str | None = None, code: str | None = None) -> None:
        super().__init__(text or "payout refused", method=method, code=code, text=text)


class ApiIdNotUnique(ExchangerError):
    """An order with this api_id (idempotency key) already exists for this API login."""


class ValidationFailed(ExchangerError):
    """create_bid rejected the form. ``field_errors`` maps field name → raw HTML message.

    Amount errors use the pseudo-fields ``sum1``, ``sum2``, ``sum1c``, ``sum2c``.
    """

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
