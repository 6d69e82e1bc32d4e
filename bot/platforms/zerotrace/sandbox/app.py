"""The sandbox's HTTP surface: ``/api/v1/<endpoint>`` as 0trace serves it, plus ``/sandbox/*``
controls for demos (deposit, advance) without auth (loopback only).

Auth as the reference page says: all three headers or none (none only on currencies, pairs, price);
key or signature missing → 2; nonce missing → 3; unknown key, unknown or disabled code, wrong
signature, nonce too short/long/reused within 5 min → 3; a disabled partner → 4 (valid signature
only). Weight budget per partner (sliding 60 s), code 5 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.platforms.zerotrace.sandbox.faults import BAD_GATEWAY, MAINTENANCE_PAGE, Fault
from bot.platforms.zerotrace.sandbox.keys import Partner, ReferenceCode

if TYPE_CHECKING:
    from bot.platforms.zerotrace.sandbox.state import ZeroTraceState

__all__ = ["SANDBOX_KEY", "make_app"]

SANDBOX_KEY: web.AppKey[ZeroTraceState] = web.AppKey("zerotrace_sandbox")
PUBLIC = frozenset({"currencies", "pairs", "price"})
WEIGHTS = {"create": 50, "qr": 5}
MSG = {
    1: "INVALID_REQUEST", 2: "AUTH_REQUIRED", 3: "AUTH_INVALID", 4: "AUTH_DISABLED", 5: "RATE_LIMIT",
    6: "NOT_FOUND", 7: "LIMIT_MIN", 8: "LIMIT_MAX", 9: "RESERVE_EXCEEDED", 10: "MAINTENANCE",
    11: "UPSTREAM_ERROR", 12: "EMERGENCY_INVALID_CHOICE", 14: "ROTATION_CONFLICT", 99: "INTERNAL",
}  # fmt: skip
HTTP = {1: 400, 2: 401, 3: 401, 4: 401, 5: 429, 6: 404, 7: 400, 8: 400, 9: 503, 10: 503, 11: 503, 12: 400,
        14: 409, 99: 500}  # fmt: skip
NONCE_TTL = 300
_B58 = "1-9A-HJ-NP-Za-km-z"
_ADDRESS = {
    "Bitcoin": rf"bc1[02-9ac-hj-np-z]{{11,71}}|[13][{_B58}]{{25,34}}",
    "Litecoin": rf"ltc1[02-9ac-hj-np-z]{{11,71}}|[LM3][{_B58}]{{26,33}}",
    "Ethereum": r"0x[0-9a-fA-F]{40}",
    "Tron": rf"T[{_B58}]{{33}}",
    "Solana": rf"[{_B58}]{{32,44}}",
    "Dash": rf"X[{_B58}]{{33}}",
}
_CODE = re.compile(r"^[A-Za-z0-9_-]{4,32}$")


class ApiFailure(Exception):
    def __init__(self, code: int, http: int | None = None, retry_after: int | None = None) -> None:
        super().__init__(MSG.get(code, "ERROR"))
        self.code, self.http, self.retry_after = code, http or HTTP.get(code, 400), retry_after


def ok(data: Any) -> web.Response:
    return web.Response(text=json.dumps({"code": 0, "msg": "", "data": data}, separators=(",", ":")),
                        content_type="application/json", headers={"Cache-Control": "no-store"})  # fmt: skip


def failure(exc: ApiFailure) -> web.Response:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
    body = json.dumps({"code": exc.code, "msg": MSG.get(exc.code, "ERROR")})
    return web.Response(status=exc.http, text=body, content_type="application/json", headers=headers)


def valid_address(network: str, value: object) -> bool:
    if not isinstance(value, str) or not 10 <= len(value) <= 200:
        return False
    pattern = _ADDRESS.get(network, r"[!-~]{10,200}")
    return re.fullmatch(pattern, value) is not None


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"null", parse_float=Decimal)
    except ValueError:
        raise ApiFailure(1) from None
    if not isinstance(value, dict):
        raise ApiFailure(1)
    return value


def _amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ApiFailure(1)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ApiFailure(1) from None
    if not amount.is_finite() or amount <= 0:
        raise ApiFailure(1)
    return amount


def _afftax(body: dict[str, Any]) -> int | None:
    value = body.get("afftax")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2000:
        raise ApiFailure(1)
    return value


class Caller:
    def __init__(self, partner: Partner | None, code: ReferenceCode | None) -> None:
        self.partner, self.code = partner, code

    def markup(self, afftax: int | None) -> int:
        if self.partner is None:
            return 0
        if afftax is not None:
            return afftax
        if self.code is not None and self.code.afftax_bps:
            return self.code.afftax_bps
        return self.partner.afftax_bps


def authenticate(sb: ZeroTraceState, endpoint: str, request: web.Request, body: bytes) -> Caller:
    key, sign, nonce = (request.headers.get(h) for h in ("X-API-KEY", "X-API-SIGN", "X-API-NONCE"))
    if key is None and sign is None and nonce is None:
        if endpoint in PUBLIC:
            return Caller(None, None)
        raise ApiFailure(2)
    if not key or not sign:
        raise ApiFailure(2)
    if not nonce:
        raise ApiFailure(3)
    api_key, _, suffix = key.partition(".")
    partner = sb.partners.get(api_key)
    if partner is None:
        raise ApiFailure(3)
    expected = hmac.new(partner.secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sign):
        sb.bad_signatures += 1
        raise ApiFailure(3)
    code = None
    if suffix:
        code = partner.codes.get(suffix)
        if code is None or not code.enabled:
            raise ApiFailure(3)
    now = sb.now()
    for seen, at in list(sb.nonces.items()):
        if at < now - NONCE_TTL:
            del sb.nonces[seen]
    if not 16 <= len(nonce) <= 64 or nonce in sb.nonces:
        sb.reused_nonces += nonce in sb.nonces
        raise ApiFailure(3)
    sb.nonces[nonce] = now
    if not partner.enabled:
        raise ApiFailure(4)
    return Caller(partner, code)


def charge(sb: ZeroTraceState, partner: Partner, endpoint: str) -> None:
    weight = WEIGHTS.get(endpoint, 1)
    now = sb.now()
    spent = sb.spent.setdefault(partner.key, [])
    spent[:] = [(at, w) for at, w in spent if at > now - sb.window]
    used = sum(w for _, w in spent)
    if used + weight > sb.budget:
        running = used
        wait = sb.window
        for at, w in spent:
            running -= w
            if running + weight <= sb.budget:
                wait = at + sb.window - now
                break
        sb.rate_limited += 1
        raise ApiFailure(5, retry_after=max(1, math.ceil(wait)))
    spent.append((now, weight))


# -- endpoints -------------------------------------------------------------------------------------


def currencies(sb: ZeroTraceState, caller: Caller, body: bytes, request: web.Request) -> Any:
    return [a.wire() for a in sb.market.active()]


def pairs(sb: ZeroTraceState, caller: Caller, body: bytes, request: web.Request) -> Any:
    return [{"from": a.code, "to": b.code, "fromNetwork": a.network, "toNetwork": b.network,
             "rateTypes": ["FLOAT"]} for a, b in sb.market.pairs()]  # fmt: skip


def _priced(sb: ZeroTraceState, caller: Caller, req: dict[str, Any]) -> Any:
    if req.get("type") != "float" or req.get("direction") not in ("from", "to"):
        raise ApiFailure(1)
    pair = sb.market.pair(str(req.get("fromCcy")), str(req.get("toCcy")))
    if pair is None:
        raise ApiFailure(1)
    markup = caller.markup(_afftax(req))
    return sb.market.quote(pair[0], pair[1], _amount(req.get("amount")), req["direction"], markup)


def price(sb: ZeroTraceState, caller: Caller, body: bytes, request: web.Request) -> Any:
    return sb.market.price_data(_priced(sb, caller, _json(body)))


async def create(sb: ZeroTraceState, caller: Caller, body: bytes, request: web.Request,
                 fault: Fault | None) -> Any:  # fmt: skip
    assert caller.partner is not None
    key = request.headers.get("Idempotency-Key") or ""
    if not 8 <= len(key) <= 128:
        raise ApiFailure(1)
    slot = (caller.partner.key, key)
    pending = sb.committing.get(slot)
    if pending is not None:
        await pending.wait()
    if slot in sb.book.keys:
        stored, order_id = sb.book.keys[slot]
        if stored != body:
            raise ApiFailure(1, http=409)
        sb.replays += 1
        return {**sb.book.orders[order_id].dto(int(sb.now())), "token": None}
    req = _json(body)
    quote = _priced(sb, caller, req)
    if not quote.get.send:
        raise ApiFailure(1)
    to_address, refund = req.get("toAddress"), req.get("refundAddress")
    if not valid_address(quote.get.network, to_address) or not valid_address(quote.give.network, refund):
        raise ApiFailure(1)
    usd = quote.from_amount * sb.market.usd[quote.give.code]
    if usd < Decimal(10):
        raise ApiFailure(7)
    if usd > Decimal(5000):
        raise ApiFailure(8)
    if fault is not None and fault.kind == "late_commit":
        event = sb.committing[slot] = asyncio.Event()
        await asyncio.sleep(fault.seconds)
    order, token = sb.book.create(caller.partner.key, caller.code.code if caller.code else None, quote,
                                  str(to_address), str(refund))  # fmt: skip
    sb.book.keys[slot] = (body, order.id)
    if fault is not None and fault.kind == "late_commit":
        del sb.committing[slot]
        event.set()
    sb.created.append(order.id)
    return {**order.dto(int(sb.now())), "token": token}


def _reach(sb: ZeroTraceState, caller: Caller, req: dict[str, Any]) -> Any:
    assert caller.partner is not None
    order = sb.book.reach(caller.partner.key, req.get("id"), req.get("token"))
    if order is None:
        raise ApiFailure(6)
    return order


def order(sb: ZeroTraceState, caller: Caller, body: bytes, request: web.Request) -> Any:
    return _reach(sb, caller, _json(body)).dto(int(sb.now()))


def emergency(sb: ZeroTraceState, caller: Caller, body: bytes, request: web.Request) -> Any:
    req = _json(body)
    found = _reach(sb, caller, req)
    if req.get("choice") != "EXCHANGE":
        raise ApiFailure(12)
    if found.status != "EMERGENCY":
        raise ApiFailure(1)  # undocumented on 0trace; the sandbox refuses it as a bad request
    sb.book.choose(found)
    sb.on_choice(found)
    return True


def qr(sb: ZeroTraceState, caller: Caller, body: bytes, request: web.Request) -> Any:
    import segno

    found = _reach(sb, caller, _json(body))
    buffer = io.BytesIO()
    code = segno.make(found.payin_address, error="m")
    size = code.symbol_size(scale=1, border=2)[0]
    code.save(buffer, kind="png", scale=max(1, 256 // size), border=2)
    return {"qrPng": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()}


def rotate(sb: ZeroTraceState, caller: Caller, body: bytes, request: web.Request) -> Any:
    assert caller.partner is not None
    which = _json(body).get("rotate")
    if not isinstance(which, list) or not which or not set(which) <= {"apiSecret", "webhookSecret"}:
        raise ApiFailure(1)
    import secrets

    answer = {}
    if "apiSecret" in which:
        caller.partner.secret = answer["apiSecret"] = secrets.token_hex(24)
    if "webhookSecret" in which:
        caller.partner.webhook_secret = answer["webhookSecret"] = secrets.token_hex(24)
    return answer


def _code_dto(code: ReferenceCode) -> dict[str, Any]:
    return {"id": code.id, "code": code.code, "label": code.label, "afftaxBps": code.afftax_bps,
            "enabled": code.enabled, "createdAt": f"{code.created_at}"}  # fmt: skip


def codes(sb: ZeroTraceState, caller: Caller, body: bytes, request: web.Request) -> Any:
    partner = caller.partner
    assert partner is not None
    if request.method == "GET":
        return [_code_dto(c) for c in sorted(partner.codes.values(), key=lambda c: -c.id)][:100]
    req = _json(body)
    name = req.get("code")
    if not isinstance(name, str) or not _CODE.fullmatch(name):
        raise ApiFailure(1)
    if request.method == "DELETE":
        if partner.codes.pop(name, None) is None:
            raise ApiFailure(6)
        return True
    afftax = req.get("afftaxBps", 0)
    label = req.get("label")
    if name in partner.codes or len(partner.codes) >= partner.code_cap:
        raise ApiFailure(1)
    if isinstance(afftax, bool) or not isinstance(afftax, int) or not 0 <= afftax <= 2000:
        raise ApiFailure(1)
    if label is not None and (not isinstance(label, str) or len(label) > 64):
        raise ApiFailure(1)
    code = ReferenceCode(name, (label or "").strip() or None, afftax, True, int(sb.now()),
                         max((c.id for c in partner.codes.values()), default=0) + 1)  # fmt: skip
    partner.codes[name] = code
    return _code_dto(code)


def codes_enable(sb: ZeroTraceState, caller: Caller, body: bytes, request: web.Request) -> Any:
    assert caller.partner is not None
    req = _json(body)
    code = caller.partner.codes.get(str(req.get("code")))
    if code is None or not isinstance(req.get("enabled"), bool):
        raise ApiFailure(1)
    code.enabled = req["enabled"]
    return _code_dto(code)


ENDPOINTS = {
    "currencies": currencies, "pairs": pairs, "price": price, "order": order, "emergency": emergency,
    "qr": qr, "keys/rotate": rotate, "codes": codes, "codes/enable": codes_enable,
}  # fmt: skip


# -- the handler -----------------------------------------------------------------------------------


def _fault_response(fault: Fault) -> web.Response | None:
    if fault.kind == "http502":
        return web.Response(status=502, text=BAD_GATEWAY, content_type="text/html")
    if fault.kind == "html200":
        return web.Response(status=200, text=MAINTENANCE_PAGE, content_type="text/html")
    if fault.kind == "ratelimit":
        return failure(ApiFailure(5, retry_after=max(1, math.ceil(fault.seconds))))
    if fault.kind == "maintenance":
        return failure(ApiFailure(10))
    if fault.kind == "upstream":
        return failure(ApiFailure(11))
    return None


def _drop(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.close()
    return web.Response()  # never reaches the client


async def api(request: web.Request) -> web.StreamResponse:
    sb = request.app[SANDBOX_KEY]
    endpoint = request.match_info["endpoint"]
    body = await request.read()
    sb.received.append((endpoint, dict(request.headers), body))
    sb.requests[endpoint] += 1
    allowed = ("GET", "POST", "DELETE") if endpoint == "codes" else ("POST",)
    if request.method not in allowed or (endpoint != "create" and endpoint not in ENDPOINTS):
        return failure(ApiFailure(6))
    fault = sb.faults.take(endpoint)
    if fault is not None and fault.kind == "hook":
        assert fault.hook is not None
        fault.hook()
        fault = None
    if fault is not None:
        if fault.kind == "drop_before":
            return _drop(request)
        early = _fault_response(fault)
        if early is not None:
            return early
    if sb.maintenance:
        return failure(ApiFailure(10))
    try:
        caller = authenticate(sb, endpoint, request, body)
        if caller.partner is not None:
            charge(sb, caller.partner, endpoint)
        if endpoint == "create":
            if fault is not None and fault.kind == "late_commit":
                task = asyncio.create_task(create(sb, caller, body, request, fault))
                sb.background.add(task)
                task.add_done_callback(sb.background.discard)
                await asyncio.sleep(0)  # let it claim the key before the connection goes
                return _drop(request)
            data = await create(sb, caller, body, request, None)
        else:
            data = ENDPOINTS[endpoint](sb, caller, body, request)
    except ApiFailure as exc:
        return failure(exc)
    if fault is not None and fault.kind == "drop":
        return _drop(request)
    if fault is not None and fault.kind == "delay":
        await asyncio.sleep(fault.seconds)
    return ok(data)


async def control(request: web.Request) -> web.Response:
    """``POST /sandbox/{deposit,advance,expire}`` with ``{"id", "amount"?}``: demo controls."""
    sb = request.app[SANDBOX_KEY]
    action = request.match_info["action"]
    try:
        req = _json(await request.read())
        order_id = str(req.get("id"))
        if order_id not in sb.book.orders:
            raise ApiFailure(6)
        if action == "deposit":
            amount = req.get("amount")
            status = sb.deposit(order_id, _amount(amount) if amount is not None else None)
        elif action == "advance":
            status = sb.advance(order_id)
        elif action == "expire":
            status = sb.expire(order_id)
        else:
            raise ApiFailure(6)
    except ApiFailure as exc:
        return failure(exc)
    return ok({"id": order_id, "status": status})


async def list_orders(request: web.Request) -> web.Response:
    sb = request.app[SANDBOX_KEY]
    now = int(sb.now())
    return ok([o.dto(now) for o in sb.book.orders.values()])


def _listing_code(coin: str, network: str) -> str:
    suffix = {"Tron": "TRC20", "Ethereum": "ERC20"}.get(network, "") if coin in ("USDT", "USDC") else ""
    return coin + suffix


async def rates_xml(request: web.Request) -> web.Response:
    """The public XML feed (no auth, no weight): one <item> per active pair, with an ETag."""
    sb = request.app[SANDBOX_KEY]
    items = []
    for give, get in sb.market.pairs():
        if not get.send:
            continue
        one = sb.market.quote(give, get, Decimal(1), "from", 0)
        bounds = sb.market.bounds(give, get, 0)
        items.append(
            f"<item><from>{_listing_code(give.coin, give.network)}</from>"
            f"<to>{_listing_code(get.coin, get.network)}</to><in>1</in><out>{one.to_amount}</out>"
            f"<amount>1000000</amount><minamount>{bounds['from_min']}</minamount>"
            f"<maxamount>{bounds['from_max']}</maxamount></item>"
        )
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<rates>' + "".join(items) + "</rates>"
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    return web.Response(text=body, content_type="application/xml", headers={"ETag": etag})


def make_app(sb: ZeroTraceState) -> web.Application:
    app = web.Application(client_max_size=256 * 1024)
    app[SANDBOX_KEY] = sb
    app.router.add_route("*", "/api/v1/{endpoint:.+}", api)
    app.router.add_post("/sandbox/{action}", control)
    app.router.add_get("/sandbox/orders", list_orders)
    for path in ("/api/rates.xml", "/rates/float.xml", "/api/rates/float.xml"):
        app.router.add_get(path, rates_xml)
    return app
