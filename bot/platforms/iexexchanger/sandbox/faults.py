"""One-shot upstream failures for the next request to a path (``"*"``: any path under ``/api/v3``).

Kinds (none of them processes the request):
  http502      HTTP 502 with nginx's "Bad Gateway" HTML page.
  http500      HTTP 500 with the API's error envelope (``server_error``).
  html200      HTTP 200 with a maintenance HTML page instead of JSON.
  truncated    HTTP 200 with the first half of a JSON envelope.
  http429      HTTP 429 ``rate_limit_exceeded`` with ``Retry-After: seconds`` (a proxy's limiter).
  replay       HTTP 401 ``signature_replay`` (as if the request's nonce had been seen already).
  disconnect   the connection is closed with no response.
  delay        the answer is held back ``seconds`` (then the request is served).
Faults are consumed in the order they were queued.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["BAD_GATEWAY_PAGE", "KINDS", "MAINTENANCE_PAGE", "Fault", "FaultQueue"]

KINDS = frozenset({"http502", "http500", "html200", "truncated", "http429", "replay", "disconnect", "delay"})


@dataclass(frozen=True)
class Fault:
    path: str
    kind: str
    seconds: float = 1.0


class FaultQueue:
    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()

    def next(self, path: str, kind: str, *, seconds: float = 1.0, times: int = 1) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        for _ in range(times):
            self._queue.append(Fault(path, kind, seconds))

    def take(self, path: str) -> Fault | None:
        for fault in self._queue:
            if fault.path in ("*", path):
                self._queue.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._queue.clear()

    def __len__(self) -> int:
        return len(self._queue)


MAINTENANCE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Технические работы</title></head>
<body><h1>Сайт на обслуживании. Мы скоро вернёмся.</h1></body></html>
"""

BAD_GATEWAY_PAGE = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""
