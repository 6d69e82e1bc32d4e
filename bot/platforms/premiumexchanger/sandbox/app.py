"""HTTP layer of the sandbox: routing, envelope, auth, faults, and a few site pages.

API: any HTTP method on /api/userapi/v1/<method> (trailing slash allowed). Parameters are read only
from form bodies (urlencoded or multipart); a JSON body or a query string is ignored. Answers are
always HTTP 200 JSON unless a fault is injected, encoded like PHP's json_encode (\\uXXXX, "\\/").

Envelope: {"error", "error_text", ["error_fields",] "data"}. `error` is the int 0 on success, except
the string "0" for get_calc, bid_info, get_partner_links and add_partner_payout; errors are always
strings "1" / "2" / "3". `data` is [] on errors and whenever it would be empty.
Checks in order: API-LOGIN/API-KEY ("1" Api disabled), key IP list ("2" IP blocked), method known and
enabled for the key ("3" Method not supported), maintenance (error "2" with the site's maintenance text:
`sb.maintenance_text`, by default the localized word "Maintenance" / "Техническое обслуживание"; only
for MAINTENANCE_METHODS: catalogue, get_exchanges and partner methods keep working).
get_direction answers {"error": "0", "error_text": "", "data": []} for a direction it does not show.

Site pages (for people trying the demo in a browser): /, /exchange_<give>_to_<get>/, /hst_<hash>/,
/merchant/pay/<hash>/ (POST = the merchant saw the payment: the bid advances one step) and the
currency logos under /wp-content/uploads/<slug>.png. A page opened with `?rid=<partner user id>` records
a click for that partner (its whole query string kept, as get_partner_links shows it), unless the
visitor came from the site itself (a Referer on the site's own host) or the affiliate module is off.
"""

import asyncio
import html
import json
import struct
import zlib
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

from bot.platforms.premiumexchanger.sandbox.catalogue import CURRENCIES, DIRECTIONS
from bot.platforms.premiumexchanger.sandbox.faults import (
    BAD_GATEWAY_PAGE,
    MAINTENANCE_PAGE,
    PHP_ERROR_PAGE,
    Fault,
)
from bot.platforms.premiumexchanger.sandbox.keys import ALL_METHODS
from bot.platforms.premiumexchanger.sandbox.methods import METHODS, ApiError, Call, EmptySuccess
from bot.platforms.premiumexchanger.sandbox.texts import MAINTENANCE_TEXT, lang_of, status_title

if TYPE_CHECKING:
    from bot.platforms.premiumexchanger.sandbox.state import SandboxState

STRING_ZERO_METHODS = frozenset({"get_calc", "bid_info", "get_partner_links", "add_partner_payout"})
MAINTENANCE_METHODS = frozenset(
    {"get_calc", "create_bid", "bid_info", "cancel_bid", "pay_bid", "success_bid"}
)
SANDBOX_KEY: web.AppKey["SandboxState"] = web.AppKey("sandbox")


def php_json(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=True).replace("/", "\\/")


def envelope(method: str, data: object = None, error: ApiError | None = None) -> dict:
    if error is not None:
        out: dict = {"error": error.code, "error_text": error.text}
        if error.fields:
            out["error_fields"] = error.fields
        out["data"] = []
        return out
    empty = data is None or data == [] or data == {} or data == ""
    return {
        "error": "0" if method in STRING_ZERO_METHODS else 0,
        "error_text": "",
        "data": [] if empty else data,
    }


def json_response(payload: dict) -> web.Response:
    return web.Response(text=php_json(payload), content_type="application/json", charset="utf-8")


async def read_form(request: web.Request):
    if request.method not in ("POST", "PUT", "PATCH"):
        return {}
    try:
        return await request.post()
    except Exception:  # a malformed body counts as no parameters
        return {}


def run_method(
    sb: "SandboxState", method: str, request: web.Request, form, *, headers=None, ip: str | None = None
) -> dict:
    """``headers``/``ip``: the request's, kept from before its connection went (a late commit)."""
    headers = request.headers if headers is None else headers
    login = headers.get("API-LOGIN", "").strip()
    key = sb.keys.get(login)
    try:
        if key is None or headers.get("API-KEY", "").strip() != key.key:
            raise ApiError("1", "Api disabled")
        ip = (request.remote or "") if ip is None else ip
        if key.allowed_ips is not None and ip not in key.allowed_ips:
            raise ApiError("2", "IP blocked")
        allowed = ALL_METHODS if key.methods is None else key.methods
        if method not in METHODS or method not in allowed:
            raise ApiError("3", "Method not supported")
        lang = lang_of(headers.get("API-LANG"))
        if sb.maintenance and method in MAINTENANCE_METHODS:
            raise ApiError("2", sb.maintenance_text or MAINTENANCE_TEXT(lang))
        call = Call(method, key, form, lang, ip)
        return envelope(method, METHODS[method](sb, call))
    except ApiError as exc:
        return envelope(method, error=exc)
    except EmptySuccess:
        return {"error": "0", "error_text": "", "data": []}


def fault_response(fault: Fault) -> web.Response:
    if fault.kind == "http502":
        return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")
    page = MAINTENANCE_PAGE if fault.kind == "maintenance_page" else PHP_ERROR_PAGE
    return web.Response(status=200, text=page, content_type="text/html", charset="utf-8")


