"""HTTP for the PremiumExchanger User API v1: form POST, headers, envelope, error mapping, retries."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from bot.domain.errors import (
    ActionNotAllowed,
    ApiError,
    CredentialsRejected,
    DirectionProhibited,
    DirectionUnavailable,
    ExchangerError,
    ExchangerTimeout,
    IdempotencyConflict,
    IpNotAllowed,
    Maintenance,
    NotAPartner,
    OrderNotFound,
    PartnerProgramOff,
    PayoutRefused,
    PermissionMissing,
    TransportError,
    UnexpectedResponse,
    ValidationFailed,
)
from bot.observability import deadline
from bot.observability.exchanger import ExchangerObserver, observed_transport, stable_path
from bot.platforms.premiumexchanger.models import ApiCredentials
from bot.platforms.premiumexchanger.wire import as_mapping

log = logging.getLogger("bot.platforms.premiumexchanger")

API_PATH = "/api/userapi/v1/"

# Safe to repeat: they only read. Everything else changes state and is sent exactly once.
READ_METHODS = frozenset(
    {
        "test",
        "get_direction_currencies",
        "get_directions",
        "get_direction",
        "get_calc",
        "get_exchanges",
        "bid_info",
        "get_partner_info",
        "get_partner_links",
        "get_partner_exchanges",
        "get_partner_payouts",
    }
)
WRITE_METHODS = frozenset({"create_bid", "pay_bid", "cancel_bid", "success_bid", "add_partner_payout"})
# Error 2 means "IP blocked", "action disabled" or maintenance, whose text is the site's own (any words:
# the localized default, or what the owner wrote). The bid methods and get_calc are the ones closed in
# maintenance.
MAINTENANCE_METHODS = frozenset(
    {"get_calc", "create_bid", "bid_info", "cancel_bid", "pay_bid", "success_bid"}
)
# The default maintenance text in the languages sites run in; an owner may write anything else.
MAINTENANCE_WORDS = ("maintenance", "техническое обслуживание", "технические работы", "техобслуживание")
EMPTY_RESPONSE = "empty response"

_ERRORS_BY_TEXT: dict[str, type[ExchangerError]] = {
    "api disabled": CredentialsRejected,
    "ip blocked": IpNotAllowed,
    "action disabled": ActionNotAllowed,
    "method not supported": PermissionMissing,
    "direction not found": DirectionUnavailable,
    "no bid exists": OrderNotFound,
    "no partner id": NotAPartner,
    "no active partner program": PartnerProgramOff,
    "api id not unique": IdempotencyConflict,
}

# (neutral PayoutRefused.reason, words of the server's text), checked in order.
_PAYOUT_REFUSALS = (
    ("minimum", ("less than minimum", "minimum amount", "минимальн")),
    ("method", ("method not found", "payout method", "способ выплаты")),
    ("account", ("account", "счет", "счёт", "кошел")),
)

_LOCALES = {
    "ru": "ru_RU", "en": "en_US", "uk": "uk_UA", "ua": "uk_UA", "kk": "kk_KZ", "be": "be_BY",
    "uz": "uz_UZ", "de": "de_DE", "fr": "fr_FR", "es": "es_ES", "it": "it_IT", "pl": "pl_PL",
    "tr": "tr_TR", "pt": "pt_PT", "zh": "zh_CN", "ja": "ja_JP", "ko": "ko_KR", "ar": "ar",
    "fa": "fa_IR", "he": "he_IL", "az": "az_AZ", "ka": "ka_GE", "hy": "hy_AM", "ky": "ky_KG",
}  # fmt: skip
_LOCALE_SHAPE = re.compile(r"^([a-z]{2,3})[_-]([A-Za-z]{2,4})$")


def to_api_locale(lang: str | None) -> str | None:
    """Chat language → API-LANG: ``ru`` → ``ru_RU``, ``en-US`` → ``en_US``; unknown bare codes → None."""
    if not lang:
        return None
    lang = lang.strip()
    match = _LOCALE_SHAPE.match(lang)
    if match:
        region = match.group(2)
        return f"{match.group(1)}_{region.upper() if len(region) == 2 else region}"
    return _LOCALES.get(lang.lower())


def encode_cd(values: Mapping[str, str]) -> str:
    """The get_calc ``cd`` form value: ``urlencode("name1=" + urlencode(v1) + "&name2=...")``.

    The form encoding adds one more layer; the server form-decodes, url-decodes and then parses the
    query string, getting the original values back.
    """
    inner = "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in values.items())
    return quote(inner, safe="")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def method_of(request: httpx.Request) -> str:
    """The metrics label of a request: the API method (the path's last segment)."""
    path = request.url.path
    if path.startswith(API_PATH):
        return path[len(API_PATH) :].strip("/") or "unknown"
    return stable_path(path)


class Connection:
    """The pooled HTTP client and settings shared by a client and all its scoped views."""

    def __init__(
        self,
        base_url: str,
        *,
        http: httpx.AsyncClient | None,
        timeout: float,
        retries: int,
        backoff: float,
        observer: ExchangerObserver | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self.owns_http = http is None
        self.observer = observer
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=30)
        self.http = http or httpx.AsyncClient(
            timeout=self.timeout,
            limits=limits,
            transport=observed_transport(observer, method_of, limits=limits, url=self.base_url),
            headers={"User-Agent": "exchanger-bot/0.1"},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        if self.owns_http and not self.http.is_closed:
            await self.http.aclose()

    async def call(
        self,
        method: str,
        params: Mapping[str, str],
        *,
        credentials: ApiCredentials,
        lang: str | None,
    ) -> Any:
        """POST ``params`` to ``method`` and return the envelope's ``data`` (``[]`` kept as is)."""
        secrets = (credentials.key.get_secret_value(),)
        headers = {
            "API-LOGIN": credentials.login,
            "API-KEY": credentials.key.get_secret_value(),
            "Accept": "application/json",
        }
        api_lang = to_api_locale(lang)
        if api_lang:
            headers["API-LANG"] = api_lang
        attempts = 1 + self.retries if method in READ_METHODS else 1
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                data = await self._once(method, params, headers, secrets)
            except ExchangerError as exc:
                elapsed = (time.monotonic() - started) * 1000
                delay = self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                if attempt < attempts and _is_transient(exc) and deadline.allows(delay):
                    log.info(
                        "%s: %s in %.0f ms, retry %d/%d in %.2f s",
                        method,
                        type(exc).__name__,
                        elapsed,
                        attempt,
                        attempts - 1,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    continue
                log.debug("%s: %s in %.0f ms (attempt %d)", method, type(exc).__name__, elapsed, attempt)
                if self.observer is not None:
                    self.observer.failed(exc, method)
                raise
            log.debug("%s: ok in %.0f ms (attempt %d)", method, (time.monotonic() - started) * 1000, attempt)
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self, method: str, params: Mapping[str, str], headers: Mapping[str, str], secrets: tuple[str, ...]
    ) -> Any:
        url = f"{self.base_url}{API_PATH}{method}"
        try:
            response = await self.http.post(url, data=dict(params), headers=headers, timeout=self.timeout)
        except httpx.TimeoutException as exc:
            sent = not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            raise ExchangerTimeout(
                _transport_message(exc, method, sent, secrets), method=method, may_have_been_processed=sent
            ) from None
        except httpx.HTTPError as exc:
            sent = not isinstance(exc, httpx.ConnectError)
            raise TransportError(
                _transport_message(exc, method, sent, secrets), method=method, may_have_been_processed=sent
            ) from None
        return _parse_envelope(method, response, secrets)


def _is_transient(exc: ExchangerError) -> bool:
    return isinstance(exc, TransportError) or (isinstance(exc, UnexpectedResponse) and exc.transient)


def _transport_message(exc: httpx.HTTPError, method: str, sent: bool, secrets: tuple[str, ...]) -> str:
    detail = redact(str(exc), secrets)[:160]
    message = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    if sent and method in WRITE_METHODS:
        message += " (outcome unknown: the server may have processed it)"
    return message


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def snippet(body: bytes, secrets: tuple[str, ...], limit: int = 120) -> str:
    """A short printable excerpt of a body: an HTML page's title, or its text without tags."""
    text = body[:4096].decode("utf-8", errors="replace")
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title:
        text = "title: " + title.group(1)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"[\x00-\x1f\x7f\s]+", " ", text).strip()
    text = redact(text, secrets)
    return text[:limit] + ("…" if len(text) > limit else "")


def _parse_envelope(method: str, response: httpx.Response, secrets: tuple[str, ...]) -> Any:
    body = response.content
    if response.status_code != 200:
        raise UnexpectedResponse(
            "unexpected HTTP status",
            method=method,
            status_code=response.status_code,
            snippet=snippet(body, secrets),
            transient=response.status_code >= 500 or response.status_code == 429,
        )
    try:
        payload = json.loads(
            body.lstrip(b"\xef\xbb\xbf \t\r\n"), parse_float=Decimal, parse_constant=_reject_constant
        )
    except (ValueError, UnicodeDecodeError):
        # proxy error pages and maintenance pages pass: worth another try for a read
        raise UnexpectedResponse(
            "the body is not JSON", method=method, snippet=snippet(body, secrets), transient=True
        ) from None
    if not isinstance(payload, dict) or "error" not in payload:
        raise UnexpectedResponse("not an API envelope", method=method, snippet=snippet(body, secrets))
    code = str(payload.get("error")).strip()
    if code == "0":
        return payload.get("data")
    raise error_from_envelope(method, code, payload, secrets)


def payout_refusal_reason(key: str) -> str | None:
    """add_partner_payout's refusals, by the texts the plugin sends (English whatever API-LANG says)."""
    for reason, words in _PAYOUT_REFUSALS:
        if any(word in key for word in words):
            return reason
    return None


def is_maintenance(method: str, code: str, key: str) -> bool:
    """The site is closed for maintenance: its text (localized, or the owner's own) matches a known
    word, or a method closed in maintenance answered error 2 with anything but the two other error-2
    texts."""
    if any(word in key for word in MAINTENANCE_WORDS):
        return True
    return code == "2" and method in MAINTENANCE_METHODS and key not in ("ip blocked", "action disabled")


def error_from_envelope(
    method: str, code: str, payload: Mapping[str, Any], secrets: tuple[str, ...] = ()
) -> ExchangerError:
    raw_text = payload.get("error_text")
    text = redact("" if raw_text is None or isinstance(raw_text, (list, dict)) else str(raw_text), secrets)
    key = text.strip().lower().rstrip(".!")
    try:
        raw_fields = as_mapping(payload.get("error_fields"), "error_fields")
    except TypeError:
        raw_fields = {}
    field_errors = {str(k): redact(str(v), secrets) for k, v in raw_fields.items()}

    if "direction prohibited" in key:
        return DirectionProhibited(text=text, method=method, code=code)
    if is_maintenance(method, code, key):
        return Maintenance("the exchange is closed for maintenance", text=text, method=method, code=code)
    if key == EMPTY_RESPONSE:
        return UnexpectedResponse(
            'the server answered "Empty Response": what was asked for is not available '
            "(an id, hash or filter it does not know)",
            method=method,
        )
    error_class = _ERRORS_BY_TEXT.get(key)
    if error_class is not None:
        return error_class(text=text, method=method, code=code)
    if field_errors or (code == "3" and method == "create_bid"):
        return ValidationFailed(text, field_errors, method=method, code=code)
    if method == "add_partner_payout":
        return PayoutRefused(text, method=method, code=code, reason=payout_refusal_reason(key))
    return ApiError(code, text, method=method)
