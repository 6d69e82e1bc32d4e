"""Completion news for partners (the poller's half in the adapter), over HTTP to the Lara sandbox:
told once, in order, never on the first poll, and nothing repeated or lost across a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.platforms.larascript.adapter import LaraPlatform
from bot.platforms.larascript.cache import PageCache
from bot.platforms.larascript.push import completions_since
from bot.platforms.larascript.sandbox import LaraSandbox
from bot.platforms.larascript.sandbox.keys import DEMO
from bot.platforms.larascript.transport import RetryPolicy, Transport
from tests.platforms.larascript_harness import Clock, open_lara

MIN, FULL = 60.0, 1800.0


@pytest.fixture
async def lara() -> AsyncIterator[tuple[LaraPlatform, LaraSandbox, Clock]]:
    async with open_lara(min_interval=MIN, full_interval=FULL) as opened:
        yield opened


def cabinet(platform: LaraPlatform):
    return platform.cabinet(platform.credentials({"key": DEMO.key, "rid": DEMO.rid}))


def open_recent(sb: LaraSandbox, count: int) -> list[str]:
    rows = [r for r in sb.ordered(DEMO.key)[:150] if not r.is_completed and r.id is not None]
    return [r.key for r in rows[:count]]


async def test_the_first_poll_tells_nothing(lara) -> None:
    platform, _sb, _clock = lara
    batch = completions_since(await cabinet(platform).snapshot(), None)
    assert batch.news == [] and batch.cursor


async def test_each_completion_is_told_once_in_order(lara) -> None:
    platform, sb, clock = lara
    cab = cabinet(platform)
    cursor = (completions_since(await cab.snapshot(), None)).cursor
    now = int(sb.now())
    first, second = open_recent(sb, 2)
    sb.book.complete(DEMO.key, second, now + 5)
    sb.book.complete(DEMO.key, first, now + 9)
    fresh = sb.book.add(DEMO.key, created_at=now + 1, completed=False)
    sb.book.complete(DEMO.key, fresh.key, now + 7)
    clock.advance(MIN)
    calls = len(sb.requests)
    batch = completions_since(await cab.snapshot(), cursor)
    assert len(sb.requests) - calls <= 2  # only the newest pages
    assert [n.exchange.id for n in batch.news] == [second, fresh.key, first]
    told = batch.news[0].exchange
    row = sb.book.find(DEMO.key, second)
    assert told.accrued and told.completed_time == now + 5 and format(told.reward, "f") == row.reward
    assert told.reward_currency == row.reward_currency and told.params == (row.params or {})
    clock.advance(MIN)
    again = completions_since(await cab.snapshot(), batch.cursor)
    assert again.news == []


async def test_a_restart_mid_batch_repeats_and_loses_nothing(lara) -> None:
    platform, sb, clock = lara
    cursor = (completions_since(await cabinet(platform).snapshot(), None)).cursor
    now = int(sb.now())
    ids = open_recent(sb, 3)
    for n, key in enumerate(ids):
        sb.book.complete(DEMO.key, key, now + n + 1)
    clock.advance(MIN)
    batch = completions_since(await cabinet(platform).snapshot(), cursor)
    assert [n.exchange.id for n in batch.news] == ids
    stored = batch.news[0].cursor  # the bot stopped after telling the first one
    # a new process: a new cache, a full walk
    transport = Transport(platform.site_url, RetryPolicy(backoff=0.01))
    restarted = LaraPlatform(PageCache(transport, clock=clock))
    try:
        resumed = completions_since(await cabinet(restarted).snapshot(), stored)
    finally:
        await restarted.aclose()
    assert [n.exchange.id for n in resumed.news] == ids[1:]


async def test_an_old_exchange_completing_is_told_after_the_full_walk(lara) -> None:
    platform, sb, clock = lara
    cab = cabinet(platform)
    cursor = (completions_since(await cab.snapshot(), None)).cursor
    old = next(r for r in reversed(sb.ordered(DEMO.key)) if not r.is_completed and r.created_at)
    sb.book.complete(DEMO.key, old.key, int(sb.now()) + 3)
    clock.advance(MIN)
    batch = completions_since(await cab.snapshot(), cursor)
    assert batch.news == []  # deep in the list: the refresh reads only the newest end
    clock.advance(FULL)
    later = completions_since(await cab.snapshot(), batch.cursor)
    assert [n.exchange.id for n in later.news] == [old.key]


async def test_an_unreadable_cursor_starts_over_quietly(lara) -> None:
    platform, _sb, _clock = lara
    for junk in ("{", '{"w": "x"}', "[]", '{"told": {}}'):
        batch = completions_since(await cabinet(platform).snapshot(), junk)
        assert batch.news == [] and batch.cursor.startswith('{"w":')


async def test_the_sandbox_lives(lara) -> None:
    platform, sb, clock = lara
    cab = cabinet(platform)
    cursor = (completions_since(await cab.snapshot(), None)).cursor
    before = {r.key for r in sb.counted(DEMO.key) if r.is_completed}
    for _ in range(12):
        sb.tick()
    clock.advance(MIN)
    batch = completions_since(await cab.snapshot(), cursor)
    completed_now = {r.key for r in sb.counted(DEMO.key) if r.is_completed} - before
    assert completed_now and {n.exchange.id for n in batch.news} == completed_now
