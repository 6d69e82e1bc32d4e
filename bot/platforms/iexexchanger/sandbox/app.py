"""HTTP layer of the iEXExchanger sandbox: API v3 under ``/api/v3`` plus a few sandbox controls.

Every answer is the documented envelope with real HTTP statuses: ``{"state": 0, "message": "OK",
"result", "meta": {request_id, correlation_id, timestamp[, pagination]}}`` or ``{"state": 1,
"message", "code": <status>, "result": null, "error": {"code", "type", "details"}, "meta"}``; headers
``X-Request-Id``, ``X-Correlation-Id`` (the client's when it sent one), ``X-Api-Version: v3`` and the
envelope/error/webhook payload versions; private answers add ``X-RateLimit-*`` and ``X-Api-Quota-*``.

Lists: page mode (``page``, ``per_page`` 1..100, default 25; above 100 is 422 ``validation_error``)
and cursor mode (``pagination=cursor``, then ``cursor``: keyset, so rows added meanwhile shift nothing),
newest first; ``filter[name]`` as documented per endpoint (dates: a bare date is UTC, ``_to`` with a
bare date takes the whole day; unknown filter names are ignored).

Sandbox controls (no auth): ``POST /sandbox/payouts/{id}/pay`` marks a pending payout paid and
delivers the signed ``partner.payout.paid`` event; ``POST /sandbox/payouts`` creates a pending
payout for the demo partner (``?client=`` another one).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.platforms.iexexchanger.sandbox.auth import Refusal, authenticate, short
from bot.platforms.iexexchanger.sandbox.data import (
    DAY,
    Exchange,
    PartnerAccount,
    Referral,
    iso,
    payout_json,
    window_of,
)
from bot.platforms.iexexchanger.sandbox.faults import BAD_GATEWAY_PAGE, MAINTENANCE_PAGE
from bot.platforms.iexexchanger.sandbox.keys import CLIENTS, DemoKey
from bot.platforms.iexexchanger.sandbox.webhooks import EVENT_TYPES, MAX_ENDPOINTS

if TYPE_CHECKING:
    from bot.platforms.iexexchanger.sandbox.state import IexState

__all__ = ["SANDBOX", "make_app"]

SANDBOX: web.AppKey[IexState] = web.AppKey("iex_sandbox")
REQUEST_ID = web.RequestKey("request_id", str)
CORRELATION_ID = web.RequestKey("correlation_id", str)
EXTRA_HEADERS = web.RequestKey("extra_headers", dict)
KEY_HANDLE = web.RequestKey("key_handle", str)
API = "/api/v3"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
VERSION_HEADERS = {
    "X-Api-Version": "v3",
    "X-Api-Envelope-Version": "v1",
    "X-Api-Error-Version": "v1",
    "X-Api-Webhook-Payload-Version": "v1",
}

SCOPE_CATALOGUE = {
    "partner:read": ("partner", "Partner summary", "low", ["GET /private/partner"]),
    "partner:statistics:read": ("partner", "Partner statistics", "low", ["GET /private/partner/statistics"]),
    "partner:referrals:read": ("partner", "Attracted clients", "medium", ["GET /private/partner/referrals"]),
    "partner:exchanges:read": (
        "partner",
        "Referral bonus exchanges",
        "medium",
        ["GET /private/partner/exchanges"],
    ),
    "partner:payouts:read": ("partner", "Partner payouts", "medium", ["GET /private/partner/payouts"]),
    "webhooks:read": ("webhooks", "Read webhooks", "low", ["GET /private/webhooks"]),
    "webhooks:write": ("webhooks", "Manage webhooks", "high", ["POST /private/webhooks"]),
    "webhooks:deliveries:read": ("webhooks", "Delivery log", "low", ["GET /private/webhooks/deliveries"]),
    "webhooks:deliveries:retry": ("webhooks", "Retry deliveries", "medium", []),
    "scopes:read": ("security", "Read token scopes", "low", ["GET /private/scopes"]),
    "client:read": ("client", "Client profile", "low", ["GET /private/client"]),
    "usage:read": ("client", "API usage", "low", ["GET /private/usage"]),
}


@dataclass
class Call:
    """One private request, authenticated."""

    request: web.Request
    key: DemoKey
    body: bytes

    def q(self, name: str) -> str | None:
        """A query parameter as PHP reads it: the last of a repeated name wins."""
        values = self.request.query.getall(name, [])
        return values[-1] if values else None

    def filters(self) -> dict[str, str]:
        found = {}
        for name in self.request.query:
            if name.startswith("filter[") and name.endswith("]"):
                found[name[7:-1]] = self.request.query.getall(name)[-1]
        return found


def _sb(request: web.Request) -> IexState:
    return request.app[SANDBOX]


def _meta(request: web.Request, sb: IexState, pagination: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = {
        "request_id": request[REQUEST_ID],
        "correlation_id": request[CORRELATION_ID],
        "timestamp": iso(int(sb.now())),
    }
    if pagination is not None:
        meta["pagination"] = pagination
    return meta


def _json(sb: IexState, payload: Any) -> str:
    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value) if sb.money_as_numbers else format(value, "f")
        raise TypeError(type(value).__name__)

    return json.dumps(payload, ensure_ascii=False, default=default)


def _respond(
    request: web.Request, status: int, payload: Any, headers: dict[str, str] | None = None
) -> web.Response:
    sb = _sb(request)
    all_headers = {
        **VERSION_HEADERS,
        "X-Request-Id": request[REQUEST_ID],
        "X-Correlation-Id": request[CORRELATION_ID],
        **request.get(EXTRA_HEADERS, {}),
        **(headers or {}),
    }
    return web.Response(
        status=status, text=_json(sb, payload), content_type="application/json", headers=all_headers
    )


def ok(request: web.Request, result: Any, *, status: int = 200, pagination: dict[str, Any] | None = None):
    payload = {
        "state": 0,
        "message": "OK",
        "result": result,
        "meta": _meta(request, _sb(request), pagination),
    }
    return _respond(request, status, payload)


def refused(request: web.Request, refusal: Refusal) -> web.Response:
    payload = {
        "state": 1,
        "message": refusal.message,
        "code": refusal.status,
        "result": None,
        "error": {"code": refusal.code, "type": refusal.code, "details": refusal.details},
        "meta": _meta(request, _sb(request)),
    }
    return _respond(request, refusal.status, payload, refusal.headers)


def invalid(field: str, message: str) -> Refusal:
    return Refusal(422, "validation_error", "Validation failed", {field: [message]})


# -- lists -------------------------------------------------------------------------------------------


def _cursor_of(key: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _key_of_cursor(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id = json.loads(raw)
        return int(created), int(row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise invalid("cursor", "The cursor is invalid.") from None


def _int_param(call: Call, name: str, default: int, low: int, high: int | None) -> int:
    raw = call.q(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"The {name.replace('_', ' ')} field must be an integer.") from None
    if value < low:
        raise invalid(name, f"The {name.replace('_', ' ')} field must be at least {low}.")
    if high is not None and value > high:
        raise invalid(name, f"The {name.replace('_', ' ')} field must not be greater than {high}.")
    return value


def paginate(call: Call, rows: list[tuple[tuple[int, int], dict[str, Any]]]) -> tuple[list, dict[str, Any]]:
    """``rows``: (sort key (created_at, id), JSON row), any order; answered newest first."""
    per_page = _int_param(call, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    rows = sorted(rows, key=lambda r: r[0], reverse=True)
    cursor = call.q("cursor")
    if call.q("pagination") == "cursor" or cursor:
        if cursor:
            after = _key_of_cursor(cursor)
            rows = [r for r in rows if r[0] < after]
        chunk = rows[:per_page]
        more = len(rows) > per_page
        return [r[1] for r in chunk], {
            "mode": "cursor", "current_page": None, "per_page": per_page, "total": None, "last_page": None,
            "from": None, "to": None, "cursor": cursor, "has_more": more,
            "next_cursor": _cursor_of(chunk[-1][0]) if more else None,
        }  # fmt: skip
    page = _int_param(call, "page", 1, 1, None)
    total = len(rows)
    last_page = max(1, math.ceil(total / per_page))
    chunk = rows[(page - 1) * per_page : page * per_page]
    first = (page - 1) * per_page + 1 if chunk else None
    return [r[1] for r in chunk], {
        "mode": "page", "current_page": page, "per_page": per_page, "total": total, "last_page": last_page,
        "from": first, "to": first + len(chunk) - 1 if first else None, "cursor": None, "next_cursor": None,
        "has_more": page < last_page,
    }  # fmt: skip


def _date(name: str, value: str, *, end: bool) -> int:
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return int(moment.timestamp()) + (DAY - 1 if end else 0)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise invalid(f"filter.{name}", f"The filter.{name} field must be a valid date.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _number(name: str, value: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except ArithmeticError:
        raise invalid(f"filter.{name}", f"The filter.{name} field must be a number.") from None
    if not number.is_finite():
        raise invalid(f"filter.{name}", f"The filter.{name} field must be a number.")
    return number


def apply_filters(
    filters: dict[str, str],
    items: Iterable[Any],
    *,
    exact: dict[str, Callable[[Any], object]],
    partial: dict[str, Callable[[Any], str]] = {},  # noqa: B006 - read only
    bounds: dict[str, Callable[[Any], Decimal]] = {},  # noqa: B006
) -> list[Any]:
    kept = list(items)
    for name, value in filters.items():
        if name in exact:
            getter = exact[name]
            kept = [i for i in kept if str(getter(i)).lower() == value.strip().lower()]
        elif name in partial:
            getter_p = partial[name]
            kept = [i for i in kept if value.strip().lower() in getter_p(i).lower()]
        elif name in ("created_from", "created_to"):
            moment = _date(name, value, end=name == "created_to")
            if name == "created_from":
                kept = [i for i in kept if i.created_at >= moment]
            else:
                kept = [i for i in kept if i.created_at <= moment]
        elif name.endswith(("_min", "_max")) and name[:-4] in bounds:
            limit = _number(name, value)
            getter_b = bounds[name[:-4]]
            kept = [
                i for i in kept if (getter_b(i) >= limit if name.endswith("_min") else getter_b(i) <= limit)
            ]
    return kept


# -- partner rows --------------------------------------------------------------------------------------


def referral_json(r: Referral) -> dict[str, Any]:
    return {"id": r.id, "client_id": r.client_id, "client_email": r.email, "client_name": r.name,
            "exchanges_count": r.exchanges_count, "created_at": iso(r.created_at, 3)}  # fmt: skip


def exchange_json(e: Exchange) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": e.id, "order_id": e.order_id, "order_public_id": e.public_id,
        "order_tracking_id": e.tracking_id,
        "client_id": e.client_id, "client_email": e.client_email, "status": e.status,
        "amount_give": e.amount_give, "currency_give": e.currency_give,
        "amount_receive": e.amount_receive, "currency_receive": e.currency_receive.lower(),
        "bonus": e.bonus, "bonus_currency": e.bonus_currency, "bonus_status": e.bonus_status,
        "created_at": iso(e.created_at), "completed_at": iso(e.completed_at) if e.completed_at else None,
        "meta": {"source": "site"},
    }  # fmt: skip
    if e.id % 7 == 0:
        del row["bonus_currency"]  # left out by some rows: the balance currency is the best guess
    return row


def _account(call: Call) -> PartnerAccount:
    account = _sb(call.request).accounts.get(call.key.client_id)
    if account is None:
        raise Refusal(404, "not_found", "Partner profile not found.")
    return account


def _wrapped(sb: IexState, name: str, value: Any) -> Any:
    return {name: value} if sb.wrap_results else value


async def partner_summary(call: Call) -> web.Response:
    sb, account = _sb(call.request), _account(call)
    result = {
        "status": account.status, "referral_hash": account.referral_hash, "percent_referral": account.percent,
        "count_referral": len(account.referrals), "iso_code": account.currency.lower(),
        "balance": account.balance,
        "totals": {"balance": account.accrued, "withdrawal": account.paid_out("paid")},
        "created_at": iso(account.created_at),
    }  # fmt: skip
    return ok(call.request, _wrapped(sb, "partner", result))


async def partner_statistics(call: Call) -> web.Response:
    sb, account = _sb(call.request), _account(call)
    period = (call.q("period") or "month").strip().lower()
    now = int(sb.now())
    if period in ("day", "week", "month"):
        start, end = window_of(period, now)
    elif period == "custom" and sb.stats_range:
        raw_from, raw_to = call.q("date_from"), call.q("date_to")
        if not raw_from or not raw_to:
            raise invalid("date_from", "The date from and date to fields are required for a custom period.")
        start, end = _date("date_from", raw_from, end=False), _date("date_to", raw_to, end=True)
        if end < start:
            raise invalid("date_to", "The date to must be a date after or equal to date from.")
    else:
        raise invalid("period", "The selected period is invalid.")
    stats = account.statistics(start, end)
    result = {
        "period": period,
        "date_from": iso(start),
        "date_to": iso(end),
        "currency": account.currency,
        **stats,
    }
    return ok(call.request, result)


async def partner_referrals(call: Call) -> web.Response:
    sb, account = _sb(call.request), _account(call)
    rows = apply_filters(
        call.filters(), account.referrals,
        exact={"id": lambda r: r.id, "client_id": lambda r: r.client_id},
        partial={"client_email": lambda r: r.email, "client_name": lambda r: r.name},
    )  # fmt: skip
    page, pagination = paginate(call, [((r.created_at, r.id), referral_json(r)) for r in rows])
    return ok(call.request, _wrapped(sb, "referrals", page), pagination=pagination)


async def partner_exchanges(call: Call) -> web.Response:
    sb, account = _sb(call.request), _account(call)
    rows = apply_filters(
        call.filters(), account.exchanges,
        exact={"id": lambda e: e.id, "order_id": lambda e: e.order_id, "client_id": lambda e: e.client_id,
               "status": lambda e: e.status, "order_public_id": lambda e: e.public_id,
               "order_tracking_id": lambda e: e.tracking_id},
        partial={"client_email": lambda e: e.client_email},
        bounds={"bonus": lambda e: e.bonus},
    )  # fmt: skip
    page, pagination = paginate(call, [((e.created_at, e.id), exchange_json(e)) for e in rows])
    return ok(call.request, _wrapped(sb, "exchanges", page), pagination=pagination)


async def partner_payouts(call: Call) -> web.Response:
    sb, account = _sb(call.request), _account(call)
    status = call.filters().get("status")
    if status is not None and status.strip().lower() not in ("pending", "paid", "rejected"):
        raise invalid("filter.status", "The selected filter.status is invalid.")
    rows = apply_filters(
        call.filters(), account.payouts,
        exact={"id": lambda p: p.id, "public_id": lambda p: p.public_id, "status": lambda p: p.status,
               "currency": lambda p: p.currency, "tx_id": lambda p: p.tx_id or "",
               "wallet": lambda p: p.wallet},
        bounds={"amount": lambda p: p.amount},
    )  # fmt: skip
    page, pagination = paginate(call, [((p.created_at, p.id), payout_json(p)) for p in rows])
    return ok(call.request, _wrapped(sb, "payouts", page), pagination=pagination)


# -- the key itself --------------------------------------------------------------------------------------


async def key_scopes(call: Call) -> web.Response:
    items = []
    for name in call.key.scopes:
        group, title, risk, endpoints = SCOPE_CATALOGUE.get(short(name), ("other", name, "low", []))
        items.append({"scope": name, "group": group, "title": title, "description": title, "risk": risk,
                      "grantable": True, "endpoints": endpoints})  # fmt: skip
    return ok(call.request, {"scopes": items})


async def key_client(call: Call) -> web.Response:
    client = CLIENTS[call.key.client_id]
    return ok(call.request, {
        "client": {"id": client.id, "name": client.name, "email": client.email},
        "api_token": {"id": call.key.key_id, "name": call.key.name, "scopes": list(call.key.scopes),
                      "security": {"hmac_required": call.key.hmac_required,
                                   "ip_allowlist_enabled": bool(call.key.allowed_ips)}},
    })  # fmt: skip


async def key_usage(call: Call) -> web.Response:
    sb = _sb(call.request)
    used = sb.quota_used.get(call.key.key_id, 0)
    limit = call.key.daily_quota
    day = {"limit": limit, "used": used, "remaining": None if limit is None else max(0, limit - used),
           "resets_at": iso(int(sb.now()) // DAY * DAY + DAY)}  # fmt: skip
    return ok(call.request, {"quota": {"day": day, "month": {**day, "limit": None, "remaining": None}}})


# -- webhooks ------------------------------------------------------------------------------------------


def _body_json(call: Call) -> dict[str, Any]:
    try:
        payload = json.loads(call.body or b"{}")
    except ValueError:
        raise Refusal(400, "bad_request", "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise Refusal(400, "bad_request", "The request body must be a JSON object.")
    return payload


def _own_endpoint(call: Call):
    sb = _sb(call.request)
    endpoint = sb.webhooks.endpoints.get(int(call.request.match_info["id"]))
    if endpoint is None or endpoint.client_id != call.key.client_id:
        raise Refusal(404, "not_found", "Webhook endpoint not found.")
    return endpoint


def _check_endpoint_fields(payload: dict[str, Any], *, creating: bool) -> None:
    name, url, events = payload.get("name"), payload.get("url"), payload.get("events")
    if creating or "name" in payload:
        if not isinstance(name, str) or not name.strip() or len(name) > 80:
            raise invalid("name", "The name field is required and must not be greater than 80 characters.")
    if creating or "url" in payload:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 500:
            raise invalid("url", "The url field must be a valid URL of at most 500 characters.")
    if creating or "events" in payload:
        if not isinstance(events, list) or not events or not all(e in EVENT_TYPES for e in events):
            raise invalid("events", "The selected events are invalid.")
    if "status" in payload and payload["status"] not in ("active", "paused", "disabled"):
        raise invalid("status", "The selected status is invalid.")


async def webhooks_list(call: Call) -> web.Response:
    sb = _sb(call.request)
    endpoints = [e.public(iso) for e in sb.webhooks.of_client(call.key.client_id)]
    return ok(call.request, {"endpoints": endpoints, "events": [{"type": t} for t in EVENT_TYPES],
                             "limits": {"max_endpoints": MAX_ENDPOINTS}})  # fmt: skip


async def webhooks_create(call: Call) -> web.Response:
    sb = _sb(call.request)
    idem = call.request.headers.get("Idempotency-Key")
    if idem is not None:
        if not 8 <= len(idem) <= 191:
            raise invalid("idempotency_key", "The Idempotency-Key must be 8 to 191 characters.")
        stored = sb.idempotency.get((call.key.key_id, idem))
        if stored is not None:
            body, status, result = stored
            if body != call.body:
                raise Refusal(
                    409, "idempotency_conflict", "The Idempotency-Key was used with another request."
                )
            return ok(call.request, result, status=status)
    payload = _body_json(call)
    _check_endpoint_fields(payload, creating=True)
    if len(sb.webhooks.of_client(call.key.client_id)) >= MAX_ENDPOINTS:
        raise invalid("url", f"At most {MAX_ENDPOINTS} webhook endpoints per account.")
    description = payload.get("description") if isinstance(payload.get("description"), str) else None
    endpoint = sb.webhooks.create(
        call.key.client_id,
        payload["name"].strip(),
        payload["url"],
        list(dict.fromkeys(payload["events"])),
        description,
    )
    result = {"endpoint": {**endpoint.public(iso), "secret": endpoint.secret}}
    if idem is not None:
        sb.idempotency[(call.key.key_id, idem)] = (call.body, 201, result)
    return ok(call.request, result, status=201)


async def webhooks_read(call: Call) -> web.Response:
    return ok(call.request, {"endpoint": _own_endpoint(call).public(iso)})


async def webhooks_update(call: Call) -> web.Response:
    endpoint = _own_endpoint(call)
    payload = _body_json(call)
    _check_endpoint_fields(payload, creating=False)
    for name in ("name", "url", "events", "status", "description"):
        if name in payload:
            setattr(endpoint, name, payload[name])
    return ok(call.request, {"endpoint": endpoint.public(iso)})


async def webhooks_delete(call: Call) -> web.Response:
    endpoint = _own_endpoint(call)
    del _sb(call.request).webhooks.endpoints[endpoint.id]
    return ok(call.request, {"deleted": True, "id": endpoint.id})


async def webhooks_rotate(call: Call) -> web.Response:
    endpoint = _own_endpoint(call)
    endpoint.secret = "whsec_" + secrets.token_urlsafe(24)
    return ok(call.request, {"endpoint": {**endpoint.public(iso), "secret": endpoint.secret}})


async def webhooks_test(call: Call) -> web.Response:
    sb = _sb(call.request)
    payload = _body_json(call)
    event_type = payload.get("event_type") or payload.get("event") or "webhook.test"
    if event_type not in EVENT_TYPES:
        raise invalid("event_type", "The selected event type is invalid.")
    endpoint_id = payload.get("endpoint_id")
    own = sb.webhooks.of_client(call.key.client_id)
    if endpoint_id is not None and not any(e.id == endpoint_id for e in own):
        raise Refusal(404, "not_found", "Webhook endpoint not found.")
    data = payload.get("payload") if isinstance(payload.get("payload"), dict) else {"test": True}
    event = sb.webhooks.event(event_type, data, iso)
    done = []
    for endpoint in own:
        if endpoint_id is None or endpoint.id == endpoint_id:
            done += await sb.webhooks.deliver(event, call.key.client_id, only=endpoint.id)
    return ok(call.request, {"event_id": event.id, "deliveries": [
        {"id": d.id, "endpoint_id": d.endpoint_id, "status": d.status, "http_status": d.http_status}
        for d in done
    ]})  # fmt: skip


async def webhooks_deliveries(call: Call) -> web.Response:
    sb = _sb(call.request)
    own = {e.id for e in sb.webhooks.of_client(call.key.client_id)}
    rows = [((i, d.id), {"id": d.id, "event_id": d.event_id, "event_type": d.event_type,
                          "endpoint_id": d.endpoint_id, "status": d.status, "http_status": d.http_status})
            for i, d in enumerate(sb.webhooks.deliveries) if d.endpoint_id in own]  # fmt: skip
    page, pagination = paginate(call, rows)
    return ok(call.request, page, pagination=pagination)


# -- routing -------------------------------------------------------------------------------------------

Handler = Callable[[Call], Any]
PRIVATE: list[tuple[str, str, str, Handler]] = [
    ("GET", "/private/partner", "partner:read", partner_summary),
    ("GET", "/private/partner/statistics", "partner:statistics:read", partner_statistics),
    ("GET", "/private/partner/referrals", "partner:referrals:read", partner_referrals),
    ("GET", "/private/partner/exchanges", "partner:exchanges:read", partner_exchanges),
    ("GET", "/private/partner/payouts", "partner:payouts:read", partner_payouts),
    ("GET", "/private/scopes", "scopes:read", key_scopes),
    ("GET", "/private/client", "client:read", key_client),
    ("GET", "/private/usage", "usage:read", key_usage),
    ("GET", "/private/webhooks", "webhooks:read", webhooks_list),
    ("POST", "/private/webhooks", "webhooks:write", webhooks_create),
    ("POST", "/private/webhooks/test", "webhooks:write", webhooks_test),
    ("GET", "/private/webhooks/deliveries", "webhooks:deliveries:read", webhooks_deliveries),
    ("GET", r"/private/webhooks/{id:\d+}", "webhooks:read", webhooks_read),
    ("PATCH", r"/private/webhooks/{id:\d+}", "webhooks:write", webhooks_update),
    ("DELETE", r"/private/webhooks/{id:\d+}", "webhooks:write", webhooks_delete),
    ("POST", r"/private/webhooks/{id:\d+}/rotate-secret", "webhooks:write", webhooks_rotate),
]


def _rate_headers(sb: IexState, key: DemoKey) -> dict[str, str]:
    """Count the request against the key's window and quota; raise the 429s."""
    now = sb.now()
    window = sb.windows.get(key.key_id)
    if window is None or now >= window[0] + sb.rate_window:
        window = (now, 0)
    start, count = window
    reset = start + sb.rate_window
    used = sb.quota_used.get(key.key_id, 0)
    headers = {"X-RateLimit-Limit": str(sb.rate_limit), "X-RateLimit-Reset": str(math.ceil(reset))}
    if key.daily_quota is not None:
        headers["X-Api-Quota-Daily-Limit"] = str(key.daily_quota)
        headers["X-Api-Quota-Daily-Remaining"] = str(max(0, key.daily_quota - used))
        if used >= key.daily_quota:
            midnight = int(now) // DAY * DAY + DAY
            raise Refusal(429, "quota_exceeded", "Daily API quota exceeded.",
                          headers={**headers, "X-RateLimit-Remaining": str(max(0, sb.rate_limit - count)),
                                   "Retry-After": str(midnight - int(now))})  # fmt: skip
    if count >= sb.rate_limit:
        sb.windows[key.key_id] = window
        raise Refusal(429, "rate_limit_exceeded", "Too Many Attempts.",
                      headers={**headers, "X-RateLimit-Remaining": "0",
                               "Retry-After": str(max(1, math.ceil(reset - now)))})  # fmt: skip
    sb.windows[key.key_id] = (start, count + 1)
    sb.quota_used[key.key_id] = used + 1
    headers["X-RateLimit-Remaining"] = str(sb.rate_limit - count - 1)
    if key.daily_quota is not None:
        headers["X-Api-Quota-Daily-Remaining"] = str(max(0, key.daily_quota - used - 1))
    return headers


