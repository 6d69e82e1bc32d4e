"""HTTP for the 0trace Partner API: signed POSTs with JSON bytes, the envelope, retries, the budget.

Every authenticated call carries ``X-API-KEY`` (``key`` or ``key.code``), ``X-API-SIGN`` over the
exact bytes sent and a fresh ``X-API-NONCE`` per attempt. The catalogue (currencies, pairs) is read
unsigned, the documented choice (same data, no weight), and cached for 30 s; prices are signed so the
quote carries the partner's markup like the order will.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from decimal import Decimal
from typing import Any

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
from bot.platforms.zerotrace.budget import CREATE_WEIGHT, WeightBudget
from bot.platforms.zerotrace.errors import RETRYABLE_CODES, error_for
from bot.platforms.zerotrace.signing import new_nonce, sign

__all__ = ["API_PATH", "CATALOGUE_TTL", "ZeroTraceClient"]

log = logging.getLogger("bot.platforms.zerotrace")

API_PATH = "/api/v1/"
CATALOGUE_TTL = 30.0
EMPTY = b"{}"
# Retry-After values up to this are waited out inside one call; longer ones are raised.
MAX_INLINE_WAIT = 5.0
WEIGHTS = {"create": CREATE_WEIGHT, "qr": 5}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def method_label(verb: str, path: str) -> str:
    """The metrics label of a call of URL path ``path``: ``POST /v1/create``, ids replaced by ``{id}``."""
    api = API_PATH.rstrip("/").rsplit("/", 1)[0]  # keeps the version: "/api"
    return f"{verb.upper()} /{stable_path(path, strip=api)}"


def method_of(request: httpx.Request) -> str:
    return method_label(request.method, request.url.path)


class ZeroTraceClient:
    def __init__(
        self,
        base_url: str,
        api_key: SecretStr,
        api_secret: SecretStr,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 20.0,
        retries: int = 2,
        retry_delay: float = 0.3,
        budget: WeightBudget | None = None,
        observer: ExchangerObserver | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self._secret = api_secret
        self.retries = retries
        self.retry_delay = retry_delay
        self.budget = budget or WeightBudget()
        self.observer = observer
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=30)
        self.http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=limits,
            transport=observed_transport(observer, method_of, limits=limits, url=self.base_url),
            follow_redirects=False,
        )
        self._cache: dict[str, tuple[float, Any]] = {}
        self._cache_locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"ZeroTraceClient({self.base_url!r})"

    async def aclose(self) -> None:
        await self.http.aclose()

    def _secrets(self) -> tuple[str, ...]:
        return (self._key.get_secret_value(), self._secret.get_secret_value())

    # -- one attempt ------------------------------------------------------------------------------

    def signed_headers(self, body: bytes, *, code: str | None = None) -> dict[str, str]:
        """The three auth headers for ``body`` (a fresh nonce every time this is called)."""
        key = self._key.get_secret_value()
        return {
            "X-API-KEY": f"{key}.{code}" if code else key,
            "X-API-SIGN": sign(self._secret.get_secret_value(), body),
            "X-API-NONCE": new_nonce(),
        }

    async def _once(
        self,
        name: str,
        body: bytes,
        *,
        signed: bool,
        verb: str = "POST",
        code: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if signed:
            headers.update(self.signed_headers(body, code=code))
        headers.update(extra or {})
        url = self.base_url + API_PATH + name
        try:
            response = await self.http.request(verb, url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            sent = not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            raise ExchangerTimeout(
                f"no answer in time ({type(exc).__name__})", method=name, may_have_been_processed=sent
            ) from None
        except httpx.HTTPError as exc:
            sent = not isinstance(exc, httpx.ConnectError)
            raise TransportError(
                f"connection failed ({type(exc).__name__})", method=name, may_have_been_processed=sent
            ) from None
        return self._envelope(name, response)

    def _envelope(self, name: str, response: httpx.Response) -> Any:
        raw = response.content
        try:
            payload = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
        except ValueError:
            payload = None
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("code"), int)
            or isinstance(payload.get("code"), bool)
        ):
            text = raw[:120].decode("utf-8", "replace")
            for secret in self._secrets():
                text = text.replace(secret, "***")
            raise UnexpectedResponse(
                "not the API's JSON envelope",
                method=name,
                status_code=response.status_code,
                snippet=text,
                transient=response.status_code >= 500 or response.status_code == 200,
            )
        code = payload["code"]
        if code == 0:
            return payload.get("data")
        retry_after = None
        header = response.headers.get("Retry-After")
        if header and header.strip().isdigit():
            retry_after = float(header.strip())
        msg = payload.get("msg") if isinstance(payload.get("msg"), str) else ""
        raise error_for(code, msg, method=name, http_status=response.status_code, retry_after=retry_after)

    # -- calls with retries -----------------------------------------------------------------------

    async def call(
        self,
        name: str,
        body: bytes = EMPTY,
        *,
        signed: bool = True,
        verb: str = "POST",
        code: str | None = None,
        extra: dict[str, str] | None = None,
        retry: bool = True,
    ) -> Any:
        """One API call. With ``retry`` (reads, and creates under the same key and bytes) it is
        repeated on transport errors, non-JSON answers and codes 5/9/10/11/99, a fresh nonce each time."""
        try:
            return await self._call(name, body, signed=signed, verb=verb, code=code, extra=extra, retry=retry)
        except ExchangerError as exc:
            if self.observer is not None:
                self.observer.failed(exc, method_label(verb, API_PATH + name))
            raise

    async def _call(
        self,
        name: str,
        body: bytes,
        *,
        signed: bool,
        verb: str,
        code: str | None,
        extra: dict[str, str] | None,
        retry: bool,
    ) -> Any:
        weight = WEIGHTS.get(name, 1)
        attempt = 0
        while True:
            entry = await self.budget.take(weight, create=name == "create") if signed else None
            try:
                try:
                    return await self._once(name, body, signed=signed, verb=verb, code=code, extra=extra)
                finally:
                    if entry is not None:
                        self.budget.settle(entry)
            except ExchangerError as exc:
                if not retry or attempt >= self.retries or not _retryable(exc):
                    raise
                delay = self.retry_delay * (2**attempt)
                if isinstance(exc, RateLimited):
                    if exc.retry_after is not None:
                        self.budget.hold(exc.retry_after)
                        if exc.retry_after > MAX_INLINE_WAIT:
                            raise
                        delay = exc.retry_after
                if not deadline.allows(delay):
                    raise
                attempt += 1
                log.info("%s: %s, attempt %d of %d", name, type(exc).__name__, attempt + 1, self.retries + 1)
                await asyncio.sleep(delay)

    async def cached(self, name: str) -> Any:
        """``currencies`` / ``pairs``: unsigned, at most one call per ``CATALOGUE_TTL`` seconds."""
        lock = self._cache_locks.setdefault(name, asyncio.Lock())
        async with lock:
            hit = self._cache.get(name)
            if hit is not None and time.monotonic() - hit[0] < CATALOGUE_TTL:
                return hit[1]
            data = await self.call(name, EMPTY, signed=False)
            self._cache[name] = (time.monotonic(), data)
            return data

    def cached_now(self, name: str) -> Any:
        """The last catalogue answer, however old (None before the first): for mapping pushes."""
        hit = self._cache.get(name)
        return None if hit is None else hit[1]

    async def codes(self) -> Any:
        """Signed ``GET /v1/codes`` (signature over zero bytes): proves the key and the secret."""
        return await self.call("codes", b"", verb="GET")


def _retryable(exc: ExchangerError) -> bool:
    if isinstance(exc, TransportError):
        return True
    if isinstance(exc, UnexpectedResponse):
        return exc.transient
    return exc.code is not None and exc.code.isdigit() and int(exc.code) in RETRYABLE_CODES