async def api_handler(request: web.Request) -> web.StreamResponse:
    sb = request.app[SANDBOX_KEY]
    method = request.match_info["method"]
    sb.requests[method] += 1
    fault = sb.faults.take(method)
    form = await read_form(request)
    sb.last_form[method] = {k: v for k, v in form.items() if isinstance(v, str)}
    if fault is not None and fault.kind == "hook":
        assert fault.hook is not None
        fault.hook()
        fault = None
    if fault is not None and fault.kind == "empty_response":
        return json_response({"error": "1", "error_text": "Empty Response", "data": []})
    if fault is not None and fault.kind == "late_commit":
        headers, ip = dict(request.headers), request.remote or ""
        sb.commit_later(fault.seconds, lambda: run_method(sb, method, request, form, headers=headers, ip=ip))
        if request.transport is not None:
            request.transport.close()
        return web.Response()  # never reaches the client: the connection is gone
    if fault is not None and not fault.runs_method:
        return fault_response(fault)
    payload = run_method(sb, method, request, form)
    if fault is None:
        return json_response(payload)
    if fault.kind == "delay":
        await asyncio.sleep(fault.seconds)
        return json_response(payload)
    if fault.kind == "disconnect":
        if request.transport is not None:
            request.transport.close()
        return web.Response()  # never reaches the client: the connection is gone
    return fault_response(fault)


def _png(rgb: tuple[int, int, int], size: int = 32) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * size
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


async def logo(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    currency = next((c for c in CURRENCIES.values() if c.slug == slug), None)
    if currency is None:
        raise web.HTTPNotFound()
    color = zlib.crc32(slug.encode()) & 0xFFFFFF
    return web.Response(
        body=_png(((color >> 16) & 255, (color >> 8) & 255, color & 255)), content_type="image/png"
    )


def _html_page(title: str, body: str) -> web.Response:
    text = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}"
        "<p><small>Sandbox exchanger (demo data)</small></p></body></html>"
    )
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def record_referral(request: web.Request) -> None:
    sb = request.app[SANDBOX_KEY]
    rid = request.query.get("rid", "").strip()
    referrer = request.headers.get("Referer", "")
    if not rid.isdigit() or not sb.partner_program:
        return
    if referrer and urlsplit(referrer).netloc.lower() == urlsplit(sb.url).netloc.lower():
        return  # clicks from the site's own pages are not counted
    sb.partners.record_click(
        int(rid),
        int(sb.now()),
        browser=request.headers.get("User-Agent", ""),
        ip=request.remote or "",
        referrer=referrer,
        query_string=request.rel_url.raw_query_string,
    )


async def home(request: web.Request) -> web.Response:
    sb = request.app[SANDBOX_KEY]
    record_referral(request)
    rows = "".join(
        f"<li><a href='{d.path(sb.url)}'>{html.escape(d.give.title('en'))} &rarr; "
        f"{html.escape(d.get.title('en'))}</a></li>"
        for d in DIRECTIONS.values()
    )
    return _html_page("Sandbox exchanger", f"<ul>{rows}</ul>")


async def direction_page(request: web.Request) -> web.Response:
    sb = request.app[SANDBOX_KEY]
    path = f"{sb.url}{request.path}"
    direction = next((d for d in DIRECTIONS.values() if d.path(sb.url) == path), None)
    if direction is None:
        raise web.HTTPNotFound()
    record_referral(request)
    title = f"{direction.give.title('en')} → {direction.get.title('en')}"
    return _html_page(title, f"<p>Rate {direction.course_give} : {direction.course_get}</p>")


def _bid_by_hash(request: web.Request):
    sb = request.app[SANDBOX_KEY]
    bid = next((b for b in sb.store.bids.values() if b.hash == request.match_info["hash"]), None)
    if bid is None:
        raise web.HTTPNotFound()
    return sb, bid


async def bid_page(request: web.Request) -> web.Response:
    _, bid = _bid_by_hash(request)
    return _html_page(
        f"Order #{bid.id}", f"<p>Status: <b>{html.escape(status_title(bid.status, 'en'))}</b></p>"
    )


async def merchant_page(request: web.Request) -> web.Response:
    sb, bid = _bid_by_hash(request)
    if request.method == "POST":
        if bid.status in ("new", "techpay"):
            sb.advance(bid.id)
        raise web.HTTPFound(f"{sb.url}/hst_{bid.hash}/")
    form = (
        f"<p>Pay {bid.amount_give} {bid.direction.give.code} for order #{bid.id}.</p>"
        "<form method='post'><button type='submit'>Pay (demo)</button></form>"
    )
    return _html_page("Demo merchant", form)


def make_app(sb: "SandboxState") -> web.Application:
    app = web.Application()
    app[SANDBOX_KEY] = sb
    app.router.add_route("*", "/api/userapi/v1/{method}", api_handler)
    app.router.add_route("*", "/api/userapi/v1/{method}/", api_handler)
    app.router.add_get("/", home)
    app.router.add_get("/wp-content/uploads/{slug}.png", logo)
    app.router.add_get(r"/hst_{hash:[0-9a-f]+}/", bid_page)
    app.router.add_route("*", r"/merchant/pay/{hash:[0-9a-f]+}/", merchant_page)
    app.router.add_get(r"/exchange_{pair:[a-z0-9_]+}/", direction_page)
    return app
