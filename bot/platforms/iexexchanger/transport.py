"""HTTP for iEXExchanger API v3: Bearer auth, HMAC signing, the envelope, retries and rate limits.

One :class:`Connection` (one ``httpx.AsyncClient``) per process, shared by every key. Each request:

1. waits its key's turn at the :class:`~.ratelimit.RateGate` (or raises ``RateLimited`` unsent);
2. is signed afresh when the key has an HMAC secret: a new timestamp and nonce on every attempt;
3. is read through the envelope (:mod:`.envelope`), the rate-limit headers recorded.

Retries: reads (``GET``, ``DELETE``) and writes sent with an ``Idempotency-Key`` are retried with
backoff on transport errors, 5xx and non-envelope bodies; any other write only when it never left
(connection refused). A 429 blocks the key for ``Retry-After`` and is retried after it when that fits in
``max_rate_wait`` (a 429 was not processed); ``quota_exceeded`` is raised at once. ``signature_replay``
is retried once with a new nonce. 401/403/422 are never repeated.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from bot.domain.errors import (
    ExchangerError,
    ExchangerTimeout,
    RateLimited,
    TransportError,
    UnexpectedResponse,
)
from bot.observability import deadline
from bot.observability.exchanger import ExchangerObserver, observed_transport, stable_path
from bot.platforms.iexexchanger import signing, wire
from bot.platforms.iexexchanger.envelope import Envelope, decode, error_for, redact
from bot.platforms.iexexchanger.errors import QuotaExhausted, SignatureReplay
from bot.platforms.iexexchanger.ratelimit import RateGate, parse_retry_after

__all__ = ["API_PREFIX", "Connection", "IexCredentials", "Params", "site_root"]

log = logging.getLogger("bot.platforms.iexexchanger")

API_PREFIX = "/api/v3"
USER_AGENT = "exchanger-bot/0.1"
MAX_RATE_RETRIES = 2
DEFAULT_RATE_WAIT = 1.0  # a 429 that names no wait at all

Params = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class IexCredentials:
    """A key: its Bearer token and, when the key has HMAC on, its HMAC secret. repr shows neither."""

    token: SecretStr = field(repr=False)
    hmac_secret: SecretStr | None = field(default=None, repr=False)

    @property
    def fingerprint(self) -> str:
        """Stable and not reversible: for rate-limit bookkeeping and labels, never the token."""
        return hashlib.sha256(self.token.get_secret_value().encode()).hexdigest()[:16]

    @property
    def signs(self) -> bool:
        return self.hmac_secret is not None and bool(self.hmac_secret.get_secret_value())

    def secrets(self) -> tuple[str, ...]:
        values = [self.token.get_secret_value()]
        if self.hmac_secret is not None:
            values.append(self.hmac_secret.get_secret_value())
        return tuple(v for v in values if v)

    def __repr__(self) -> str:
        return f"IexCredentials(key {self.fingerprint[:8]}, hmac={self.signs})"


def site_root(url: str) -> str:
    """The exchanger's site root as the owner gave it: no trailing slash, no ``/api/v3`` (never add
    ``app.`` or anything else to the domain)."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError("the exchanger URL must start with http:// or https://")
    for tail in ("/api/v3", "/api"):
        if url.endswith(tail):
            url = url[: -len(tail)]
    return url.rstrip("/")


def _check_params(params: Params) -> list[tuple[str, str]]:
    checked = []
    for name, value in params:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("query parameters are (str, str) pairs")
        checked.append((name, value))
    return checked


def method_label(method: str, path: str) -> str:
    """The metrics label of a call of ``path`` (under ``/api/v3``): ``GET /private/webhooks/{id}``."""
    return f"{method.upper()} /{stable_path(path)}"