def _private(method: str, scope: str, handler: Handler):
    async def serve(request: web.Request) -> web.Response:
        sb = _sb(request)
        body = await request.read()
        caller = authenticate(
            headers=request.headers, keys=sb.keys.values(), remote=request.remote, scope=scope,
            method=request.method, path=request.path, raw_query=request.rel_url.raw_query_string, body=body,
            now=sb.now(), nonces=sb.nonces,
        )  # fmt: skip
        request[KEY_HANDLE] = caller.key.handle
        request[EXTRA_HEADERS] = _rate_headers(sb, caller.key)
        return await handler(Call(request, caller.key, body))

    serve.__name__ = f"{method} {handler.__name__}"
    return serve


async def ping(request: web.Request) -> web.Response:
    sb = _sb(request)
    return ok(request, {"status": "ok", "site_name": sb.site_name, "time": iso(int(sb.now()))})


async def not_found(request: web.Request) -> web.Response:
    raise Refusal(404, "not_found", "Route not found.")


@web.middleware
async def envelope_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    sb = _sb(request)
    request[REQUEST_ID] = "req_" + secrets.token_hex(10)
    given = request.headers.get("X-Correlation-Id", "")
    request[CORRELATION_ID] = given if 0 < len(given) <= 128 else "cor_" + secrets.token_hex(10)
    record = {"method": request.method, "path": request.path, "query": request.rel_url.raw_query_string,
              "key": None, "status": None, "time": sb.now(),
              "nonce": request.headers.get("X-Api-Nonce")}  # fmt: skip
    if request.path.startswith(API):
        sb.requests.append(record)
        fault = sb.faults.take(request.path[len(API) :])
        if fault is not None:
            record["status"] = f"fault:{fault.kind}"
            response = await _fault(request, fault)
            if response is not None:
                return response
    try:
        response = await handler(request)
    except Refusal as refusal:
        response = refused(request, refusal)
    except web.HTTPException as exc:
        if exc.status == 405:
            response = refused(request, Refusal(405, "method_not_allowed", "Method not allowed."))
        elif exc.status == 404:
            response = refused(request, Refusal(404, "not_found", "Route not found."))
        else:
            raise
    record["key"] = request.get(KEY_HANDLE)
    record["status"] = response.status
    return response


