"""Rate limits and quotas, per key: read ``X-RateLimit-*`` and ``Retry-After``, never send into a 429
early, and pace long walks by ``X-RateLimit-Remaining``.

After a 429 a key is *blocked* until its ``Retry-After`` has passed: a request for it in that time waits
(when the wait fits in ``max_wait``) or raises ``RateLimited`` without reaching the server. A key whose
``X-RateLimit-Remaining`` reached 0 waits for ``X-RateLimit-Reset`` the same way.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from bot.domain.errors import RateLimited
from bot.platforms.iexexchanger.errors import QuotaExhausted

__all__ = ["RateGate", "parse_retry_after"]

log = logging.getLogger(__name__)

MAX_RESET_WAIT = 3600.0  # a reset header further away than this is not believed


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from ``Retry-After``: delta seconds (also fractional) or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


@dataclass
class _KeyState:
    blocked_until: float = 0.0  # monotonic
    quota: bool = False  # the block is an exhausted quota
    remaining: int | None = None
    reset_at: float = 0.0  # monotonic
    limit: int | None = None


class RateGate:
    """Shared by every view of one connection; keyed by a fingerprint of the token (never the token)."""

    def __init__(
        self,
        *,
        max_wait: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_wait = max_wait
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._keys: dict[str, _KeyState] = {}

    def _state(self, key: str) -> _KeyState:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState()
        return state

    def wait_needed(self, key: str) -> float:
        state = self._keys.get(key)
        if state is None:
            return 0.0
        now = self._clock()
        until = state.blocked_until
        if state.remaining is not None and state.remaining <= 0 and state.reset_at > now:
            until = max(until, state.reset_at)
        return max(0.0, until - now)

    async def wait_turn(self, key: str, *, method: str) -> None:
        """Wait until the key may send again; raise ``RateLimited`` when that is beyond ``max_wait``."""
        delay = self.wait_needed(key)
        if delay <= 0:
            return
        state = self._keys[key]
        if delay > self.max_wait:
            error = QuotaExhausted if state.quota and state.blocked_until - self._clock() > 0 else RateLimited
            raise error(
                f"the key must wait {math.ceil(delay)} s before its next request",
                retry_after=float(math.ceil(delay)),
                method=method,
                code="quota_exceeded" if error is QuotaExhausted else "rate_limit_exceeded",
            )
        log.info("%s: waiting %.1f s for the key's rate limit", method, delay)
        await self._sleep(delay)

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        """Record ``X-RateLimit-Limit/Remaining/Reset`` of any response."""
        remaining = _int(headers.get("x-ratelimit-remaining"))
        if remaining is None:
            return
        state = self._state(key)
        state.remaining = remaining
        state.limit = _int(headers.get("x-ratelimit-limit"))
        reset = _int(headers.get("x-ratelimit-reset"))
        if reset is not None:
            # a unix time; some servers send seconds-until-reset instead
            delta = reset - self._wall() if reset > 10**9 else float(reset)
            state.reset_at = self._clock() + min(max(0.0, delta), MAX_RESET_WAIT)
        else:
            state.reset_at = 0.0

    def block(self, key: str, seconds: float, *, quota: bool = False) -> None:
        """A 429 said: nothing for this key before ``seconds`` have passed."""
        state = self._state(key)
        state.blocked_until = max(state.blocked_until, self._clock() + max(0.0, seconds))
        state.quota = quota or (state.quota and state.blocked_until > self._clock())

    def remaining(self, key: str) -> int | None:
        state = self._keys.get(key)
        return None if state is None else state.remaining

    def reset_in(self, key: str) -> float | None:
        state = self._keys.get(key)
        if state is None or not state.reset_at:
            return None
        return max(0.0, state.reset_at - self._clock())

    @staticmethod
    def reset_delta(headers: Mapping[str, str], wall: float) -> float | None:
        reset = _int(headers.get("x-ratelimit-reset"))
        if reset is None:
            return None
        return max(0.0, reset - wall) if reset > 10**9 else float(max(0, reset))