class Connection:
    """The pooled HTTP client, the rate gate and the settings shared by every key's client view."""

    def __init__(
        self,
        site_url: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 15.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_rate_wait: float = 10.0,
        wall: Callable[[], float] = time.time,
        gate: RateGate | None = None,
        observer: ExchangerObserver | None = None,
    ) -> None:
        self.site_url = site_root(site_url)
        self.api_root = self.site_url + API_PREFIX
        self.path_prefix = urlsplit(self.api_root).path  # what the signature's path starts with
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self.wall = wall
        self.gate = gate or RateGate(max_wait=max_rate_wait, wall=wall)
        self.owns_http = http is None
        self.observer = observer
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=30)
        self.http = http or httpx.AsyncClient(
            timeout=self.timeout,
            limits=limits,
            transport=observed_transport(observer, self.method_of, limits=limits, url=self.site_url),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        self._shapes_logged: set[str] = set()

    async def aclose(self) -> None:
        if self.owns_http and not self.http.is_closed:
            await self.http.aclose()

    def method_of(self, request: httpx.Request) -> str:
        """The metrics label of a request: ``GET /private/webhooks/{id}``."""
        return method_label(request.method, request.url.path.removeprefix(self.path_prefix))

    # -- one request --------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        credentials: IexCredentials | None,
        params: Params = (),
        json_body: Any = None,
        scope: str | None = None,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
    ) -> Envelope:
        """Send ``method path`` (``path`` under ``/api/v3``, e.g. ``/private/partner``) and return the
        success envelope; raise the neutral error of anything else."""
        try:
            return await self._request(
                method,
                path,
                credentials=credentials,
                params=params,
                json_body=json_body,
                scope=scope,
                idempotency_key=idempotency_key,
                correlation_id=correlation_id,
            )
        except ExchangerError as exc:
            if self.observer is not None:
                self.observer.failed(exc, method_label(method, path))
            raise

    async def _request(
        self,
        method: str,
        path: str,
        *,
        credentials: IexCredentials | None,
        params: Params,
        json_body: Any,
        scope: str | None,
        idempotency_key: str | None,
        correlation_id: str | None,
    ) -> Envelope:
        method = method.upper()
        path = "/" + path.strip("/")
        label = f"{method} {path}"
        pairs = _check_params(params)
        body = (
            b""
            if json_body is None
            else json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
        )
        secrets = credentials.secrets() if credentials else ()
        key = credentials.fingerprint if credentials else "-"
        safe = method in ("GET", "HEAD", "DELETE") or idempotency_key is not None
        attempt = rate_retries = replays = 0
        while True:
            attempt += 1
            await self.gate.wait_turn(key, method=label)
            started = time.monotonic()
            try:
                envelope = await self._once(
                    method,
                    path,
                    pairs,
                    body,
                    credentials,
                    label,
                    secrets,
                    key,
                    idempotency_key,
                    correlation_id,
                )
                if not envelope.ok:
                    raise error_for(
                        envelope, method=label, scope=scope, retry_after=envelope.retry_after, secrets=secrets
                    )
            except QuotaExhausted as exc:
                self.gate.block(key, exc.retry_after or 60.0, quota=True)
                log.warning("%s: the key's quota is used up (retry after %s s)", label, exc.retry_after)
                raise
            except RateLimited as exc:
                wait = exc.retry_after if exc.retry_after is not None else DEFAULT_RATE_WAIT
                self.gate.block(key, wait)
                if rate_retries < MAX_RATE_RETRIES and wait <= self.gate.max_wait and deadline.allows(wait):
                    rate_retries += 1
                    log.info("%s: 429, retrying after %.1f s", label, wait)
                    continue
                if exc.retry_after is None:
                    exc.retry_after = wait
                raise
            except SignatureReplay:
                if replays < 1:
                    replays += 1
                    log.info("%s: signature_replay, signing again with a new nonce", label)
                    continue
                raise
            except ExchangerError as exc:
                elapsed = (time.monotonic() - started) * 1000
                retryable = _is_transient(exc) and (
                    safe or (isinstance(exc, TransportError) and not exc.may_have_been_processed)
                )
                delay = self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                if retryable and attempt <= self.retries and deadline.allows(delay):
                    log.info(
                        "%s: %s in %.0f ms, retry %d/%d in %.2f s",
                        label, type(exc).__name__, elapsed, attempt, self.retries, delay,
                    )  # fmt: skip
                    await asyncio.sleep(delay)
                    continue
                log.debug("%s: %s in %.0f ms (attempt %d)", label, type(exc).__name__, elapsed, attempt)
                raise
            log.debug("%s: ok in %.0f ms (attempt %d)", label, (time.monotonic() - started) * 1000, attempt)
            self._log_shape_once(label, envelope)
            return envelope

    async def _once(
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        body: bytes,
        credentials: IexCredentials | None,
        label: str,
        secrets: tuple[str, ...],
        key: str,
        idempotency_key: str | None,
        correlation_id: str | None,
    ) -> Envelope:
        query = signing.query_string(pairs)
        url = self.api_root + path + (f"?{query}" if query else "")
        headers = {"Accept": "application/json"}
        if credentials is not None:
            headers["Authorization"] = f"Bearer {credentials.token.get_secret_value()}"
            if credentials.signs:
                assert credentials.hmac_secret is not None
                timestamp = str(int(self.wall()))
                nonce = signing.new_nonce()
                headers["X-Api-Timestamp"] = timestamp
                headers["X-Api-Nonce"] = nonce
                headers["X-Api-Signature"] = signing.sign_request(
                    credentials.hmac_secret.get_secret_value(),
                    method,
                    self.path_prefix + path,
                    pairs,
                    body,
                    timestamp,
                    nonce,
                )
        if body:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if correlation_id:
            headers["X-Correlation-Id"] = correlation_id[:128]
        sent_write = method not in ("GET", "HEAD")
        try:
            response = await self.http.request(
                method, httpx.URL(url), content=body or None, headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException as exc:
            sent = not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            raise ExchangerTimeout(
                _transport_message(exc, sent and sent_write, secrets),
                method=label,
                may_have_been_processed=sent,
            ) from None
        except httpx.HTTPError as exc:
            sent = not isinstance(exc, httpx.ConnectError)
            raise TransportError(
                _transport_message(exc, sent and sent_write, secrets),
                method=label,
                may_have_been_processed=sent,
            ) from None
        self.gate.observe(key, response.headers)
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=self.wall())
        if retry_after is None and response.status_code == 429:
            retry_after = RateGate.reset_delta(response.headers, self.wall())
        try:
            envelope = decode(
                response.status_code, response.content, response.headers, method=label, secrets=secrets
            )
        except UnexpectedResponse:
            if response.status_code != 429:
                raise
            envelope = Envelope(http_status=429, state=1, error_code="rate_limit_exceeded")  # a proxy's 429
        return replace(envelope, retry_after=retry_after)

    def _log_shape_once(self, label: str, envelope: Envelope) -> None:
        """First contact with an endpoint: log the structure of its answer (no personal data, no secret),
        which settles the shapes the documentation leaves open."""
        if label in self._shapes_logged or not log.isEnabledFor(logging.INFO):
            return
        self._shapes_logged.add(label)
        shape = {"result": wire.shape_of(envelope.result), "pagination": wire.shape_of(envelope.pagination)}
        log.info("first answer of %s: %s", label, json.dumps(shape, ensure_ascii=False)[:2000])


def _is_transient(exc: ExchangerError) -> bool:
    return isinstance(exc, TransportError) or (isinstance(exc, UnexpectedResponse) and exc.transient)


def _transport_message(exc: httpx.HTTPError, write_sent: bool, secrets: tuple[str, ...]) -> str:
    detail = redact(str(exc), secrets)[:160]
    message = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    if write_sent:
        message += " (outcome unknown: the server may have processed it)"
    return message
