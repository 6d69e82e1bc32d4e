"""HTTP for Lara's partner method: one GET, its headers, and every bad answer mapped to a neutral error.

Retries (reads only, so always safe): 5xx, dropped connections, timeouts and a 200 that is not the
API's JSON are tried again with a short backoff; a 429 waits ``Retry-After`` when it is short,
otherwise :class:`~bot.domain.errors.RateLimited` goes up at once (a partner is waiting) and nothing
more is sent to the site, for any key, until that wait is over (Laravel throttles per user or IP, and
the bot's IP is shared by every partner). A 401 is
never retried. Redirects are not followed: the key must never go to another host.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

import httpx
from pydantic import SecretStr

from bot.domain.errors import (
    ApiError,
    CredentialsRejected,
    ExchangerError,
    ExchangerTimeout,
    Maintenance,
    RateLimited,
    TransportError,
    UnexpectedResponse,
    ValidationFailed,
)
from bot.observability import deadline
from bot.observability.exchanger import ExchangerObserver, observed_transport, stable_path
from bot.platforms.larascript.wire import (
    NotAnEnvelope,
    Page,
    error_items,
    laravel_message,
    load_json,
    parse_page,
)

__all__ = ["ENDPOINT", "METHOD", "PageSizeRejected", "RetryPolicy", "Transport"]

log = logging.getLogger("bot.platforms.larascript")

ENDPOINT = "/api/v1/partner/referral-exchanges"
METHOD = "referral-exchanges"
_SNIPPET = 60
MAX_BLOCK = 300.0  # the longest Retry-After honoured for the whole site (seconds)


class PageSizeRejected(ValidationFailed):
    """422: the page size (or another parameter) was refused. The walk retries once without it."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # per request, for 5xx / dropped connections / garbage with 200 / 429
    backoff: float = 0.5  # seconds before the 2nd try, doubled after
    max_retry_after: float = 5.0  # a longer 429 wait is not waited for: RateLimited at once
    timeout: float = 20.0


def method_of(request: httpx.Request) -> str:
    """The metrics label of a request: the partner method, or the path with ids replaced."""
    path = request.url.path
    return METHOD if path.rstrip("/").endswith(ENDPOINT) else stable_path(path)


class Transport:
    """One connection pool per site; the key travels per request (each partner has their own)."""

    def __init__(
        self, site_url: str, policy: RetryPolicy | None = None, *, observer: ExchangerObserver | None = None
    ) -> None:
        self.site_url = site_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.calls = 0  # HTTP requests sent (tests, benchmark)
        self._blocked_until = 0.0  # monotonic time before which a 429 said not to ask again
        self.observer = observer
        self._http = httpx.AsyncClient(
            transport=observed_transport(observer, method_of, url=self.site_url),
            timeout=self.policy.timeout,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "exchanger-bot"},
        )

    def __repr__(self) -> str:
        return f"Transport({self.site_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get_page(self, url: str, key: SecretStr | None) -> Page:
        """GET ``url`` (on the site: the walk checks it) and parse the page, retrying what is worth it."""
        try:
            return await self._get_page(url, key)
        except ExchangerError as exc:
            if self.observer is not None:
                self.observer.failed(exc, METHOD)
            raise

    async def _get_page(self, url: str, key: SecretStr | None) -> Page:
        blocked = self._blocked_until - time.monotonic()
        if blocked > 0:  # the site said to wait: nothing is sent before that, for any key
            raise RateLimited("still throttled", retry_after=float(math.ceil(blocked)), method=METHOD)
        delay = self.policy.backoff
        last: Exception | None = None
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return await self._once(url, key)
            except RateLimited as exc:
                wait = exc.retry_after if exc.retry_after is not None else delay
                if (
                    attempt == self.policy.attempts
                    or wait > self.policy.max_retry_after
                    or not deadline.allows(wait)
                ):
                    if exc.retry_after is not None:
                        self._blocked_until = time.monotonic() + min(exc.retry_after, MAX_BLOCK)
                    raise
                last = exc
                await asyncio.sleep(wait)
                continue
            except (TransportError, Maintenance) as exc:
                last = exc
            except UnexpectedResponse as exc:
                if not exc.transient:
                    raise
                last = exc
            if attempt < self.policy.attempts:
                if not deadline.allows(delay):
                    break
                log.info("%s: try %d failed (%s), trying again", METHOD, attempt, type(last).__name__)
                await asyncio.sleep(delay)
                delay *= 2
        assert last is not None
        raise last

    async def _once(self, url: str, key: SecretStr | None) -> Page:
        headers = {"X-API-Key": key.get_secret_value()} if key is not None else {}
        self.calls += 1
        try:
            response = await self._http.get(url, headers=headers)
        except httpx.TimeoutException:
            raise ExchangerTimeout(
                "no answer in time", method=METHOD, may_have_been_processed=False
            ) from None
        except httpx.HTTPError as exc:
            raise TransportError(
                f"connection failed ({type(exc).__name__})", method=METHOD, may_have_been_processed=False
            ) from None
        return self.read(response)

    def read(self, response: httpx.Response) -> Page:
        status, body = response.status_code, response.content
        if status == 200:
            try:
                return parse_page(body)
            except NotAnEnvelope as exc:
                raise UnexpectedResponse(
                    str(exc), method=METHOD, status_code=200, snippet=_snippet(body), transient=True
                ) from None
        try:
            payload = load_json(body)
        except NotAnEnvelope:
            payload = None
        errors = error_items(payload)
        first = errors[0] if errors else None
        text = first.message if first else laravel_message(payload)
        code = first.code if first else None
        if status == 401:
            raise CredentialsRejected(text or "the key was refused", method=METHOD, code=code, text=text)
        if status == 422:
            fields = {e.field: e.message for e in errors if e.field}
            raise PageSizeRejected(text, fields, method=METHOD, code=code)
        if status == 429:
            raise RateLimited(
                text or "too many requests", retry_after=_retry_after(response), method=METHOD, text=text
            )
        if status == 503 and payload is not None:
            raise Maintenance(text or "service unavailable", method=METHOD, text=text)
        if status >= 500:
            raise UnexpectedResponse(
                "server error", method=METHOD, status_code=status, snippet=_snippet(body), transient=True
            )
        if errors:
            raise ApiError(code, text, method=METHOD)
        # 404 (no such method on this site), 3xx (never followed), anything else.
        raise UnexpectedResponse(
            "unexpected answer", method=METHOD, status_code=status, snippet=_snippet(body)
        )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    return None


def _snippet(body: bytes) -> str:
    return body[:_SNIPPET].decode("utf-8", "replace").strip()
