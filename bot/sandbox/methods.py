"""The 16 User API v1 methods. Each takes the sandbox and the parsed call and returns `data`,
or raises ApiError. Envelope, auth and faults live in app.py.

List methods (get_exchanges and the partner lists) answer {"items": [...]}, newest first (highest id
first), and plain `[]` as data when nothing matches. limit defaults to 100 and is capped at 500.
get_exchanges' `api_id` filter compares with the bid id, like the real server.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from multidict import MultiDictProxy

from bot.sandbox import bids as bidmod
from bot.sandbox.bids import Bid, bid_object, exchange_item
from bot.sandbox.calc import parse_cd, quote, quote_fields
from bot.sandbox.catalogue import (
    CURRENCIES,
    currency_item,
    direction_info,
    filter_directions,
    find_direction,
    logo_url,
)
from bot.sandbox.fields import serialize_fields
from bot.sandbox.keys import DemoKey
from bot.sandbox.money import fmt, parse_amount
from bot.sandbox.partner import PayoutError
from bot.sandbox.texts import CREATE_BID_ERROR, FIELD_ERRORS, error_span, locale_of

if TYPE_CHECKING:
    from bot.sandbox.server import SandboxExchanger

# Referrers of the demo users, answered as test.partner_id.
REFERRED_BY = {9: 7}


class ApiError(Exception):
    def __init__(self, code: str, text: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.fields = fields


@dataclass
class Call:
    method: str
    key: DemoKey
    form: MultiDictProxy[str] | dict
    lang: str
    ip: str

    def get(self, name: str) -> str:
        if isinstance(self.form, MultiDictProxy):
            values = self.form.getall(name, [])
            value = values[-1] if values else ""  # PHP keeps the last duplicate
        else:
            value = self.form.get(name, "")
        return value if isinstance(value, str) else ""

    def int(self, name: str, default: int) -> int:
        text = self.get(name).strip()
        try:
            return int(text)
        except ValueError:
            return default


def _page(call: Call, items: list[dict]) -> dict | list:
    limit = call.int("limit", 100)
    limit = 100 if limit <= 0 else min(limit, 500)
    offset = max(call.int("offset", 0), 0)
    page = items[offset : offset + limit]
    return {"items": page} if page else []


def _time_filter(call: Call, ts: int) -> bool:
    start, end = call.int("start_time", 0), call.int("end_time", 0)
    return (not start or ts >= start) and (not end or ts <= end)


def _direction(call: Call):
    direction = find_direction(
        call.get("direction_id"), call.get("currency_id_give"), call.get("currency_id_get")
    )
    if direction is None:
        raise ApiError("1", "direction not found")
    return direction


def m_test(sb: "SandboxExchanger", call: Call) -> dict:
    return {
        "ip": call.ip,
        "user_id": call.key.user_id,
        "locale": locale_of(call.lang),
        "partner_id": REFERRED_BY.get(call.key.user_id, 0),
    }


def m_get_direction_currencies(sb: "SandboxExchanger", call: Call) -> dict | list:
    found = filter_directions(call.get("currency_id_give"), call.get("currency_id_get"))
    if not found:
        return []
    give_ids = sorted({d.give_id for d in found})
    get_ids = sorted({d.get_id for d in found})
    return {
        "give": [currency_item(sb.url, CURRENCIES[i], call.lang) for i in give_ids],
        "get": [currency_item(sb.url, CURRENCIES[i], call.lang) for i in get_ids],
    }


def m_get_directions(sb: "SandboxExchanger", call: Call) -> list:
    out = []
    for d in filter_directions(call.get("currency_id_give"), call.get("currency_id_get")):
        out.append(
            {
                "direction_id": d.id,
                "currency_give_id": d.give_id,
                "currency_give_title": d.give.title(call.lang),
                "currency_give_logo": logo_url(sb.url, d.give),
                "currency_get_id": d.get_id,
                "currency_get_title": d.get.title(call.lang),
                "currency_get_logo": logo_url(sb.url, d.get),
            }
        )
    return out


def m_get_direction(sb: "SandboxExchanger", call: Call) -> dict:
    d = _direction(call)
    q = quote(d, d.default_give, 1, {})
    return {
        "id": d.id,
        "url": d.path(sb.url),
        **quote_fields(d, q, call.lang),
        "give_fields": serialize_fields(d.give_fields, call.lang, d.fields_as_list),
        "get_fields": serialize_fields(d.get_fields, call.lang, d.fields_as_list),
        "dir_fields": serialize_fields(d.dir_fields, call.lang, d.fields_as_list),
        "info": direction_info(sb.url, d, call.lang),
    }


def _action(call: Call) -> int:
    action = call.int("calc_action", 1)
    return action if action in (1, 2, 3, 4) else 1


def m_get_calc(sb: "SandboxExchanger", call: Call) -> dict:
    d = find_direction(call.get("direction_id"), None, None)
    if d is None:
        raise ApiError("1", "direction not found")
    q = quote(d, parse_amount(call.get("calc_amount")), _action(call), parse_cd(call.get("cd")))
    return {**quote_fields(d, q, call.lang), "changed": int(q.changed)}


def m_create_bid(sb: "SandboxExchanger", call: Call) -> dict:
    d = find_direction(call.get("direction_id"), None, None)
    if d is None:
        raise ApiError("1", "direction not found")
    if not d.api_allowed:
        raise ApiError("3", "Error! Direction prohibited by settings API")
    login = call.key.login
    api_id = call.get("api_id").strip()
    if api_id:
        if not api_id.isdigit() or len(api_id) > 100:
            raise ApiError("1", "api id is not valid")
        if sb.store.api_id_taken(login, api_id):
            raise ApiError("1", "api id not unique")
    action = _action(call)
    cd_values = {f.name: call.get(f.name) for f in d.all_fields if f.cd}
    q = quote(d, parse_amount(call.get("calc_amount")), action, cd_values)
    errors: dict[str, str] = {}
    if q.violated:
        give_side = q.violated.endswith("give")
        name = ("sum1c" if action == 3 else "sum1") if give_side else ("sum2c" if action == 4 else "sum2")
        limit = getattr(d, q.violated)
        currency = d.give if give_side else d.get
        message = FIELD_ERRORS["min_give" if q.violated.startswith("min") else "max_give"](call.lang)
        errors[name] = error_span(message.format(amount=fmt(limit), code=currency.code))
    elif q.sum_give <= 0 or q.sum_get_com <= 0:
        errors["sum1c" if action == 3 else "sum1"] = error_span(FIELD_ERRORS["zero"](call.lang))
    for f in d.all_fields:
        message = f.validate(call.get(f.name), call.lang)
        if message:
            errors[f.name] = message
    if errors:
        raise ApiError("3", CREATE_BID_ERROR(call.lang), errors)

    partner_id = call.int("partner_id", 0)
    credited = partner_id in sb.partners.accounts
    bid_hash = sb.store.new_hash()
    address, tag = bidmod.deposit_address(d, bid_hash)
    now = int(sb.now())
    bid = Bid(
        id=sb.store.next_id,
        hash=bid_hash,
        login=login,
        direction=d,
        sum_give=q.sum_give,
        sum_get=q.sum_get,
        amount_give=q.sum_give_com,
        amount_get=q.sum_get_com,
        outcome=bidmod.outcome_for(d, q.sum_give),
        created=now,
        api_id=api_id,
        user_ip=call.ip,
        user_hash=hashlib.md5(f"{login}|{call.ip}".encode()).hexdigest(),
        fields={f.name: f.normalize(call.get(f.name)) for f in d.all_fields},
        partner_id=partner_id if credited else 0,
        partner_reward=bidmod.partner_reward(d, q.sum_give_com) if credited else Decimal(0),
        callback_url=call.get("callback_url").strip(),
        address=address,
        dest_tag=tag,
        history=[(now, "new")],
    )
    sb.store.add(bid)
    return bid_object(sb.url, bid, call.lang)


def _bid(sb: "SandboxExchanger", call: Call) -> Bid:
    bid = sb.store.find(call.key.login, call.get("id"), call.get("hash"))
    if bid is None:
        raise ApiError("1", "no bid exists")
    return bid


def m_bid_info(sb: "SandboxExchanger", call: Call) -> dict:
    return bid_object(sb.url, _bid(sb, call), call.lang)


def _act(
    sb: "SandboxExchanger", call: Call, enabled: Callable[[Bid], bool], allowed: frozenset[str], target: str
) -> str:
    bid = _bid(sb, call)
    if not enabled(bid):
        raise ApiError("2", "action disabled")
    if bid.status not in allowed:
        raise ApiError("1", "no bid exists")
    sb.store.set_status(bid, target)
    return bid.status


def m_cancel_bid(sb: "SandboxExchanger", call: Call) -> str:
    return _act(sb, call, lambda b: b.can_cancel_api, bidmod.CANCEL_FROM, "cancel")


def m_pay_bid(sb: "SandboxExchanger", call: Call) -> str:
    return _act(sb, call, lambda b: b.can_pay_api, bidmod.PAY_FROM, "payed")


def m_success_bid(sb: "SandboxExchanger", call: Call) -> str:
    return _act(sb, call, lambda b: True, bidmod.SUCCESS_FROM, "success")


def _exchange_filters(call: Call, bid: Bid) -> bool:
    if not _time_filter(call, bid.time):
        return False
    ip, bid_id, bid_hash = call.get("ip").strip(), call.get("id").strip(), call.get("hash").strip()
    if ip and bid.user_ip != ip:
        return False
    if bid_id and str(bid.id) != bid_id:
        return False
    return not (bid_hash and bid.hash != bid_hash)


def m_get_exchanges(sb: "SandboxExchanger", call: Call) -> dict | list:
    api_id = call.get("api_id").strip()
    found = [
        b
        for b in sb.store.bids.values()
        if b.login == call.key.login
        and _exchange_filters(call, b)
        and not (api_id and str(b.id) != api_id)  # the upstream bug: api_id is compared with the bid id
    ]
    found.sort(key=lambda b: b.id, reverse=True)
    history = call.get("status_history").strip() == "1"
    return _page(call, [exchange_item(b, call.lang, history) for b in found])


def _partner(sb: "SandboxExchanger", call: Call) -> int:
    uid = call.key.user_id
    if not uid or uid not in sb.partners.accounts:
        raise ApiError("1", "no partner id")
    return uid


def m_get_partner_info(sb: "SandboxExchanger", call: Call) -> dict:
    return sb.partners.info(_partner(sb, call), sb.store.bids.values(), call.lang)


def m_get_partner_links(sb: "SandboxExchanger", call: Call) -> dict | list:
    uid = _partner(sb, call)
    ip = call.get("ip").strip()
    clicks = [
        c for c in sb.partners.accounts[uid].clicks if _time_filter(call, c.time) and (not ip or c.ip == ip)
    ]
    clicks.sort(key=lambda c: c.id, reverse=True)
    return _page(call, [c.item() for c in clicks])


def m_get_partner_exchanges(sb: "SandboxExchanger", call: Call) -> dict | list:
    uid = _partner(sb, call)
    found = [b for b in sb.partners.exchanges(uid, sb.store.bids.values()) if _exchange_filters(call, b)]
    found.sort(key=lambda b: b.id, reverse=True)
    history = call.get("status_history").strip() == "1"
    return _page(call, [exchange_item(b, call.lang, history, partner=True) for b in found])


def m_get_partner_payouts(sb: "SandboxExchanger", call: Call) -> dict | list:
    uid = _partner(sb, call)
    payout_id = call.get("id").strip()
    found = [
        p
        for p in sb.partners.accounts[uid].payouts
        if _time_filter(call, p.time) and (not payout_id or str(p.id) == payout_id)
    ]
    found.sort(key=lambda p: p.id, reverse=True)
    return _page(call, [p.item() for p in found])


def m_add_partner_payout(sb: "SandboxExchanger", call: Call) -> dict:
    uid = _partner(sb, call)
    try:
        payout_id = sb.partners.add_payout(
            uid, call.get("method_id"), call.get("account"), sb.store.bids.values(), sb.now
        )
    except PayoutError as exc:
        raise ApiError("1", str(exc)) from None
    return {"payout_id": payout_id}


METHODS: dict[str, Callable[["SandboxExchanger", Call], object]] = {
    name.removeprefix("m_"): func for name, func in globals().items() if name.startswith("m_")
}
