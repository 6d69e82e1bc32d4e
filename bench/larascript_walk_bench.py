"""What does /stats for 30 days cost on a Lara-script site? The sandbox is seeded with a partner who
referred N exchanges (10 000 by default, over 90 days); the bot's real path (the adapter with its page
cache, then ``bot.partner.stats.collect_stats``) reads the period over loopback HTTP.

    .venv/bin/python bench/larascript_walk_bench.py [--exchanges 10000]

Prints, for each read, the HTTP calls it cost and the time: the first read (one full walk), a read
within the minimum interval, a refresh after new exchanges arrived and a recent one completed (only
the newest end is read), and the read after the full-walk interval. The cache's clock is moved by
hand, so the run takes seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bot.partner.periods import PeriodKind, preset, today_utc
from bot.partner.stats import collect_stats
from bot.platforms.larascript.adapter import LaraPlatform
from bot.platforms.larascript.cache import PageCache
from bot.platforms.larascript.sandbox import LaraSandbox
from bot.platforms.larascript.sandbox.keys import DEMO
from bot.platforms.larascript.transport import Transport


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def run(exchanges: int) -> None:
    started = time.perf_counter()
    sandbox = LaraSandbox(step_seconds=None, demo_rows=exchanges)
    url = await sandbox.start()
    seeded = time.perf_counter() - started
    clock = Clock()
    transport = Transport(url)
    cache = PageCache(transport, clock=clock)
    platform = LaraPlatform(cache, sandbox=sandbox)
    cabinet = platform.cabinet(platform.credentials({"key": DEMO.key, "rid": DEMO.rid}))
    period = preset(PeriodKind.DAYS30, today_utc())
    print(f"sandbox: {len(sandbox.counted(DEMO.key))} referred exchanges seeded in {seeded:.2f} s at {url}")
    print(f"/stats period: {period.span} (UTC); minimum interval {cache.min_interval:g} s, "
          f"full walk every {cache.full_interval:g} s")  # fmt: skip

    async def stats(label: str) -> None:
        calls = len(sandbox.requests)
        began = time.perf_counter()
        figures = await collect_stats(cabinet, period, clicks=False)
        spent = time.perf_counter() - began
        print(
            f"{label:<46} {len(sandbox.requests) - calls:>3} HTTP calls  {spent * 1000:8.1f} ms  "
            f"({figures.exchanges} referred, {figures.completed} completed)"
        )

    try:
        await stats("first read (full walk)")
        await stats("again within the minimum interval")
        now = int(sandbox.now())
        for n in range(5):
            sandbox.book.add(DEMO.key, created_at=now + n, completed=False)
        clock.now += cache.min_interval
        await stats("refresh: 5 new exchanges")
        recent = next(r for r in sandbox.ordered(DEMO.key)[:50] if not r.is_completed and r.id is not None)
        sandbox.book.complete(DEMO.key, recent.key, now + 10)
        clock.now += cache.min_interval
        await stats("refresh: a recent exchange completed")
        clock.now += cache.min_interval
        await stats("refresh: nothing new")
        clock.now += cache.full_interval
        await stats("after the full-walk interval (full walk)")
        pages = -(-len(sandbox.ordered(DEMO.key)) // 200)
        print(f"without the cache every /stats would cost {pages} calls (the whole list at 200 a page)")
    finally:
        await platform.aclose()
        await sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(run(args.exchanges))


if __name__ == "__main__":
    main()
