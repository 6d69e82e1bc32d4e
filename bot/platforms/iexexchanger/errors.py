"""Errors only iEXExchanger raises, each a subclass of a neutral error so a core that does not know
them still reacts sensibly (see the package docstring).

Messages name what to change on the site; they never hold a token, an HMAC secret or a signature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain import errors as neutral
from bot.domain.errors import CredentialsRejected, RateLimited, ValidationFailed

if TYPE_CHECKING:
    from bot.domain.capabilities import CredentialField

__all__ = [
    "ApiAccessDisabled",
    "QuotaExhausted",
    "SignatureRejected",
    "SignatureReplay",
    "SignatureRequired",
    "StatsRangeUnsupported",
]


class SignatureRequired(neutral.SignatureRequired):
    """401 ``signature_required``: the key has HMAC on and the request was not signed. ``field`` names
    the credential to ask for next (the key's HMAC secret); then link the key with both values."""

    def __init__(self, message: str = "", *, field: CredentialField | None = None, **kwargs: object) -> None:
        from bot.platforms.iexexchanger.info import HMAC_SECRET_FIELD

        super().__init__(
            message
            or "the key requires HMAC-signed requests: give the key's HMAC secret (shown once, next to "
            "the token, when the key was created in Profile → Settings → API)",
            field=(field or HMAC_SECRET_FIELD).name,
            **kwargs,
        )


class SignatureRejected(CredentialsRejected):
    """401 ``invalid_signature``: the HMAC secret is wrong (or the webhook secret was given instead),
    or this host's clock is far from the server's."""


class SignatureReplay(SignatureRejected):
    """401 ``signature_replay``: the server saw this nonce already (retried once with a new one)."""


class ApiAccessDisabled(CredentialsRejected):
    """403 ``api_access_disabled``: the exchanger's admin has API access off for the partner's account."""

    account_access_off = True  # read by /login (duck-typed): no new key helps, the exchange must act


class QuotaExhausted(RateLimited):
    """429 ``quota_exceeded``: the key's daily or monthly quota is used up; ``retry_after`` may be hours."""

    quota_exhausted = True  # read by the partner screens (duck-typed: they know no iEX class)


class StatsRangeUnsupported(ValidationFailed):
    """This install's statistics take only its named periods (day, week, month), not a typed range."""

    def __init__(self, text: str, *, method: str | None = None) -> None:
        super().__init__(text, {"period": text}, method=method, code="stats_range_unsupported")
