"""How long the exchanger may still take for the update being handled.

The update middleware (:mod:`bot.observability.updates`) opens a deadline around each update; every
exchanger request made while handling it is cut to what is left (:class:`ObservedTransport`), and the
adapters' retry loops ask :func:`allows` before waiting for another attempt. A request cut short fails
as the adapter's usual timeout (``ExchangerTimeout``), which the handlers already translate. Outside an
update (the status tracker, the notification sender) there is no deadline.

Tasks started while an update is handled inherit its deadline (contextvars are copied).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["MIN_ATTEMPT", "allows", "cap", "remaining", "within"]

# Less than this left: another attempt could not get an answer anyway.
MIN_ATTEMPT = 0.25

_until: ContextVar[float | None] = ContextVar("exchanger_deadline", default=None)


def remaining() -> float | None:
    """Seconds left (0 when passed), or None when there is no deadline."""
    until = _until.get()
    if until is None:
        return None
    return max(0.0, until - time.monotonic())


def allows(wait: float = 0.0) -> bool:
    """Whether waiting ``wait`` seconds still leaves time for one more attempt."""
    left = remaining()
    return left is None or left > wait + MIN_ATTEMPT


def cap(timeout: float | None) -> float | None:
    """``timeout`` cut to the time left (None: no limit of its own)."""
    left = remaining()
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


@contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """A deadline ``seconds`` from now for the code inside (None: leave things as they are). An inner
    deadline never extends an outer one."""
    if seconds is None:
        yield
        return
    until = time.monotonic() + seconds
    outer = _until.get()
    token = _until.set(until if outer is None else min(until, outer))
    try:
        yield
    finally:
        _until.reset(token)
