"""How fast is the bot? N concurrent chats each make a complete exchange through the production
Dispatcher (SQLite FSM storage, i18n, the exchanger client over loopback HTTP to the in-process
sandbox), against a bare aiogram Dispatcher (MemoryStorage, trivial handlers) fed the same number
of updates on the same fake Telegram session in the same run, as the ceiling.

    .venv/bin/python bench/exchange_bench.py [--chats 200]

Prints updates per second, p50/p99 handler latency, upstream calls per completed order and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiogram import Bot, Dispatcher, F, Router
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.app.config import Settings
from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import open_services
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import DEMO
from offline.bot_client import BotClient, Reply
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession

CARD = "4276380012345679"  # passes the Luhn check the form applies as it is typed
TRC20 = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"  # a Tron address with a valid checksum


class Timed:
    """Wraps a BotClient and records how long each update took to handle."""

    def __init__(self, client: BotClient, latencies: list[float]) -> None:
        self.client, self.latencies = client, latencies

    async def _timed(self, action: Callable[[], Awaitable[Reply]]) -> Reply:
        started = time.perf_counter()
        reply = await action()
        self.latencies.append(time.perf_counter() - started)
        return reply

    async def send(self, text: str) -> Reply:
        return await self._timed(lambda: self.client.send(text))

    async def click(self, label: str | re.Pattern[str]) -> Reply:
        return await self._timed(lambda: self.client.click(label))


async def full_exchange(chat: Timed) -> bool:
    """Sberbank RUB -> Tether TRC20: 11 updates, every kind of field, a price-changing select."""
    await chat.send("/exchange")
    await chat.click("Sberbank RUB")
    await chat.click("Tether TRC20 USDT")
    await chat.send("10000")
    await chat.send(CARD)
    await chat.send("Ivan Petrov")
    await chat.send(TRC20)
    await chat.click(re.compile(r"^Normal\b"))  # the option shows its price
    await chat.send("ivan@example.com")
    await chat.click("✅ Yes")
    reply = await chat.click("✅ Confirm")
    return "Order #" in reply.text


def bare_dispatcher() -> Dispatcher:
    dp = Dispatcher(storage=MemoryStorage(), events_isolation=SimpleEventIsolation())
    router = Router()
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="next", callback_data="next")]])

    @router.message()
    async def on_message(message: Message) -> None:
        await message.answer("ok", reply_markup=markup)

    @router.callback_query(F.data == "next")
    async def on_button(callback: CallbackQuery) -> None:
        await callback.answer()
        await callback.message.answer("ok", reply_markup=markup)  # type: ignore[union-attr]

    dp.include_router(router)
    return dp


async def bare_exchange(chat: Timed) -> bool:
    """The same mix as full_exchange: 7 messages and 4 button presses."""
    for _ in range(7):
        await chat.send("text")
    for _ in range(4):
        await chat.click("next")
    return True


async def run(
    chats: int, dp: Dispatcher, bot: Bot, journey: Callable[[Timed], Awaitable[bool]]
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    clients = [Timed(BotClient(dp, bot, user_id=500_000 + i), latencies) for i in range(chats)]
    started = time.perf_counter()
    done = await asyncio.gather(*(journey(client) for client in clients))
    return time.perf_counter() - started, latencies, sum(done)


def report(name: str, elapsed: float, latencies: list[float], extra: str = "") -> None:
    latencies = sorted(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{name:<28} {len(latencies) / elapsed:>9.0f} updates/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms"
        f"   peak RSS {rss:6.0f} MiB{extra}"
    )


async def main(chats: int) -> None:
    bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
    print(f"{chats} concurrent chats, 11 updates each, Python {sys.version.split()[0]}")

    elapsed, latencies, _ = await run(chats, bare_dispatcher(), bot, bare_exchange)
    report("bare aiogram (ceiling)", elapsed, latencies)
    ceiling = len(latencies) / elapsed

    sandbox = SandboxExchanger(step_seconds=None)
    await sandbox.start("127.0.0.1", 0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_path=Path(tmp) / "bench.sqlite3",
                exchanger_url=sandbox.url,
                exchanger_api_login=DEMO.login,
                exchanger_api_key=DEMO.key,
                secret_key="benchmark-secret-key-0123456789",
            )
            async with open_services(settings) as services:
                dp = build_dispatcher(services)
                before = sandbox.requests.copy()
                elapsed, latencies, completed = await run(chats, dp, bot, full_exchange)
                by_method = sandbox.requests - before
                calls = sum(by_method.values())
    finally:
        await sandbox.stop()
    if completed != chats:
        raise SystemExit(f"only {completed} of {chats} exchanges completed")
    report(
        "exchanger-bot (full stack)",
        elapsed,
        latencies,
        f"   {calls / completed:.2f} upstream calls/order",
    )
    print(f"full stack at {len(latencies) / elapsed / ceiling:.0%} of the bare ceiling's updates/s")
    per_order = ", ".join(f"{method} {count / completed:.2f}" for method, count in by_method.most_common())
    print(f"upstream calls per order: {per_order}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--chats", type=int, default=200)
    asyncio.run(main(parser.parse_args().chats))
