"""The 16 User API v1 methods. Each takes the sandbox and the parsed call and returns `data`,
or raises ApiError (or EmptySuccess). Envelope, auth and faults live in app.py.

List methods (get_exchanges and the partner lists) answer {"items": [...]}, and plain `[]` as data
when nothing matches. limit defaults to 100 and is capped at 500. get_exchanges and
get_partner_exchanges list the newest *change* first (ORDER BY edit_date DESC, then the highest id),
so a bid that changes moves to the top; clicks and payouts are newest first. get_exchanges' `api_id`
filter compares with the bid id, like the real server.

Like the real server, and switchable for tests through the SandboxState:
- `time` values and the start_time/end_time filters use the site's shifted clock: real unix time plus
  `sb.utc_offset` seconds (local time read as UTC);
- get_direction answers success with empty data (error "0", data []) for an unknown direction and for
  one in `sb.closed_directions` (those are also left out of the lists, and get_calc / create_bid
  answer "direction not found"; bid_info and the bid actions answer "no bid exists" for its bids);
- methods in `sb.ignore_offset` ignore `offset` (always the first page);
- with `sb.clicks_without_id`, get_partner_links items carry no `id`;
- with `sb.require_hash`, bid_info, cancel_bid, pay_bid and success_bid find a bid by its `hash` only
  (an `id` sent too must match it);
- with `sb.partner_program` off (the affiliate module disabled), the partner methods answer
  "No active partner program" to real users and create_bid's `partner_id` credits nobody.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from multidict import MultiDictProxy

from bot.platforms.premiumexchanger.sandbox import bids as bidmod
from bot.platforms.premiumexchanger.sandbox.bids import Bid, bid_object, exchange_item
from bot.platforms.premiumexchanger.sandbox.calc import parse_cd, quote, quote_fields
from bot.platforms.premiumexchanger.sandbox.catalogue import (
    CURRENCIES,
    currency_item,
    direction_info,
    filter_directions,
    find_direction,
    logo_url,
)
from bot.platforms.premiumexchanger.sandbox.fields import serialize_fields
from bot.platforms.premiumexchanger.sandbox.keys import DemoKey
from bot.platforms.premiumexchanger.sandbox.money import fmt, parse_amount
from bot.platforms.premiumexchanger.sandbox.partner import PayoutError
from bot.platforms.premiumexchanger.sandbox.texts import CREATE_BID_ERROR, FIELD_ERRORS, error_span, locale_of

if TYPE_CHECKING:
    from bot.platforms.premiumexchanger.sandbox.state import SandboxState

# Referrers of the demo users, answered as test.partner_id.
REFERRED_BY = {9: 7}


class EmptySuccess(Exception):
    """Answer {"error": "0", "error_text": "", "data": []}: what get_direction says for a direction it
    does not show (it sets the error to "0" before looking the direction up)."""


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


def _page(sb: "SandboxState", call: Call, items: list[dict]) -> dict | list:
    limit = call.int("limit", 100)
    limit = 100 if limit <= 0 else min(limit, 500)
    offset = 0 if call.method in sb.ignore_offset else max(call.int("offset", 0), 0)
    page = items[offset : offset + limit]
    return {"items": page} if page else []


def _time_filter(sb: "SandboxState", call: Call, ts: int) -> bool:
    """start_time/end_time (inclusive), compared in the site's shifted clock."""
    start, end = call.int("start_time", 0), call.int("end_time", 0)
    ts += sb.utc_offset
    return (not start or ts >= start) and (not end or ts <= end)


def _shifted(sb: "SandboxState", item: dict) -> dict:
    """An item's `time` (and its status history's) in the site's shifted clock."""
    if sb.utc_offset:
        item["time"] += sb.utc_offset
        for change in item.get("statuses", ()):
            change["time"] += sb.utc_offset
    return item


def _open_direction(sb: "SandboxState", direction_id: str | None):
    d = find_direction(direction_id, None, None)
    if d is None or d.id in sb.closed_directions:
        raise ApiError("1", "direction not found")
    return d


