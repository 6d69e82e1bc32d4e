"""Aggregate a partner's clicks and referred exchanges over a whole period (every page of it).

Only what the platform serves is read: without clicks there are no click figures (``clicks`` is
None), without exchanges no exchange figures.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar
from urllib.parse import parse_qsl

from bot.domain.errors import PermissionMissing, ValidationFailed
from bot.domain.models import OrderPhase, PartnerClick, PartnerExchange
from bot.domain.models import PartnerStats as ServerStats
from bot.partner.periods import Period, PeriodKind
from bot.platforms.base import PartnerCabinet

T = TypeVar("T")

# A reward of exchanges in these phases will never be paid: it is neither accrued nor pending.
LOST_PHASES = frozenset({OrderPhase.CANCELLED, OrderPhase.FAILED})
TOP_SOURCES = 5
NO_TAG = ""


def query_params(query_string: str) -> list[tuple[str, str]]:
    """``ref=7&utm_source=tg`` as pairs, in order; a leading ``?`` and broken pairs are tolerated."""
    return parse_qsl((query_string or "").lstrip("?"), keep_blank_values=True)


def utm_source_campaign(query_string: str) -> tuple[str, str]:
    params = dict(query_params(query_string))
    return params.get("utm_source", NO_TAG).strip(), params.get("utm_campaign", NO_TAG).strip()


def utc_day(unix_time: int) -> date:
    return datetime.fromtimestamp(unix_time, UTC).date()


@dataclass
class DayFigures:
    clicks: int = 0
    exchanges: int = 0
    completed: int = 0
    accrued: dict[str, Decimal] = field(default_factory=dict)  # per reward currency


@dataclass
class Bucket:
    """Exchanges of one breakdown value: referred, completed, and completed rewards per currency."""

    exchanges: int = 0
    completed: int = 0
    rewards: dict[str, Decimal] = field(default_factory=dict)

    def add(self, exchange: PartnerExchange) -> None:
        self.exchanges += 1
        if exchange.succeeded:
            self.completed += 1
        if exchange.accrued and exchange.reward:
            code = exchange.reward_currency
            self.rewards[code] = self.rewards.get(code, Decimal(0)) + exchange.reward


PAIR = "pair"  # the breakdown by currency pair ("BTC → USDT")
UTM_BREAKDOWNS = ("utm_source", "utm_campaign")
OTHER_PARAMS = 3  # breakdowns by the most frequent other visit parameters (e.g. pid)


@dataclass
class PartnerStats:
    period: Period
    has_clicks: bool = True
    has_exchanges: bool = True
    clicks: int = 0
    visitors: int = 0
    exchanges: int = 0
    completed: int = 0
    # Rewards per currency ("" where the platform names none), never added across currencies.
    accrued: dict[str, Decimal] = field(default_factory=dict)
    pending: dict[str, Decimal] = field(default_factory=dict)
    # (utm_source, utm_campaign) -> clicks; ("", "") = clicks without tags
    sources: Counter[tuple[str, str]] = field(default_factory=Counter)
    per_day: dict[date, DayFigures] = field(default_factory=dict)
    # Of exchanges that carry the visit's parameters (PartnerExchange.params): parameter name (or PAIR)
    # -> value (NO_TAG: without that parameter) -> figures.
    breakdowns: dict[str, dict[str, Bucket]] = field(default_factory=dict)
    # Every exchange of the period is completion_only: not completed = in progress OR failed.
    completion_only: bool = False

    @property
    def completion_share(self) -> Decimal | None:
        """Completed ÷ referred exchanges, in percent (two decimals); None without exchanges."""
        if not self.exchanges:
            return None
        return (Decimal(self.completed * 100) / Decimal(self.exchanges)).quantize(Decimal("0.01"))

    def top(self, name: str, limit: int = TOP_SOURCES) -> list[tuple[str, Bucket]]:
        """The values of one breakdown, most exchanges first."""
        buckets = self.breakdowns.get(name, {})
        return sorted(buckets.items(), key=lambda item: (-item[1].exchanges, item[0]))[:limit]

    @property
    def conversion(self) -> Decimal | None:
        """Completed exchanges per click, in percent (two decimals); None without clicks."""
        if not self.clicks or not self.has_exchanges:
            return None
        return (Decimal(self.completed * 100) / Decimal(self.clicks)).quantize(Decimal("0.01"))

    @property
    def top_sources(self) -> list[tuple[tuple[str, str], int]]:
        return sorted(self.sources.items(), key=lambda item: (-item[1], item[0]))[:TOP_SOURCES]

    @property
    def reward_currencies(self) -> list[str]:
        """The currencies rewards were counted in (those of non-zero rewards), sorted."""
        return sorted(set(self.accrued) | set(self.pending))

    @property
    def is_empty(self) -> bool:
        return not self.clicks and not self.exchanges


def aggregate(
    period: Period,
    clicks: list[PartnerClick] | None,
    exchanges: list[PartnerExchange] | None,
) -> PartnerStats:
    """The figures of ``period``; None for a list the platform does not serve."""
    stats = PartnerStats(
        period,
        has_clicks=clicks is not None,
        has_exchanges=exchanges is not None,
        per_day={day: DayFigures() for day in period.days},
    )
    visitors: set[str] = set()
    for click in clicks or ():
        if not period.contains(click.time):
            continue
        stats.clicks += 1
        visitors.add(click.visitor or f"ip:{click.ip}")
        stats.sources[utm_source_campaign(click.query_string)] += 1
        stats.per_day[utc_day(click.time)].clicks += 1
    stats.visitors = len(visitors)
    in_period = [e for e in exchanges or () if period.contains(e.time)]
    stats.completion_only = bool(in_period) and all(e.completion_only for e in in_period)
    stats.breakdowns = breakdowns(in_period)
    for exchange in in_period:
        day = stats.per_day[utc_day(exchange.time)]
        stats.exchanges += 1
        day.exchanges += 1
        if exchange.succeeded:
            stats.completed += 1
            day.completed += 1
        if not exchange.reward:
            continue
        code = exchange.reward_currency
        if exchange.accrued:
            stats.accrued[code] = stats.accrued.get(code, Decimal(0)) + exchange.reward
            day.accrued[code] = day.accrued.get(code, Decimal(0)) + exchange.reward
        elif exchange.status.phase not in LOST_PHASES:
            stats.pending[code] = stats.pending.get(code, Decimal(0)) + exchange.reward
    return stats


def breakdowns(exchanges: list[PartnerExchange]) -> dict[str, dict[str, Bucket]]:
    """By utm_source, utm_campaign, the most frequent other parameters and currency pair; only when
    some exchange carries parameters (the platform records the visit's query)."""
    if not any(e.params for e in exchanges):
        return {}
    counts: Counter[str] = Counter(name for e in exchanges for name in e.params if name not in UTM_BREAKDOWNS)
    others = [name for name, _count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))[:OTHER_PARAMS]]
    result: dict[str, dict[str, Bucket]] = {}
    for name in (*UTM_BREAKDOWNS, *others):
        buckets: dict[str, Bucket] = {}
        for e in exchanges:
            buckets.setdefault((e.params.get(name) or NO_TAG).strip(), Bucket()).add(e)
        result[name] = buckets
    pairs: dict[str, Bucket] = {}
    for e in exchanges:
        pair = f"{e.give_currency_code or '?'} → {e.get_currency_code or '?'}"
        pairs.setdefault(pair, Bucket()).add(e)
    result[PAIR] = pairs
    return result


