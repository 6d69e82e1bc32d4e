"""The page cache over HTTP to the Lara sandbox: one full walk per key per interval, then only the
newest end, whatever order the site lists in; stale rows on failure; nothing kept for a rejected key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.domain import errors
from bot.platforms.larascript.adapter import LaraPlatform
from bot.platforms.larascript.cache import ListOrder, key_id
from bot.platforms.larascript.sandbox import LaraSandbox
from bot.platforms.larascript.sandbox.keys import DEMO, SECOND
from tests.platforms.larascript_harness import Clock, open_lara

PAGES = 5
MIN, FULL = 60.0, 1800.0


@pytest.fixture
async def lara() -> AsyncIterator[tuple[LaraPlatform, LaraSandbox, Clock]]:
    async with open_lara(min_interval=MIN, full_interval=FULL) as opened:
        yield opened


def cabinet(platform: LaraPlatform, key: str = DEMO.key, rid: str = DEMO.rid):
    return platform.cabinet(platform.credentials({"key": key, "rid": rid}))


async def calls_for(sb: LaraSandbox, action) -> int:
    before = len(sb.requests)
    await action()
    return len(sb.requests) - before


async def test_reads_within_the_minimum_interval_cost_nothing(lara) -> None:
    platform, sb, clock = lara
    cab = cabinet(platform)
    assert await calls_for(sb, cab.summary) == PAGES
    clock.advance(MIN - 1)
    assert await calls_for(sb, cab.summary) == 0
    assert await calls_for(sb, lambda: _list(cab)) == 0
    assert (await cab.snapshot()).order is ListOrder.NEWEST_FIRST


async def _list(cab) -> list:
    return [e async for e in cab.exchanges(0, 2**31)]


async def test_a_refresh_reads_only_the_newest_page(lara) -> None:
    platform, sb, clock = lara
    cab = cabinet(platform)
    await cab.summary()
    now = int(sb.now())
    new = [sb.book.add(DEMO.key, created_at=now + n, completed=n == 0) for n in range(3)]
    clock.advance(MIN)
    assert await calls_for(sb, cab.summary) == 1
    snap = await cab.snapshot()
    assert {r.key for r in new} <= set(snap.rows) and snap.new_ids == [r.key for r in reversed(new)]
    assert snap.completed_ids == [new[0].key]
    summary = await cab.summary()
    assert summary.exchanges == len(sb.counted(DEMO.key)) and summary.as_of == int(clock.now)


async def test_a_recent_completion_is_seen_on_refresh(lara) -> None:
    platform, sb, clock = lara
    cab = cabinet(platform)
    await cab.summary()
    newest_open = next(r for r in sb.ordered(DEMO.key)[:150] if not r.is_completed and r.id is not None)
    sb.book.complete(DEMO.key, newest_open.key, int(sb.now()))
    clock.advance(MIN)
    assert await calls_for(sb, cab.summary) == 2  # page 1 changed: one more page to be sure
    snap = await cab.snapshot()
    assert snap.rows[newest_open.key].is_completed and snap.completed_ids == [newest_open.key]


async def test_old_changes_and_deletions_wait_for_the_full_walk(lara) -> None:
    platform, sb, clock = lara
    cab = cabinet(platform)
    first = await cab.summary()
    old_open = next(r for r in reversed(sb.ordered(DEMO.key)) if not r.is_completed and r.created_at)
    gone = next(r for r in reversed(sb.ordered(DEMO.key)) if r.is_completed and r.created_at)
    sb.book.complete(DEMO.key, old_open.key, int(sb.now()))
    sb.book.delete(DEMO.key, gone.key)
    clock.advance(MIN)
    assert await calls_for(sb, cab.summary) == 1
    assert (await cab.summary()).completed_exchanges == first.completed_exchanges  # deep: not seen yet
    clock.advance(FULL)
    assert await calls_for(sb, cab.summary) == PAGES
    summary = await cab.summary()
    truth = sb.counted(DEMO.key)
    assert summary.completed_exchanges == sum(r.is_completed for r in truth) == first.completed_exchanges
    assert (await cab.snapshot()).rows[old_open.key].is_completed
    assert (
        summary.exchanges == len(truth) == first.exchanges - 1 and gone.key not in (await cab.snapshot()).rows
    )


async def test_an_oldest_first_site_is_refreshed_from_its_last_page(lara) -> None:
    platform, sb, clock = lara
    sb.order = "asc"
    cab = cabinet(platform)
    await cab.summary()
    assert (await cab.snapshot()).order is ListOrder.OLDEST_FIRST
    now = int(sb.now())
    new = [sb.book.add(DEMO.key, created_at=now + n) for n in range(150)]  # page 5 fills, page 6 opens
    clock.advance(MIN)
    assert await calls_for(sb, cab.summary) == 2
    assert sb.requests[-2].startswith("/api/v1/partner/referral-exchanges?page=5")
    assert {r.key for r in new} <= set((await cab.snapshot()).rows)
    clock.advance(MIN)
    assert await calls_for(sb, cab.summary) == 1  # from the new last page
    assert (await cab.summary()).exchanges == len(sb.counted(DEMO.key))


async def test_a_site_in_no_order_is_only_walked_in_full(lara) -> None:
    platform, sb, clock = lara
    sb.order = "scrambled"
    cab = cabinet(platform)
    await cab.summary()
    assert (await cab.snapshot()).order is ListOrder.UNKNOWN
    clock.advance(FULL - 1)
    assert await calls_for(sb, cab.summary) == 0
    clock.advance(1)
    assert await calls_for(sb, cab.summary) == PAGES


async def test_concurrent_screens_share_one_walk(lara) -> None:
    platform, sb, _clock = lara
    cab = cabinet(platform)
    await asyncio.gather(cab.summary(), _list(cab), cabinet(platform).summary())
    assert len(sb.requests) == PAGES


async def test_each_key_has_its_own_rows_under_a_hash(lara) -> None:
    platform, sb, _clock = lara
    await cabinet(platform).summary()
    await cabinet(platform, SECOND.key, SECOND.rid).summary()
    assert len(sb.requests) == PAGES + 1
    held = list(platform.cache._snapshots)
    assert held == [key_id(platform.site_url, DEMO.key), key_id(platform.site_url, SECOND.key)]
    assert all(DEMO.key not in k and SECOND.key not in k for k in held)
    assert DEMO.key not in repr(platform.cache) and DEMO.key not in repr(cabinet(platform))


async def test_a_failed_refresh_serves_the_last_rows_then_gives_up(lara) -> None:
    platform, sb, clock = lara
    cab = cabinet(platform)
    first = await cab.summary()
    clock.advance(MIN)
    sb.faults.next("http502", times=3)
    stale = await cab.summary()
    assert stale.exchanges == first.exchanges and stale.as_of == first.as_of  # "as of" the last read
    assert len(sb.requests) == PAGES + 3
    snap = await cab.snapshot()  # it just failed: no new attempt for a while
    assert isinstance(snap.stale_error, errors.UnexpectedResponse) and len(sb.requests) == PAGES + 3
    clock.advance(MIN)
    assert await calls_for(sb, cab.summary) == 1  # the site is back: a refresh
    assert (await cab.snapshot()).stale_error is None
    clock.advance(platform.cache.stale_limit)
    sb.faults.next("http502", times=3)
    with pytest.raises(errors.UnexpectedResponse):
        await cab.summary()


async def test_a_revoked_key_forgets_its_rows(lara) -> None:
    platform, sb, clock = lara
    cab = cabinet(platform)
    await cab.summary()
    del sb.keys[DEMO.key]
    clock.advance(MIN)
    with pytest.raises(errors.CredentialsRejected):
        await cab.summary()
    assert platform.cache.peek(cab._key) is None


async def test_the_least_recently_used_key_is_dropped_past_the_limit() -> None:
    async with open_lara(max_keys=1) as (platform, sb, _clock):
        await cabinet(platform).summary()
        await cabinet(platform, SECOND.key, SECOND.rid).summary()
        assert list(platform.cache._snapshots) == [key_id(platform.site_url, SECOND.key)]
        assert await calls_for(sb, cabinet(platform).summary) == PAGES
