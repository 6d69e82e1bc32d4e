"""PremiumExchanger User API v1 payloads → this package's wire models (:mod:`.models`).

Tolerates what the real server does: ``[]`` for empty objects and lists, fields as an object keyed by
name or as a list of descriptors, select options as an object or (PHP list) as an array, ``req``/``cd``
as int or string, ``"no"`` limits, the ``comission`` spelling, ints or strings for ids and amounts,
clicks without an ``id``, and get_direction's success with empty data for a closed direction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from bot.domain.errors import DirectionUnavailable
from bot.domain.models import ActionAccess, ActionMode, FieldOption, PayoutStatus
from bot.platforms.premiumexchanger.models import (
    ApiIdentity,
    Currency,
    CurrencyLists,
    Direction,
    DirectionSummary,
    FieldSpec,
    Order,
    OrderActions,
    OrderRecord,
    PartnerClick,
    PartnerExchange,
    PartnerInfo,
    PartnerPayout,
    PayoutCurrency,
    Quote,
    StatusChange,
)

_PAYOUT_STATUSES = {
    "0": PayoutStatus.PENDING,
    "1": PayoutStatus.PAID,
    "2": PayoutStatus.REFUSED,
    "3": PayoutStatus.CANCELLED,
}


def as_mapping(value: Any, what: str = "object") -> Mapping[str, Any]:
    """A JSON object; PHP's empty array ``[]`` (and null) is an empty one."""
    if value is None or value == []:
        return {}
    if isinstance(value, Mapping):
        return value
    raise TypeError(f"{what}: expected an object, got {type(value).__name__}")


def as_list(value: Any, what: str = "list") -> list[Any]:
    """A JSON list; ``{}``/null is empty and an object keyed by index is its values (PHP arrays)."""
    if value is None or value == {}:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return list(value.values())
    raise TypeError(f"{what}: expected a list, got {type(value).__name__}")


def items_of(data: Any, what: str) -> list[Any]:
    """The ``items`` list of a listing method's ``data``."""
    if data is None or data == []:
        return []
    if isinstance(data, list):  # a bare list instead of {items: [...]}
        return data
    return as_list(as_mapping(data, what).get("items"), f"{what}.items")


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def parse_options(value: Any) -> list[FieldOption]:
    if value is None or value == [] or value == {}:
        return []
    if isinstance(value, Mapping):
        return [FieldOption(str(k), _label(v)) for k, v in value.items()]
    options = []
    for index, entry in enumerate(as_list(value, "options")):
        if isinstance(entry, Mapping):
            key = entry.get("key", entry.get("value", entry.get("id", index)))
            options.append(FieldOption(str(key), _label(entry.get("label", entry.get("title", "")))))
        elif isinstance(entry, list) and len(entry) == 2:
            options.append(FieldOption(str(entry[0]), _label(entry[1])))
        else:  # PHP encodes {0: a, 1: b} as [a, b]
            options.append(FieldOption(str(index), _label(entry)))
    return options


def _label(value: Any) -> str:
    return "" if value is None or isinstance(value, (list, Mapping)) else str(value)


def parse_field(raw: Mapping[str, Any], name: str | None = None) -> FieldSpec:
    return FieldSpec(
        name=str(raw.get("name") or name or ""),
        type=raw.get("type") or "text",
        label=raw.get("label") or raw.get("title"),
        required=_flag(raw.get("req", 0)),
        tooltip=raw.get("tooltip"),
        format=raw.get("format"),
        options=parse_options(raw.get("options")),
        checkbox_text=raw.get("text"),
        checkbox_value=raw.get("value") if str(raw.get("type", "")).lower() == "checkbox" else None,
        changes_price=_flag(raw.get("cd", 0)),
    )


def parse_fields(value: Any) -> list[FieldSpec]:
    if value is None or value == [] or value == {}:
        return []
    if isinstance(value, Mapping):
        entries: Iterable[tuple[str | None, Any]] = value.items()
    else:
        entries = ((None, v) for v in as_list(value, "fields"))
    fields = []
    for key, raw in entries:
        descriptor = as_mapping(raw, f"field {key}")
        if descriptor.get("name") or key:
            fields.append(parse_field(descriptor, key))
    return fields


