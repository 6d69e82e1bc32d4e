"""One-shot failures for the next call of an endpoint (``"*"`` matches any), consumed in queue order.

Kinds:
  http502      HTTP 502 with an nginx HTML page (not processed).
  html200      HTTP 200 with a maintenance HTML page instead of JSON (not processed).
  ratelimit    code 5, HTTP 429, ``Retry-After: seconds`` (not processed).
  maintenance  code 10, HTTP 503 (not processed).
  upstream     code 11, HTTP 503 (not processed).
  drop         processed, then the connection is closed: the answer is lost.
  drop_before  the connection is closed before anything is processed.
  late_commit  the connection is closed at once and the request is committed ``seconds`` later; a
               retry with the same Idempotency-Key meanwhile waits for that commit.
  delay        processed, the answer is held back ``seconds``.
  hook         ``hook()`` runs first, then the call is answered normally.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["KINDS", "Fault", "FaultQueue"]

KINDS = frozenset(
    {"http502", "html200", "ratelimit", "maintenance", "upstream", "drop", "drop_before", "late_commit",
     "delay", "hook"}
)  # fmt: skip


@dataclass(frozen=True)
class Fault:
    endpoint: str
    kind: str
    seconds: float = 1.0
    hook: Callable[[], None] | None = None


class FaultQueue:
    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()

    def next(self, endpoint: str, kind: str, *, seconds: float = 1.0, hook: Callable[[], None] | None = None,
             times: int = 1) -> None:  # fmt: skip
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        if (kind == "hook") != (hook is not None):
            raise ValueError("pass hook= with kind 'hook' (and only then)")
        for _ in range(times):
            self._queue.append(Fault(endpoint, kind, seconds, hook))

    def take(self, endpoint: str) -> Fault | None:
        for fault in self._queue:
            if fault.endpoint in ("*", endpoint):
                self._queue.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._queue.clear()

    def __len__(self) -> int:
        return len(self._queue)


BAD_GATEWAY = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>nginx</center></body></html>"
)
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>0trace</title></head><body><h1>We'll be back soon"
    "</h1><p>0trace is being upgraded.</p></body></html>"
)