async def _fault(request: web.Request, fault: Any) -> web.StreamResponse | None:
    if fault.kind == "delay":
        await asyncio.sleep(fault.seconds)
        return None
    if fault.kind == "http502":
        return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")
    if fault.kind == "html200":
        return web.Response(status=200, text=MAINTENANCE_PAGE, content_type="text/html")
    if fault.kind == "http500":
        return refused(request, Refusal(500, "server_error", "Server Error"))
    if fault.kind == "truncated":
        return web.Response(
            status=200,
            text='{"state": 0, "message": "OK", "result": [{"id": 1',
            content_type="application/json",
        )
    if fault.kind == "http429":
        return refused(request, Refusal(429, "rate_limit_exceeded", "Too Many Attempts.",
                                        headers={"Retry-After": str(int(fault.seconds))}))  # fmt: skip
    if fault.kind == "replay":
        return refused(request, Refusal(401, "signature_replay", "This request nonce has already been used."))
    if fault.kind == "disconnect":
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError
    return None


async def control_pay(request: web.Request) -> web.Response:
    sb = _sb(request)
    try:
        event, deliveries = await sb.pay_payout(int(request.match_info["id"]))
    except (KeyError, ValueError) as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=404)
    done = [{"url": d.url, "status": d.status} for d in deliveries]
    return web.json_response({"ok": True, "event_id": event.id if event else None, "deliveries": done})


async def control_new_payout(request: web.Request) -> web.Response:
    sb = _sb(request)
    client_id = int(request.query.get("client", "501"))
    try:
        payout = sb.new_payout(client_id)
    except (KeyError, ValueError) as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=400)
    return web.json_response({"ok": True, "payout_id": payout.id, "amount": str(payout.amount)})


async def home(request: web.Request) -> web.Response:
    sb = _sb(request)
    return web.Response(text=f"{sb.site_name}: API v3 at {API}/ping, {API}/private/partner (Bearer token).\n")


def make_app(sb: IexState) -> web.Application:
    app = web.Application(middlewares=[envelope_middleware], client_max_size=256 * 1024)
    app[SANDBOX] = sb
    app.router.add_get(f"{API}/ping", ping)
    for method, path, scope, handler in PRIVATE:
        app.router.add_route(method, API + path, _private(method, scope, handler))
    app.router.add_post("/sandbox/payouts/{id}/pay", control_pay)
    app.router.add_post("/sandbox/payouts", control_new_payout)
    app.router.add_get("/", home)
    app.router.add_route("*", API + "/{tail:.*}", not_found)
    return app
