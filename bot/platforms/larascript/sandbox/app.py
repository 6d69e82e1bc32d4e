"""The sandbox's HTTP side: ``GET /api/v1/partner/referral-exchanges`` as a Laravel site answers it.

- ``X-API-Key`` checked first: 401 ``{"errors":[{"message":"Invalid API key.","code":"4004"}]}``.
- ``page`` from 1; the page size under ``sandbox.size_param`` (``perPage`` by default; ``per_page``,
  or None: ignored), default 15, at most ``sandbox.max_per_page`` (200): above it (or below 1) 422
  with code ``"0001"`` and ``field: "perPage"``.
- ``links.next_page`` is absolute, on ``sandbox.link_base`` (the site's own address unless a test
  changes it) and carries only ``?page=N`` (as in the docs) unless ``next_keeps_size``. With
  ``endless`` every page past the last repeats it and links on (a broken paginator).
- Laravel renders its own errors (404, 405, 429, 5xx) as JSON only when asked for JSON.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.platforms.larascript.sandbox.faults import (
    ANTI_BOT_PAGE,
    BAD_GATEWAY_PAGE,
    LARAVEL_ERROR_PAGE,
    LINK_KINDS,
    Fault,
)

if TYPE_CHECKING:
    from bot.platforms.larascript.sandbox.state import LaraState

ENDPOINT = "/api/v1/partner/referral-exchanges"
DEFAULT_PER_PAGE = 15
_NUMBER = re.compile(r'"__NUM__([0-9.]+)"')


def make_app(sandbox: LaraState) -> web.Application:
    app = web.Application()

    async def referral_exchanges(request: web.Request) -> web.StreamResponse:
        return await _handle(sandbox, request)

    async def anything_else(request: web.Request) -> web.StreamResponse:
        if request.path == ENDPOINT:  # only GET is routed
            return _framework_error(request, 405, "Method Not Allowed", {"Allow": "GET, HEAD"})
        return _framework_error(request, 404, "Not Found")

    app.router.add_get(ENDPOINT, referral_exchanges)
    app.router.add_route("*", "/{tail:.*}", anything_else)
    return app


def _wants_json(request: web.Request) -> bool:
    return "json" in request.headers.get("Accept", "")


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    text = _NUMBER.sub(r"\1", json.dumps(payload, ensure_ascii=False))
    return web.Response(text=text, status=status, content_type="application/json", headers=headers)


def _framework_error(
    request: web.Request, status: int, title: str, headers: dict[str, str] | None = None
) -> web.Response:
    if _wants_json(request):
        return _json({"message": title}, status, headers)
    return web.Response(
        text=LARAVEL_ERROR_PAGE.format(title=title, status=status), status=status, content_type="text/html",
        headers=headers,
    )  # fmt: skip


def _api_error(status: int, message: str, code: str, field: str | None = None) -> web.Response:
    error = {"message": message, "code": code}
    if field:
        error["field"] = field
    return _json({"errors": [error]}, status)


def _int_param(request: web.Request, name: str | None) -> str | None:
    if name is None:
        return None
    return request.query.get(name)


async def _handle(sb: LaraState, request: web.Request) -> web.StreamResponse:
    sb.requests.append(request.path_qs)
    key = request.headers.get("X-API-Key", "")
    page_text = request.query.get("page", "1")
    page = int(page_text) if page_text.isdigit() and int(page_text) > 0 else 1
    fault = sb.faults.take(page)
    if fault is not None and fault.kind not in LINK_KINDS:
        return await _fault(request, fault)
    if fault is not None and fault.hook is not None:
        fault.hook()
    throttled = sb.throttle(key)
    if throttled:
        return _framework_error(request, 429, "Too Many Attempts.", {"Retry-After": str(throttled)})
    if key not in sb.keys:
        return _api_error(401, "Invalid API key.", "4004")
    per_page = DEFAULT_PER_PAGE
    size_text = _int_param(request, sb.size_param)
    if size_text is not None:
        try:
            per_page = int(size_text)
        except ValueError:
            return _api_error(422, "The per page field must be an integer.", "0001", "perPage")
        if per_page > sb.max_per_page:
            return _api_error(
                422, f"The per page field value must not exceed {sb.max_per_page}.", "0001", "perPage"
            )
        if per_page < 1:
            return _api_error(422, "The per page field must be at least 1.", "0001", "perPage")
    rows = sb.ordered(key)
    total = len(rows)
    last_page = max(1, math.ceil(total / per_page))
    chunk = rows[(page - 1) * per_page : page * per_page]
    base = sb.link_base or sb.url
    size = f"&{sb.size_param}={per_page}" if sb.next_keeps_size and size_text is not None else ""
    next_page = f"{base}{ENDPOINT}?page={page + 1}{size}" if page < last_page else None
    if sb.endless and page >= last_page:  # a broken paginator: the last page again, forever
        chunk = rows[(last_page - 1) * per_page : last_page * per_page]
        next_page = f"{base}{ENDPOINT}?page={page + 1}{size}"
    if fault is not None and fault.kind == "loop":
        next_page = f"{base}{request.path_qs}"
    elif fault is not None and fault.kind == "back":
        next_page = f"{base}{ENDPOINT}?page=1&from={page}"
    elif fault is not None and fault.kind == "offsite":
        next_page = f"https://partners.example.net{ENDPOINT}?page={page + 1}"
    elif fault is not None and fault.kind == "http_link" and next_page is not None:
        next_page = next_page.replace("http://", "https://", 1)
    payload = {
        "data": [row.wire() for row in chunk],
        "links": {
            "next_page": next_page,
            "previous_page": f"{base}{ENDPOINT}?page={page - 1}" if page > 1 else None,
        },
        "counts": {"total": total, "last_page": last_page},
    }
    return _json(payload)


async def _fault(request: web.Request, fault: Fault) -> web.StreamResponse:
    kind = fault.kind
    if kind == "html200":
        return web.Response(text=ANTI_BOT_PAGE, content_type="text/html")
    if kind == "garbage200":
        return web.Response(
            text='{"data": [{"type": "referral_exchange", "id": 16', content_type="application/json"
        )
    if kind == "nodata200":
        return _json({"message": "OK", "result": []})
    if kind == "http404":
        return _framework_error(request, 404, "Not Found")
    if kind == "http429":
        return _framework_error(request, 429, "Too Many Attempts.", {"Retry-After": str(int(fault.seconds))})
    if kind == "http500":
        return _framework_error(request, 500, "Server Error")
    if kind == "http502":
        return web.Response(text=BAD_GATEWAY_PAGE, status=502, content_type="text/html")
    if kind == "http503":
        return _framework_error(request, 503, "Service Unavailable", {"Retry-After": str(int(fault.seconds))})
    if kind == "disconnect":
        if request.transport is not None:
            request.transport.close()
        return web.Response()  # never reaches the client: the connection is gone
    if kind == "delay":
        await asyncio.sleep(fault.seconds)
        return _framework_error(request, 504, "Gateway Timeout")
    raise AssertionError(kind)