def _pricing(d: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "give_currency_code": d.get("currency_code_give"),
        "get_currency_code": d.get("currency_code_get"),
        "reserve": d.get("reserve"),
        "give_rate": d.get("course_give"),
        "get_rate": d.get("course_get"),
        "give_amount": d.get("sum_give"),
        "give_amount_with_commission": d.get("sum_give_com"),
        "get_amount": d.get("sum_get"),
        "get_amount_with_commission": d.get("sum_get_com"),
        "give_commission_text": d.get("com_give"),
        "get_commission_text": d.get("com_get"),
        "min_give": d.get("min_give"),
        "max_give": d.get("max_give"),
        "min_get": d.get("min_get"),
        "max_get": d.get("max_get"),
    }


def parse_identity(data: Any) -> ApiIdentity:
    d = as_mapping(data, "test")
    partner_id = d.get("partner_id")
    return ApiIdentity(
        ip=d.get("ip"),
        user_id=d.get("user_id", 0),
        locale=d.get("locale"),
        partner_id=None if str(partner_id).strip() in ("0", "", "None") else partner_id,
    )


def _currency(d: Mapping[str, Any]) -> Currency:
    return Currency(id=d.get("id"), title=d.get("title"), logo=d.get("logo"))


def parse_currency_lists(data: Any) -> CurrencyLists:
    d = as_mapping(data, "currencies")
    return CurrencyLists(
        give=[_currency(as_mapping(c)) for c in as_list(d.get("give"), "give")],
        get=[_currency(as_mapping(c)) for c in as_list(d.get("get"), "get")],
    )


def parse_direction_summaries(data: Any) -> list[DirectionSummary]:
    result = []
    for raw in as_list(data, "directions"):
        d = as_mapping(raw, "direction")
        result.append(
            DirectionSummary(
                id=d.get("direction_id", d.get("id")),
                give=Currency(
                    id=d.get("currency_give_id"),
                    title=d.get("currency_give_title"),
                    logo=d.get("currency_give_logo"),
                ),
                get=Currency(
                    id=d.get("currency_get_id"),
                    title=d.get("currency_get_title"),
                    logo=d.get("currency_get_logo"),
                ),
            )
        )
    return result


def parse_direction(data: Any) -> Direction:
    """get_direction's data. The server reports "success" before it looks the direction up, so an
    unknown, disabled or API-closed direction comes back as ``error 0`` with empty data."""
    if data is None or data == [] or data == {}:
        raise DirectionUnavailable(
            "the direction is not available (unknown, disabled or closed to the API)",
            method="get_direction",
        )
    d = as_mapping(data, "direction")
    info = as_mapping(d.get("info"), "info")
    return Direction(
        id=d.get("id", d.get("direction_id")),
        url=d.get("url"),
        give_fields=parse_fields(d.get("give_fields")),
        get_fields=parse_fields(d.get("get_fields")),
        dir_fields=parse_fields(d.get("dir_fields")),
        info={
            "timeline_text": info.get("timeline_text"),
            "frozen_text": info.get("frozen_text"),
            "before_button_text": info.get("before_button_text"),
        },
        **_pricing(d),
    )


def parse_quote(data: Any) -> Quote:
    d = as_mapping(data, "calc")
    return Quote(changed=d.get("changed", 0), **_pricing(d))


def parse_action_access(value: Any) -> ActionAccess:
    text = "" if value is None or isinstance(value, (list, Mapping)) else str(value).strip()
    if text.lower() == "api":
        return ActionAccess(mode=ActionMode.API)
    if text.lower().startswith(("http://", "https://", "/")):
        return ActionAccess(mode=ActionMode.LINK, url=text)
    return ActionAccess(mode=ActionMode.DISABLED)


def parse_order(data: Any) -> Order:
    d = as_mapping(data, "bid")
    actions = as_mapping(d.get("api_actions"), "api_actions")
    return Order(
        id=d.get("id"),
        hash=d.get("hash"),
        url=d.get("url"),
        status=d.get("status"),
        status_title=d.get("status_title"),
        give_payment_system=d.get("psys_give"),
        get_payment_system=d.get("psys_get"),
        give_currency_code=d.get("currency_code_give"),
        get_currency_code=d.get("currency_code_get"),
        give_amount=d.get("amount_give"),
        get_amount=d.get("amount_get"),
        give_rate=d.get("course_give"),
        get_rate=d.get("course_get"),
        actions=OrderActions(
            type=actions.get("type"),
            cancel=parse_action_access(actions.get("cancel")),
            pay=parse_action_access(actions.get("pay")),
            pay_amount=actions.get("pay_amount"),
            instruction=actions.get("instruction"),
            address=actions.get("address"),
            dest_tag=actions.get("dest_tag"),
        ),
    )


def parse_status_code(data: Any) -> str:
    """cancel_bid / pay_bid / success_bid answer the new status as a bare string (or ``{status}``)."""
    if isinstance(data, Mapping):
        data = data.get("status")
    if isinstance(data, (str, int)) and not isinstance(data, bool) and str(data).strip():
        return str(data).strip()
    raise TypeError("expected a status code")


