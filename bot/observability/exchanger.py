"""Exchanger calls as the operator sees them: every HTTP request (method, latency, outcome), every
error an adapter raised (by neutral error class), and the last errors for /admin.

Adapters stay the only ones who know their wire: each builds its ``httpx.AsyncClient`` on
:meth:`ExchangerObserver.transport` with a function naming a request's method in a few stable words
(no ids), and reports the neutral errors it raises with :meth:`ExchangerObserver.failed`.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from bot.domain.errors import AmountOutOfLimits, ExchangerError, UnexpectedResponse, ValidationFailed
from bot.logs import REDACTOR
from bot.observability import deadline

if TYPE_CHECKING:
    from bot.observability.metrics import Metrics

__all__ = [
    "ExchangerErrorRecord",
    "ExchangerObserver",
    "MethodOf",
    "ObservedTransport",
    "RecentErrors",
    "env_proxy",
    "observed_transport",
    "stable_path",
]

MethodOf = Callable[[httpx.Request], str]

RECENT_ERRORS = 50
MESSAGE_LIMIT = 300
# The customer's own input refused: counted, but no news for the operator.
_NOT_THE_EXCHANGES_FAULT = (ValidationFailed, AmountOutOfLimits)
_ID_SEGMENT = re.compile(
    r"^(\d+|[0-9a-fA-F-]{16,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def stable_path(path: str, *, strip: str = "") -> str:
    """``path`` without ``strip`` and with its id-like segments (numbers, hashes, uuids, long mixed
    tokens) replaced by ``{id}``: a label that stays low-cardinality."""
    if strip and path.startswith(strip):
        path = path[len(strip) :]
    parts = []
    for segment in path.strip("/").split("/"):
        mixed = any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment)
        if _ID_SEGMENT.match(segment) or len(segment) > 32 or (mixed and len(segment) >= 8):
            parts.append("{id}")
        else:
            parts.append(segment)
    return "/".join(parts)


@dataclass(frozen=True)
class ExchangerErrorRecord:
    at: datetime  # UTC
    platform: str
    method: str
    code: str | None  # the exchange's own error code, or "HTTP <status>"; None when it gave none
    error: str  # the neutral error class, e.g. "ExchangerTimeout"
    message: str  # secrets redacted, bounded, one line


class RecentErrors:
    """The last ``size`` exchanger errors, newest last."""

    def __init__(self, size: int = RECENT_ERRORS) -> None:
        self._records: deque[ExchangerErrorRecord] = deque(maxlen=size)

    def add(self, platform: str, method: str, exc: ExchangerError) -> ExchangerErrorRecord:
        code = exc.code
        if code is None and isinstance(exc, UnexpectedResponse) and exc.status_code is not None:
            code = f"HTTP {exc.status_code}"
        message = _CONTROL.sub(" ", REDACTOR.redact(str(exc.message))).strip()
        if len(message) > MESSAGE_LIMIT:
            message = message[: MESSAGE_LIMIT - 1] + "…"
        record = ExchangerErrorRecord(
            at=datetime.now(UTC),
            platform=platform,
            method=method,
            code=REDACTOR.redact(code)[:40] if code else None,
            error=type(exc).__name__,
            message=message,
        )
        self._records.append(record)
        return record

    def list(self) -> list[ExchangerErrorRecord]:
        return list(self._records)

    def __len__(self) -> int:
        return len(self._records)


class ExchangerObserver:
    """One platform's calls, for one :class:`~bot.observability.metrics.Metrics`."""

    def __init__(self, metrics: Metrics, platform: str) -> None:
        self.metrics = metrics
        self.platform = platform

    def transport(
        self, method_of: MethodOf, *, limits: httpx.Limits | None = None, url: str | None = None
    ) -> ObservedTransport:
        """``url``: where the client talks to, so the operator's HTTP(S)_PROXY / NO_PROXY still apply
        (httpx reads them only for the transport it builds itself)."""
        proxy = env_proxy(url) if url else None
        if limits is None:
            inner = httpx.AsyncHTTPTransport(proxy=proxy)
        else:
            inner = httpx.AsyncHTTPTransport(limits=limits, proxy=proxy)
        return ObservedTransport(inner, self, method_of)

    def request_done(self, method: str, outcome: str, seconds: float) -> None:
        self.metrics.exchanger_requests.labels(self.platform, method, outcome).inc()
        self.metrics.exchanger_latency.labels(self.platform, method).observe(seconds)

    def answered(self) -> None:
        """The exchange answered (any HTTP status): it is there."""
        self.metrics.note_exchanger_answer(self.platform)

    def failed(self, exc: ExchangerError, method: str | None = None) -> None:
        """An adapter raises ``exc`` to its caller (after its retries): count it, and keep it for the
        operator unless it is the customer's own input refused."""
        name = method or exc.method or "unknown"
        self.metrics.exchanger_errors.labels(self.platform, name, type(exc).__name__).inc()
        if not isinstance(exc, _NOT_THE_EXCHANGES_FAULT):
            self.metrics.errors.add(self.platform, name, exc)


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``), None
    when there is none or ``NO_PROXY`` exempts its host: what the standard library would pick."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme.lower()) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.netloc.rsplit("@", 1)[-1]):
        return None
    return proxy if "://" in proxy else "http://" + proxy  # "host:3128", as httpx reads it too


