"""One-shot upstream failures for the next call of a method (`"*"` matches any method).

Kinds:
  html              HTTP 200, a PHP fatal-error HTML page instead of JSON (method not processed).
  maintenance_page  HTTP 200, a WordPress "Briefly unavailable for scheduled maintenance" page
                    (method not processed).
  http502           HTTP 502 with an nginx "Bad Gateway" HTML body (method not processed).
  delay             the method IS processed (a bid really is created), then the answer is held
                    back `seconds=` (default 30) so the client times out after the side effect.
  disconnect        the method IS processed, then the connection is closed with no response.
  late_commit       the connection is closed at once with no response, and the method is processed
                    `seconds=` later (a bid is created after the client gave up on it).
  empty_response    {"error": "1", "error_text": "Empty Response", "data": []} (not processed).
  hook              `hook()` runs just before the method, which then answers normally: lets a test
                    change the server's state between two calls of a walk (a bid changing mid-walk).
For html / maintenance_page / http502 pass `processed=True` to run the method first anyway.
Faults are consumed in the order they were queued.
"""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

KINDS = frozenset(
    {"html", "maintenance_page", "http502", "delay", "disconnect", "late_commit", "empty_response", "hook"}
)


@dataclass(frozen=True)
class Fault:
    method: str
    kind: str
    seconds: float = 30.0
    processed: bool = False
    hook: Callable[[], None] | None = None

    @property
    def runs_method(self) -> bool:
        return self.kind in ("delay", "disconnect") or self.processed


class FaultQueue:
    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()

    def next(
        self,
        method: str,
        kind: str,
        *,
        seconds: float = 30.0,
        processed: bool = False,
        hook: Callable[[], None] | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        if (kind == "hook") != (hook is not None):
            raise ValueError("pass hook= with kind 'hook' (and only then)")
        self._queue.append(Fault(method, kind, seconds, processed, hook))

    def take(self, method: str) -> Fault | None:
        for fault in self._queue:
            if fault.method in ("*", method):
                self._queue.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._queue.clear()

    def __len__(self) -> int:
        return len(self._queue)


PHP_ERROR_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>WordPress &rsaquo; Error</title></head>
<body id="error-page"><div class="wp-die-message"><p>There has been a critical error on this website.</p>
<p><a href="https://wordpress.org/documentation/article/faq-troubleshooting/">Learn more about
troubleshooting WordPress.</a></p></div></body></html>
"""

MAINTENANCE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Maintenance</title></head>
<body><h1>Briefly unavailable for scheduled maintenance. Check back in a minute.</h1></body></html>
"""

BAD_GATEWAY_PAGE = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""