def m_test(sb: "SandboxState", call: Call) -> dict:
    return {
        "ip": call.ip,
        "user_id": call.key.user_id,
        "locale": locale_of(call.lang),
        "partner_id": REFERRED_BY.get(call.key.user_id, 0),
    }


def _listed(sb: "SandboxState", call: Call) -> list:
    found = filter_directions(call.get("currency_id_give"), call.get("currency_id_get"))
    return [d for d in found if d.id not in sb.closed_directions]


def m_get_direction_currencies(sb: "SandboxState", call: Call) -> dict | list:
    found = _listed(sb, call)
    if not found:
        return []
    give_ids = sorted({d.give_id for d in found})
    get_ids = sorted({d.get_id for d in found})
    return {
        "give": [currency_item(sb.url, CURRENCIES[i], call.lang) for i in give_ids],
        "get": [currency_item(sb.url, CURRENCIES[i], call.lang) for i in get_ids],
    }


def m_get_directions(sb: "SandboxState", call: Call) -> list:
    out = []
    for d in _listed(sb, call):
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


def m_get_direction(sb: "SandboxState", call: Call) -> dict:
    d = find_direction(call.get("direction_id"), call.get("currency_id_give"), call.get("currency_id_get"))
    if d is None or d.id in sb.closed_directions:
        raise EmptySuccess
    q = quote(d, d.default_give, 1, {})
    return {
        "id": d.id,
        "url": d.path(sb.url),
        **quote_fields(d, q, call.lang),
        **_reserve(sb, d),
        "give_fields": serialize_fields(d.give_fields, call.lang, d.fields_as_list),
        "get_fields": serialize_fields(d.get_fields, call.lang, d.fields_as_list),
        "dir_fields": serialize_fields(d.dir_fields, call.lang, d.fields_as_list),
        "info": direction_info(sb.url, d, call.lang),
    }


def _action(call: Call) -> int:
    action = call.int("calc_action", 1)
    return action if action in (1, 2, 3, 4) else 1


def _reserve(sb: "SandboxState", d) -> dict:
    """The receive currency's reserve, when a test set one (``sb.reserves``)."""
    reserve = sb.reserves.get(d.get_id)
    return {} if reserve is None else {"reserve": fmt(reserve)}


def m_get_calc(sb: "SandboxState", call: Call) -> dict:
    d = _open_direction(sb, call.get("direction_id"))
    q = quote(d, parse_amount(call.get("calc_amount")), _action(call), parse_cd(call.get("cd")))
    return {**quote_fields(d, q, call.lang), **_reserve(sb, d), "changed": int(q.changed)}


def m_create_bid(sb: "SandboxState", call: Call) -> dict:
    d = _open_direction(sb, call.get("direction_id"))
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
    credited = sb.partner_program and partner_id in sb.partners.accounts
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


def _bid(sb: "SandboxState", call: Call) -> Bid:
    if sb.require_hash:
        bid = sb.store.find(call.key.login, None, call.get("hash"))
        sent_id = call.get("id").strip()
        if bid is not None and sent_id and sent_id != str(bid.id):
            bid = None
    else:
        bid = sb.store.find(call.key.login, call.get("id"), call.get("hash"))
    if bid is None or bid.direction.id in sb.closed_directions:
        raise ApiError("1", "no bid exists")
    return bid


def m_bid_info(sb: "SandboxState", call: Call) -> dict:
    return bid_object(sb.url, _bid(sb, call), call.lang)


def _act(
    sb: "SandboxState", call: Call, enabled: Callable[[Bid], bool], allowed: frozenset[str], target: str
) -> str:
    bid = _bid(sb, call)
    if not enabled(bid):
        raise ApiError("2", "action disabled")
    if bid.status not in allowed:
        raise ApiError("1", "no bid exists")
    sb.store.set_status(bid, target)
    return bid.status


def m_cancel_bid(sb: "SandboxState", call: Call) -> str:
    return _act(sb, call, lambda b: b.can_cancel_api, bidmod.CANCEL_FROM, "cancel")