def observed_transport(
    observer: ExchangerObserver | None,
    method_of: MethodOf,
    *,
    limits: httpx.Limits | None = None,
    url: str | None = None,
) -> ObservedTransport | None:
    """The transport an adapter gives its ``httpx.AsyncClient`` for calls to ``url`` (None without an
    observer: httpx's own, built from the client's ``limits`` and the proxy environment)."""
    return observer.transport(method_of, limits=limits, url=url) if observer is not None else None


class ObservedTransport(httpx.AsyncBaseTransport):
    """Times and counts each request, and cuts it to the current update's deadline
    (:mod:`bot.observability.deadline`): past it, nothing is sent (``httpx.ConnectTimeout``); a request
    still running when it passes fails with ``httpx.ReadTimeout``, as a slow server would."""

    def __init__(self, inner: httpx.AsyncBaseTransport, observer: ExchangerObserver, method_of: MethodOf):
        self._inner = inner
        self._observer = observer
        self._method_of = method_of

    def _method(self, request: httpx.Request) -> str:
        try:
            return self._method_of(request)[:80] or "unknown"
        except Exception:  # a naming bug must never break the call
            return "unknown"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        method = self._method(request)
        left = deadline.remaining()
        if left is not None and left <= 0:
            self._observer.request_done(method, "deadline", 0.0)
            raise httpx.ConnectTimeout("the update's time for the exchange has run out", request=request)
        if left is not None:
            timeouts = request.extensions.get("timeout") or {}
            request.extensions["timeout"] = {
                name: left if timeouts.get(name) is None else min(timeouts[name], left)
                for name in ("connect", "read", "write", "pool")
            }
        started = time.perf_counter()
        limit = asyncio.timeout(left)
        try:
            async with limit:
                response = await self._inner.handle_async_request(request)
        except TimeoutError:
            if not limit.expired():
                raise
            self._observer.request_done(method, "deadline", time.perf_counter() - started)
            raise httpx.ReadTimeout("no answer before the update's deadline", request=request) from None
        except httpx.TimeoutException:
            cut = left is not None and (deadline.remaining() or 0.0) <= 0.0
            outcome = "deadline" if cut else "timeout"
            self._observer.request_done(method, outcome, time.perf_counter() - started)
            raise
        except httpx.HTTPError:
            self._observer.request_done(method, "network", time.perf_counter() - started)
            raise
        self._observer.request_done(method, f"{response.status_code // 100}xx", time.perf_counter() - started)
        self._observer.answered()
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
