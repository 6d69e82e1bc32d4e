"""Lara's answers as plain values: a page of referral exchanges, or the server's error.

Tolerant by design (the reference page, "Fields" and "Value rules"): ids as int or string, amounts as
strings or JSON numbers (never through float), unix times that may be missing, ``null`` or ``0``,
``transition_query_params`` as an object, PHP's ``[]``, ``null`` or absent, and parameter values that
are lists or objects (``a[]=1&a[]=2``). A row is dropped only when it has no usable id.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "ITEM_TYPE",
    "ApiErrorItem",
    "NotAnEnvelope",
    "Page",
    "ReferralExchange",
    "error_items",
    "laravel_message",
    "load_json",
    "parse_page",
]

log = logging.getLogger("bot.platforms.larascript")

ITEM_TYPE = "referral_exchange"
MAX_PARAMS = 50
MAX_PARAM_NAME = 64
MAX_PARAM_VALUE = 512


class NotAnEnvelope(ValueError):
    """The body is not JSON, or not the API's envelope (an HTML page, a truncated answer)."""


@dataclass(frozen=True)
class ReferralExchange:
    id: str
    is_completed: bool
    created_at: int | None
    completed_at: int | None  # only a positive time of a completed exchange
    currency_in: str
    currency_out: str
    amount: Decimal | None
    reward: Decimal | None
    reward_currency: str
    params: dict[str, str] = field(default_factory=dict)

    def fingerprint(self) -> tuple:
        """What a later read may change (compared by the page cache)."""
        return (
            self.is_completed, self.created_at, self.completed_at, self.currency_in, self.currency_out,
            self.amount, self.reward, self.reward_currency, tuple(sorted(self.params.items())),
        )  # fmt: skip


@dataclass(frozen=True)
class Page:
    items: list[ReferralExchange]
    next_url: str | None
    total: int | None = None
    last_page: int | None = None
    raw_count: int = 0  # items in ``data`` before any was skipped


@dataclass(frozen=True)
class ApiErrorItem:
    message: str
    code: str | None
    field: str | None


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotAnEnvelope("the body is not JSON") from exc


def error_items(payload: Any) -> list[ApiErrorItem]:
    """``{"errors": [{"message", "code", "field"}]}``; codes stay strings (``"0001"``)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("errors"), list):
        return []
    found = []
    for item in payload["errors"]:
        if not isinstance(item, dict):
            continue
        code = item.get("code")
        found.append(
            ApiErrorItem(
                message=_text(item.get("message")),
                code=None if code is None or isinstance(code, (dict, list)) else str(code),
                field=_text(item.get("field")) or None,
            )
        )
    return found


def laravel_message(payload: Any) -> str:
    """Laravel's own error body ``{"message": "Too Many Attempts."}``."""
    if isinstance(payload, dict):
        return _text(payload.get("message"))
    return ""


def parse_page(body: bytes) -> Page:
    payload = load_json(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise NotAnEnvelope("the JSON has no data list")
    items = []
    for raw in payload["data"]:
        item = _exchange(raw)
        if item is not None:
            items.append(item)
    links = payload.get("links") if isinstance(payload.get("links"), dict) else {}
    next_url = links.get("next_page")
    counts = payload.get("counts") if isinstance(payload.get("counts"), dict) else {}
    return Page(
        items=items,
        next_url=next_url.strip() if isinstance(next_url, str) and next_url.strip() else None,
        total=_int(counts.get("total")),
        last_page=_int(counts.get("last_page")),
        raw_count=len(payload["data"]),
    )


def _exchange(raw: Any) -> ReferralExchange | None:
    if not isinstance(raw, dict):
        log.info("skipped a referral exchange that is not an object")
        return None
    kind = raw.get("type")
    if kind is not None and kind != ITEM_TYPE:
        log.info("skipped an item of type %r", str(kind)[:40])
        return None
    item_id = raw.get("id")
    if isinstance(item_id, bool) or not isinstance(item_id, (int, str)) or not str(item_id).strip():
        log.info("skipped a referral exchange without a usable id")
        return None
    attributes = raw.get("attributes")
    a: dict[str, Any] = attributes if isinstance(attributes, dict) else {}
    completed = _flag(a.get("is_completed"))
    completed_at = _time(a.get("completed_at"))
    return ReferralExchange(
        id=str(item_id).strip(),
        is_completed=completed,
        created_at=_time(a.get("created_at")),
        completed_at=completed_at if completed else None,
        currency_in=_text(a.get("exchange_currency_in")),
        currency_out=_text(a.get("exchange_currency_out")),
        amount=_decimal(a.get("exchange_amount")),
        reward=_decimal(a.get("referral_reward")),
        reward_currency=_text(a.get("referral_reward_base_currency")),
        params=_params(a.get("transition_query_params")),
    )


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return False


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _time(value: Any) -> int | None:
    """A positive unix time; ``null``, missing, ``0`` and junk are "no time"."""
    number = _int(value)
    return number if number is not None and number > 0 else None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    if value is None:
        return ""
    return _text(value)


def _params(value: Any) -> dict[str, str]:
    """The visit's parameters as text; ``[]``, ``{}``, ``null`` and junk are "none". Nested values
    (``a[]=1&a[]=2``) become compact JSON; names and values are capped (untrusted text)."""
    if not isinstance(value, dict):
        return {}
    params: dict[str, str] = {}
    for name, raw in list(value.items())[:MAX_PARAMS]:
        key = str(name).strip()[:MAX_PARAM_NAME]
        if key and key.lower() != "rid":  # the partner's own id, if the site echoes it: no dimension
            params[key] = _compact(raw)[:MAX_PARAM_VALUE]
    return params
