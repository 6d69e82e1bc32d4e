"""One-shot failures for the next request (optionally only for a given ``page``).

Kinds:
  html200     HTTP 200 with an HTML anti-bot / hosting page instead of JSON.
  garbage200  HTTP 200 with truncated JSON.
  nodata200   HTTP 200 with JSON that has no ``data`` list.
  http404     Laravel's 404 (JSON when the client asks for JSON, HTML otherwise).
  http429     Laravel's throttle: ``{"message":"Too Many Attempts."}`` with ``Retry-After: seconds``.
  http500     Laravel's "Server Error" (JSON or HTML, as for 404).
  http502     nginx "Bad Gateway" HTML.
  http503     maintenance: ``{"message":"Service Unavailable"}`` with ``Retry-After: seconds``.
  disconnect  the connection is closed with no answer.
  delay       the answer is held back ``seconds``.
  loop        the page answers normally but its ``next_page`` points back at itself.
  back        the page answers normally but its ``next_page`` goes back to page 1 (another URL).
  offsite     the page answers normally but its ``next_page`` is on another host.
  http_link   the page answers normally but its ``next_page`` says ``https://`` on the same host and
              port (a site behind a TLS proxy writes links with the other scheme).
  hook        ``hook()`` runs before the page is built (change the data mid-walk).
"""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

KINDS = frozenset(
    {
        "html200", "garbage200", "nodata200", "http404", "http429", "http500", "http502", "http503",
        "disconnect", "delay", "loop", "back", "offsite", "http_link", "hook",
    }
)  # fmt: skip
LINK_KINDS = frozenset({"loop", "back", "offsite", "http_link", "hook"})


@dataclass(frozen=True)
class Fault:
    kind: str
    page: int | None = None
    seconds: float = 1.0
    hook: Callable[[], None] | None = None


class FaultQueue:
    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()

    def next(
        self,
        kind: str,
        *,
        page: int | None = None,
        seconds: float = 1.0,
        hook: Callable[[], None] | None = None,
        times: int = 1,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        if (kind == "hook") != (hook is not None):
            raise ValueError("pass hook= with kind 'hook' (and only then)")
        for _ in range(times):
            self._queue.append(Fault(kind, page, seconds, hook))

    def take(self, page: int) -> Fault | None:
        for fault in self._queue:
            if fault.page in (None, page):
                self._queue.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._queue.clear()

    def __len__(self) -> int:
        return len(self._queue)


ANTI_BOT_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Just a moment...</title></head>
<body><noscript>Enable JavaScript and cookies to continue</noscript>
<div id="challenge">Checking your browser before accessing the site.</div></body></html>
"""

LARAVEL_ERROR_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body class="antialiased"><div class="flex-center"><div class="code">{status}</div>
<div class="message">{title}</div></div></body></html>
"""

BAD_GATEWAY_PAGE = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""
