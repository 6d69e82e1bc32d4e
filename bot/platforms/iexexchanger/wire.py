"""Tolerant reading of API v3 JSON, whose partner ``result`` shapes the documentation leaves open.

Rules (reference page, "How the client must behave"): a ``result`` may be the object or list itself or
wrapped in one key; unknown fields are ignored; money is a string or a number (→ ``Decimal``, never via
float); every field but ``id`` may be missing or null; ids are strings; times are ISO-8601 with any
offset (``Z``, fractions) and unparseable ones keep their raw text; statuses are open-ended.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "decode_json",
    "first",
    "iso_utc",
    "money",
    "opt_int",
    "opt_text",
    "parse_time",
    "rows_of",
    "shape_of",
    "text",
    "to_id",
    "unwrap_object",
]

log = logging.getLogger(__name__)

_BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def decode_json(body: bytes) -> Any:
    """JSON with every fractional number as ``Decimal`` (money never passes through float)."""
    return json.loads(body.lstrip(_BOM_AND_SPACE), parse_float=Decimal, parse_constant=_reject_constant)


def first(data: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` present with a non-null value."""
    for name in names:
        value = data.get(name)
        if value is not None:
            return value
    return None


def to_id(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, str)):
        result = str(value).strip()
        return result or None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return None


def text(value: Any) -> str:
    if value is None or isinstance(value, (bool, list, dict)):
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def opt_text(value: Any) -> str | None:
    return text(value) or None


def money(value: Any) -> Decimal | None:
    """A string or a JSON number as ``Decimal``; None when missing, null, empty or not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):  # only if someone decoded without parse_float=Decimal
        return Decimal(str(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        cleaned = value.strip().replace(" ", "").replace("\u00a0", "")
        if not cleaned:
            return None
        try:
            result = Decimal(cleaned)
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def opt_int(value: Any) -> int | None:
    amount = money(value)
    if amount is None or amount != amount.to_integral_value():
        return None
    return int(amount)


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_time(value: Any) -> tuple[int | None, str]:
    """(unix seconds, the raw text). ISO-8601 with any offset, ``Z``, fractions, a space for ``T``;
    a bare date or a time without offset is read as UTC; unix seconds (or milliseconds) as numbers.
    Anything else: (None, its text) so the screen can still show it."""
    if value is None or isinstance(value, bool):
        return None, ""
    if isinstance(value, (int, Decimal)):
        seconds = int(value)
        if seconds > 10**11:  # milliseconds
            seconds //= 1000
        return seconds, str(value)
    raw = text(value)
    if not raw:
        return None, ""
    if raw.isdigit():
        seconds = int(raw)
        return (seconds // 1000 if seconds > 10**11 else seconds), raw
    candidate = raw.replace(" ", "T", 1) if not _DATE_ONLY.match(raw) else raw
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return None, raw
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp()), raw


def iso_utc(unix_time: int) -> str:
    """A filter boundary: full ISO-8601 with its offset (the time zone of a bare date is the server's)."""
    return datetime.fromtimestamp(unix_time, UTC).isoformat(timespec="seconds")


def unwrap_object(result: Any, names: Sequence[str], expect: Iterable[str] = ()) -> Mapping[str, Any]:
    """The object of a ``result``: itself, or the value of one wrapping key (``{"partner": {...}}``).
    A key from ``names`` holding an object is taken unless the result already has an expected field."""
    if not isinstance(result, Mapping):
        return {}
    expected = set(expect)
    if expected & set(result):
        return result
    for name in names:
        inner = result.get(name)
        if isinstance(inner, Mapping):
            return inner
    if len(result) == 1:
        (inner,) = result.values()
        if isinstance(inner, Mapping):
            return inner
    return result


def rows_of(result: Any, names: Sequence[str] = ()) -> list[Mapping[str, Any]]:
    """The rows of a list ``result``: a bare array, or the array under one key (``items``, ``data``, the
    list's own name, or the only key holding an array). Non-object rows are dropped."""
    rows: Any = None
    if isinstance(result, list):
        rows = result
    elif isinstance(result, Mapping):
        for name in (*names, "items", "data", "rows", "list"):
            if isinstance(result.get(name), list):
                rows = result[name]
                break
        else:
            arrays = [v for v in result.values() if isinstance(v, list)]
            if len(arrays) == 1:
                rows = arrays[0]
    if rows is None:
        return []
    return [row for row in rows if isinstance(row, Mapping)]


# Values worth logging verbatim in a shape (vocabularies, not personal data).
_SHOWN_VALUES = frozenset(
    {"status", "bonus_status", "period", "currency", "iso_code", "bonus_currency", "mode", "state", "type"}
)


def shape_of(value: Any, key: str = "", depth: int = 0) -> Any:
    """The structure of a response for the first-contact log: keys and value types, the length of lists,
    and the values of a few vocabulary fields only (never emails, names, wallets or secrets)."""
    if depth > 6:
        return "…"
    if isinstance(value, Mapping):
        return {str(k): shape_of(v, str(k), depth + 1) for k, v in list(value.items())[:40]}
    if isinstance(value, list):
        return [f"{len(value)} items", shape_of(value[0], key, depth + 1)] if value else []
    if key in _SHOWN_VALUES and isinstance(value, str):
        return f"str {value[:24]!r}"
    if isinstance(value, Decimal):
        return "number"
    return type(value).__name__