async def read_all(items: AsyncIterator[T]) -> list[T]:
    return [item async for item in items]


async def fetch_period(
    cabinet: PartnerCabinet, period: Period, *, clicks: bool = True, exchanges: bool = True
) -> tuple[list[PartnerClick] | None, list[PartnerExchange] | None]:
    """Every click and exchange of the period, page after page (both lists read concurrently); None
    for a list not asked for."""

    async def maybe(wanted: bool, items: Callable[[int, int], AsyncIterator[T]]) -> list[T] | None:
        if not wanted:
            return None
        return await read_all(items(period.start_time, period.end_time))

    found_clicks, found_exchanges = await asyncio.gather(
        maybe(clicks, cabinet.clicks), maybe(exchanges, cabinet.exchanges)
    )
    return found_clicks, found_exchanges


async def collect_stats(
    cabinet: PartnerCabinet, period: Period, *, clicks: bool = True, exchanges: bool = True
) -> PartnerStats:
    found_clicks, found_exchanges = await fetch_period(cabinet, period, clicks=clicks, exchanges=exchanges)
    return aggregate(period, found_clicks, found_exchanges)


# The platform's named statistics windows (``PartnerCabinet.statistics``) matching the bot's presets;
# any other period is asked as a range, which an install may refuse.
SERVER_PERIODS = {PeriodKind.TODAY: "day", PeriodKind.WEEK: "week", PeriodKind.DAYS30: "month"}


@dataclass(frozen=True)
class ServerFigures:
    """The platform's own statistics of a period, or why there are none: ``missing`` is "range" (the
    platform takes only its named windows) or "permission" (the key may not read them)."""

    stats: ServerStats | None
    missing: str = ""
    permission: str | None = None


async def server_figures(cabinet: PartnerCabinet, period: Period) -> ServerFigures:
    named = SERVER_PERIODS.get(period.kind)
    try:
        if named is not None:
            return ServerFigures(await cabinet.statistics(named))
        return ServerFigures(await cabinet.statistics("custom", period.start_time, period.end_time))
    except PermissionMissing as exc:
        return ServerFigures(None, "permission", exc.permission)
    except ValidationFailed:
        return ServerFigures(None, "range")