def _record_fields(d: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": d.get("id"),
        "api_id": d.get("api_id"),
        "hash": d.get("hash"),
        "time": d.get("time"),
        "date": d.get("date"),
        "status": d.get("status"),
        "give_payment_system": d.get("psys_give"),
        "get_payment_system": d.get("psys_get"),
        "give_currency_code": d.get("currency_code_give"),
        "get_currency_code": d.get("currency_code_get"),
        "give_rate": d.get("course_give"),
        "get_rate": d.get("course_get"),
        "give_amount": d.get("amount_give"),
        "get_amount": d.get("amount_get"),
        "succeeded": d.get("exchange_success", 0),  # 1 = success; the docs have it backwards
        "user_hash": d.get("user_hash"),
        "user_ip": d.get("user_ip"),
        "status_history": [
            StatusChange(time=s.get("time"), date=s.get("date"), status=s.get("status"))
            for s in (as_mapping(x, "statuses[]") for x in as_list(d.get("statuses"), "statuses"))
        ],
    }


def parse_order_records(data: Any) -> list[OrderRecord]:
    return [OrderRecord(**_record_fields(as_mapping(x, "item"))) for x in items_of(data, "get_exchanges")]


def parse_partner_exchanges(data: Any) -> list[PartnerExchange]:
    result = []
    for raw in items_of(data, "get_partner_exchanges"):
        d = as_mapping(raw, "item")
        result.append(
            PartnerExchange(
                **_record_fields(d), accrued=d.get("accrued", 0), partner_reward=d.get("partner_reward", 0)
            )
        )
    return result


def parse_partner_info(data: Any) -> PartnerInfo:
    d = as_mapping(data, "get_partner_info")
    return PartnerInfo(
        partner_id=d.get("partner_id"),
        balance=d.get("balance", 0),
        min_payout=d.get("min_payout"),
        items=[
            PayoutCurrency(
                id=i.get("id"),
                title=i.get("title"),
                commission=i.get("comission", i.get("commission")),
                amount=i.get("amount"),
            )
            for i in (as_mapping(x, "items[]") for x in as_list(d.get("items"), "items"))
        ],
    )


_CLICK_KEYS = ("time", "ip", "user_hash", "browser", "referrer", "query_string", "date")


def click_id(d: Mapping[str, Any]) -> str:
    """A click's ``id``, or one synthesized from its fields when the server sends none: stable across
    calls, so paging can tell pages apart (identical clicks in one second count as one)."""
    raw = d.get("id")
    if raw is not None and raw != "" and not isinstance(raw, (bool, list, Mapping)):
        return str(raw).strip()
    digest = hashlib.sha256("\x1f".join(str(d.get(k, "")) for k in _CLICK_KEYS).encode()).hexdigest()
    return "c" + digest[:20]


def parse_partner_clicks(data: Any) -> list[PartnerClick]:
    result = []
    for raw in items_of(data, "get_partner_links"):
        d = as_mapping(raw, "item")
        result.append(
            PartnerClick(
                id=click_id(d),
                time=d.get("time"),
                date=d.get("date"),
                browser=d.get("browser"),
                ip=d.get("ip"),
                referrer=d.get("referrer"),
                user_hash=d.get("user_hash"),
                query_string=d.get("query_string"),
            )
        )
    return result


def parse_payout_status(value: Any) -> PayoutStatus:
    return _PAYOUT_STATUSES.get(str(value).strip(), PayoutStatus.UNKNOWN)


def parse_partner_payouts(data: Any) -> list[PartnerPayout]:
    result = []
    for raw in items_of(data, "get_partner_payouts"):
        d = as_mapping(raw, "item")
        result.append(
            PartnerPayout(
                id=d.get("id"),
                time=d.get("time"),
                date=d.get("date"),
                method_id=d.get("method_id"),
                account=d.get("account"),
                pay_amount=d.get("pay_amount"),
                pay_currency_code=d.get("pay_currency_code"),
                original_amount=d.get("original_amount"),
                original_currency_code=d.get("original_currency_code"),
                status=parse_payout_status(d.get("status")),
            )
        )
    return result


def parse_payout_id(data: Any) -> str:
    if isinstance(data, Mapping):
        data = data.get("payout_id", data.get("id"))
    if isinstance(data, (str, int)) and not isinstance(data, bool) and str(data).strip():
        return str(data).strip()
    raise TypeError("expected a payout_id")
