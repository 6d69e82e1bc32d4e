"""Aggregate a partner's clicks and referred exchanges over a whole period (every page of it)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import parse_qsl

from bot.exchanger.base import PartnerCabinet
from bot.exchanger.models import PartnerClick, PartnerExchange
from bot.partner.periods import Period

# A reward of these exchanges will never be paid: it is neither accrued nor pending.
FAILED_STATUSES = frozenset({"cancel", "delete", "error"})
TOP_SOURCES = 5
NO_TAG = ""


def query_params(query_string: str) -> list[tuple[str, str]]:
    """``rid=7&utm_source=tg`` as pairs, in order; a leading ``?`` and broken pairs are tolerated."""
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
    accrued: Decimal = Decimal(0)


@dataclass
class PartnerStats:
    period: Period
    clicks: int = 0
    visitors: int = 0
    exchanges: int = 0
    completed: int = 0
    accrued: Decimal = Decimal(0)
    pending: Decimal = Decimal(0)
    # (utm_source, utm_campaign) -> clicks; ("", "") = clicks without tags
    sources: Counter[tuple[str, str]] = field(default_factory=Counter)
    per_day: dict[date, DayFigures] = field(default_factory=dict)

    @property
    def conversion(self) -> Decimal | None:
        """Completed exchanges per click, in percent (two decimals); None without clicks."""
        if not self.clicks:
            return None
        return (Decimal(self.completed * 100) / Decimal(self.clicks)).quantize(Decimal("0.01"))

    @property
    def top_sources(self) -> list[tuple[tuple[str, str], int]]:
        return sorted(self.sources.items(), key=lambda item: (-item[1], item[0]))[:TOP_SOURCES]

    @property
    def is_empty(self) -> bool:
        return not self.clicks and not self.exchanges


def aggregate(period: Period, clicks: list[PartnerClick], exchanges: list[PartnerExchange]) -> PartnerStats:
    stats = PartnerStats(period, per_day={day: DayFigures() for day in period.days})
    visitors: set[str] = set()
    for click in clicks:
        if not period.contains(click.time):
            continue
        stats.clicks += 1
        visitors.add(click.user_hash or f"ip:{click.ip}")
        stats.sources[utm_source_campaign(click.query_string)] += 1
        stats.per_day[utc_day(click.time)].clicks += 1
    stats.visitors = len(visitors)
    for exchange in exchanges:
        if not period.contains(exchange.time):
            continue
        day = stats.per_day[utc_day(exchange.time)]
        stats.exchanges += 1
        day.exchanges += 1
        if exchange.succeeded:
            stats.completed += 1
            day.completed += 1
        if exchange.accrued:
            stats.accrued += exchange.partner_reward
            day.accrued += exchange.partner_reward
        elif exchange.status.strip().lower() not in FAILED_STATUSES:
            stats.pending += exchange.partner_reward
    return stats


async def fetch_period(
    cabinet: PartnerCabinet, period: Period
) -> tuple[list[PartnerClick], list[PartnerExchange]]:
    """Every click and exchange of the period, page after page (both lists read concurrently)."""

    async def clicks() -> list[PartnerClick]:
        return [
            c
            async for c in cabinet.iter_partner_clicks(start_time=period.start_time, end_time=period.end_time)
        ]

    async def exchanges() -> list[PartnerExchange]:
        return [
            e
            async for e in cabinet.iter_partner_exchanges(
                start_time=period.start_time, end_time=period.end_time
            )
        ]

    found_clicks, found_exchanges = await asyncio.gather(clicks(), exchanges())
    return found_clicks, found_exchanges


async def collect_stats(cabinet: PartnerCabinet, period: Period) -> PartnerStats:
    clicks, exchanges = await fetch_period(cabinet, period)
    return aggregate(period, clicks, exchanges)
