"""How many open 0trace orders can one bot follow by ``/v1/order`` polling, within the weight budget?

    .venv/bin/python bench/zerotrace_polling_bench.py [--orders 600] [--budget 120] [--window 2]

Part 1 is arithmetic on the real figures: the documented budget (2,500 weight units per sliding
60 s), the weights the client charges (``bot.platforms.zerotrace.client.WEIGHTS``: /v1/order 1,
/v1/create 50, /v1/qr 5) and the share the client keeps free for creates (``WeightBudget.reserve``).

Part 2 runs the real client (signing, envelope, budget) against the 0trace sandbox over loopback, with
the budget and window scaled down so it takes seconds: it reads ``--orders`` orders as fast as it can,
several times what one window allows. The sandbox enforces the budget like 0trace (code 5 / HTTP 429
with Retry-After) and counts every refusal; the client is expected to slow down and draw none.
The client's window is the server's plus one second (61 s for 60 s), kept unscaled here: a read that
takes longer than that between being counted and reaching the server (a machine busy with other work,
many concurrent pollers) can still meet code 5, which the client then honours (Retry-After).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from decimal import Decimal

from pydantic import SecretStr

from bot.platforms.zerotrace.budget import CREATE_WEIGHT, DEFAULT_BUDGET, WeightBudget
from bot.platforms.zerotrace.client import WEIGHTS, ZeroTraceClient
from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
from bot.platforms.zerotrace.sandbox.keys import DEMO
from bot.platforms.zerotrace.signing import body_bytes

SERVER_WINDOW = 60.0
ORDER_WEIGHT = WEIGHTS.get("order", 1)
INTERVALS = (30, 60)
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
TRON_ADDRESS = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"


def capacity(interval: float, budget: int, reserve: int, creates_per_minute: int = 0) -> int:
    """Open orders one bot can poll every ``interval`` seconds in the steady state: N orders cost
    N × window / interval units per window, and the poller may spend the budget less the reserve
    kept for creates (less any creates expected beyond the reserve)."""
    client_window = WeightBudget().window  # the client's window: the server's 60 s plus a margin
    spendable = budget - reserve - max(creates_per_minute * CREATE_WEIGHT - reserve, 0)
    return max(math.floor(spendable * interval / (client_window * ORDER_WEIGHT)), 0)


def print_capacity() -> None:
    budget = WeightBudget()
    print(f"Budget: {DEFAULT_BUDGET} weight units per {SERVER_WINDOW:g} s sliding window (client counts "
          f"{budget.window:g} s); /v1/order weighs {ORDER_WEIGHT}, /v1/create {CREATE_WEIGHT}, "
          f"/v1/qr {WEIGHTS['qr']}.")  # fmt: skip
    print(f"The client keeps {budget.reserve} units free for creates "
          f"({budget.reserve // CREATE_WEIGHT} creates per window never wait behind polling).")  # fmt: skip
    print()
    print(
        f"{'poll every':>10}  {'open orders followed':>21}  {'with 20 creates/min':>20}  {'no reserve':>11}"
    )
    for interval in INTERVALS:
        print(f"{interval:>8} s  {capacity(interval, DEFAULT_BUDGET, budget.reserve):>21}  "
              f"{capacity(interval, DEFAULT_BUDGET, budget.reserve, 20):>20}  "
              f"{capacity(interval, DEFAULT_BUDGET, 0):>11}")  # fmt: skip
    print("Beyond these the client stretches the polling interval (reads wait for weight to age out)")
    print("instead of drawing code 5.")
    print()


async def demonstrate(orders: int, budget: int, window: float, concurrency: int) -> int:
    sandbox = ZeroTraceSandbox(step_seconds=None)
    url = await sandbox.start("127.0.0.1", 0)
    # The client's window is the server's plus the production margin for the way there (60 s → 61 s):
    # one second, not scaled down, as loopback latency under load is not scaled either.
    margin = WeightBudget().window - SERVER_WINDOW
    client_budget = WeightBudget(limit=budget, window=window + margin, reserve=0)
    client = ZeroTraceClient(url, SecretStr(DEMO.key), SecretStr(DEMO.secret), budget=client_budget)
    try:
        market = sandbox.market
        give, get = market.assets["usdt_trc20"], market.assets["btc"]
        made = []
        for _ in range(orders):
            quote = market.quote(give, get, Decimal(100), "from", 0)
            order, token = sandbox.book.create(DEMO.key, None, quote, BTC_ADDRESS, TRON_ADDRESS)
            made.append((order.id, token))
        sandbox.budget, sandbox.window = budget, window
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        for item in made:
            queue.put_nowait(item)
        read, failed = 0, 0

        async def worker() -> None:
            nonlocal read, failed
            while not queue.empty():
                order_id, token = queue.get_nowait()
                data = await client.call("order", body_bytes({"id": order_id, "token": token}))
                if isinstance(data, dict) and data.get("id") == order_id:
                    read += 1
                else:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        # The least time the client's own accounting allows: the first window's weight at once,
        # then one window per budget's worth.
        floor = (orders * ORDER_WEIGHT - budget) / budget * (window + margin)
        print(f"Sandbox budget scaled to {budget} units per {window:g} s; {orders} orders read by "
              f"{concurrency} concurrent pollers as fast as they could.")  # fmt: skip
        print(f"  orders read correctly:        {read} of {orders} ({failed} wrong answers)")
        print(f"  requests the sandbox served:  {sandbox.requests.get('order', 0)}")
        print(f"  429 / code 5 answers:         {sandbox.rate_limited}")
        print(f"  elapsed:                      {elapsed:.1f} s (the client's accounting allows no less than "
              f"{max(floor, 0):.1f} s; unthrottled it would need {orders / budget:.1f} windows' weight "
              f"at once)")  # fmt: skip
        print(f"  achieved: {read / elapsed * window:.0f} reads per {window:g} s window, "
              f"budget {budget}")  # fmt: skip
        return sandbox.rate_limited
    finally:
        await client.aclose()
        await sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--budget", type=int, default=120, help="sandbox budget (weight units per window)")
    parser.add_argument("--window", type=float, default=2.0, help="sandbox window in seconds (real: 60)")
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    print_capacity()
    refused = asyncio.run(demonstrate(args.orders, args.budget, args.window, args.concurrency))
    print("OK: the client slowed down instead of drawing 429." if refused == 0 else
          f"FAIL: the client drew {refused} rate-limit answers.")  # fmt: skip
    raise SystemExit(0 if refused == 0 else 1)


if __name__ == "__main__":
    main()
