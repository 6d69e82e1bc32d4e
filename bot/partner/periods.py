"""Report periods. Days are UTC days: the API speaks unix time and does not tell the site's timezone,
so every period label says "UTC" and a day is [00:00, 24:00) UTC."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

MAX_DAYS = 366


class PeriodKind(StrEnum):
    TODAY = "d"
    WEEK = "w"
    DAYS30 = "m"
    THIS_MONTH = "tm"
    LAST_MONTH = "lm"
    YEAR = "y"  # the last 365 days
    CUSTOM = "c"


def today_utc(now: float | None = None) -> date:
    return datetime.fromtimestamp(time.time() if now is None else now, UTC).date()


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first: date
    last: date  # inclusive

    @property
    def start_time(self) -> int:
        return _midnight(self.first)

    @property
    def end_time(self) -> int:
        """The last second of the period (the API's end_time is inclusive)."""
        return _midnight(self.last + timedelta(days=1)) - 1

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def contains(self, unix_time: int) -> bool:
        return self.start_time <= unix_time <= self.end_time

    @property
    def span(self) -> str:
        """``2026-11-01 – 2026-11-15``, or one date."""
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} – {self.last.isoformat()}"

    @property
    def slug(self) -> str:
        """For file names: ``2026-11-01_2026-11-15``."""
        return f"{self.first.isoformat()}_{self.last.isoformat()}"

    # Compact form for callback data: dates as yyyymmdd integers.
    def pack(self) -> tuple[str, int, int]:
        return self.kind.value, _ymd(self.first), _ymd(self.last)


def _ymd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _from_ymd(value: int) -> date:
    return date(value // 10000, value // 100 % 100, value % 100)


def preset(kind: PeriodKind, today: date) -> Period:
    if kind is PeriodKind.TODAY:
        return Period(kind, today, today)
    if kind is PeriodKind.WEEK:
        return Period(kind, today - timedelta(days=6), today)
    if kind is PeriodKind.DAYS30:
        return Period(kind, today - timedelta(days=29), today)
    if kind is PeriodKind.THIS_MONTH:
        return Period(kind, today.replace(day=1), today)
    if kind is PeriodKind.LAST_MONTH:
        last = today.replace(day=1) - timedelta(days=1)
        return Period(kind, last.replace(day=1), last)
    if kind is PeriodKind.YEAR:
        return Period(kind, today - timedelta(days=364), today)
    raise ValueError("a custom period needs dates")


def unpack(kind: str, first: int, last: int, today: date) -> Period:
    """The period of callback data; presets are recomputed for today. Raises ValueError when garbled."""
    period_kind = PeriodKind(kind)
    if period_kind is not PeriodKind.CUSTOM:
        return preset(period_kind, today)
    period = Period(period_kind, _from_ymd(first), _from_ymd(last))
    _check(period, today)
    return period


class PeriodErrorReason(StrEnum):
    FORMAT = "format"
    ORDER = "order"
    FUTURE = "future"
    TOO_LONG = "too_long"


class PeriodError(ValueError):
    def __init__(self, reason: PeriodErrorReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


_ISO = r"(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})"
_DOTTED = r"(?P<d2>\d{1,2})\.(?P<m2>\d{1,2})\.(?P<y2>\d{4})"
_DATE = re.compile(rf"{_ISO}|{_DOTTED}")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015,;]*")


def _date_of(match: re.Match[str]) -> date:
    if match.group("y1"):
        parts = match.group("y1", "m1", "d1")
    else:
        parts = match.group("y2", "m2", "d2")
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise PeriodError(PeriodErrorReason.FORMAT) from None


def parse_range(text: str, today: date) -> Period:
    """Two dates (``2026-11-01 2026-11-15``, ``01.11.2026-15.11.2026``) or one (a single day)."""
    text = (text or "").strip()
    matches = list(_DATE.finditer(text))
    leftover = _DATE.sub(" ", text)
    if not 1 <= len(matches) <= 2 or not _SEPARATORS.fullmatch(leftover):
        raise PeriodError(PeriodErrorReason.FORMAT)
    first = _date_of(matches[0])
    last = _date_of(matches[-1])
    period = Period(PeriodKind.CUSTOM, first, last)
    _check(period, today)
    return period


def _check(period: Period, today: date) -> None:
    if period.last < period.first:
        raise PeriodError(PeriodErrorReason.ORDER)
    if period.first > today:
        raise PeriodError(PeriodErrorReason.FUTURE)
    if (period.last - period.first).days + 1 > MAX_DAYS:
        raise PeriodError(PeriodErrorReason.TOO_LONG)