def m_pay_bid(sb: "SandboxState", call: Call) -> str:
    return _act(sb, call, lambda b: b.can_pay_api, bidmod.PAY_FROM, "payed")


def m_success_bid(sb: "SandboxState", call: Call) -> str:
    return _act(sb, call, lambda b: True, bidmod.SUCCESS_FROM, "success")


def _exchange_filters(sb: "SandboxState", call: Call, bid: Bid) -> bool:
    if not _time_filter(sb, call, bid.time):
        return False
    ip, bid_id, bid_hash = call.get("ip").strip(), call.get("id").strip(), call.get("hash").strip()
    if ip and bid.user_ip != ip:
        return False
    if bid_id and str(bid.id) != bid_id:
        return False
    return not (bid_hash and bid.hash != bid_hash)


def m_get_exchanges(sb: "SandboxState", call: Call) -> dict | list:
    api_id = call.get("api_id").strip()
    found = [
        b
        for b in sb.store.bids.values()
        if b.login == call.key.login
        and _exchange_filters(sb, call, b)
        and not (api_id and str(b.id) != api_id)  # the upstream bug: api_id is compared with the bid id
    ]
    found.sort(key=lambda b: (b.time, b.id), reverse=True)
    history = call.get("status_history").strip() == "1"
    return _page(sb, call, [_shifted(sb, exchange_item(b, call.lang, history)) for b in found])


def _partner(sb: "SandboxState", call: Call) -> int:
    uid = call.key.user_id
    if not uid or uid not in sb.partners.accounts:
        raise ApiError("1", "no partner id")
    if not sb.partner_program:
        raise ApiError("1", "No active partner program")
    return uid


def m_get_partner_info(sb: "SandboxState", call: Call) -> dict:
    return sb.partners.info(_partner(sb, call), sb.store.bids.values(), call.lang)


def m_get_partner_links(sb: "SandboxState", call: Call) -> dict | list:
    uid = _partner(sb, call)
    ip = call.get("ip").strip()
    clicks = [
        c
        for c in sb.partners.accounts[uid].clicks
        if _time_filter(sb, call, c.time) and (not ip or c.ip == ip)
    ]
    clicks.sort(key=lambda c: (c.time, c.id), reverse=True)
    items = [_shifted(sb, c.item()) for c in clicks]
    if sb.clicks_without_id:
        for item in items:
            del item["id"]
    return _page(sb, call, items)


def m_get_partner_exchanges(sb: "SandboxState", call: Call) -> dict | list:
    uid = _partner(sb, call)
    found = [b for b in sb.partners.exchanges(uid, sb.store.bids.values()) if _exchange_filters(sb, call, b)]
    found.sort(key=lambda b: (b.time, b.id), reverse=True)
    history = call.get("status_history").strip() == "1"
    return _page(sb, call, [_shifted(sb, exchange_item(b, call.lang, history, partner=True)) for b in found])


def m_get_partner_payouts(sb: "SandboxState", call: Call) -> dict | list:
    uid = _partner(sb, call)
    payout_id = call.get("id").strip()
    found = [
        p
        for p in sb.partners.accounts[uid].payouts
        if _time_filter(sb, call, p.time) and (not payout_id or str(p.id) == payout_id)
    ]
    found.sort(key=lambda p: (p.time, p.id), reverse=True)
    return _page(sb, call, [_shifted(sb, p.item()) for p in found])


def m_add_partner_payout(sb: "SandboxState", call: Call) -> dict:
    uid = _partner(sb, call)
    try:
        payout_id = sb.partners.add_payout(
            uid, call.get("method_id"), call.get("account"), sb.store.bids.values(), sb.now
        )
    except PayoutError as exc:
        raise ApiError("1", str(exc)) from None
    return {"payout_id": payout_id}


METHODS: dict[str, Callable[["SandboxState", Call], object]] = {
    name.removeprefix("m_"): func for name, func in globals().items() if name.startswith("m_")
}
