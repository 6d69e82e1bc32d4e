"""Demo controls for the terminal chat (offline/demo.py): what the customer's wallet and 0trace's
staff would do to the latest order."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from bot.platforms.zerotrace.sandbox.market import PAIR_MAX_USD, PAIR_MIN_USD, s
from bot.platforms.zerotrace.sandbox.orders import Order
from bot.platforms.zerotrace.sandbox.state import ZeroTraceState
from offline.demo import DemoControl

__all__ = ["demo_controls"]


def _latest(sandbox: ZeroTraceState) -> Order | None:
    for order_id in reversed(sandbox.created):
        order = sandbox.orders.get(order_id)
        if order is not None and not order.deleted:
            return order
    live = [o for o in sandbox.orders.values() if not o.deleted]
    return max(live, key=lambda o: o.reg) if live else None


def _name(order: Order) -> str:
    q = order.quote
    return f"order {order.id[:8]} ({s(q.from_amount)} {q.give.coin} · {q.give.network})"


def demo_controls(sandbox: ZeroTraceState) -> list[DemoControl]:
    async def deposit(args: list[str]) -> str:
        amount = None
        if args:
            try:
                amount = Decimal(args[0].replace(",", "."))
            except InvalidOperation:
                return f"Not an amount: {args[0][:20]}"
            if not amount.is_finite() or amount <= 0:
                return "The amount must be above zero."
        order = _latest(sandbox)
        if order is None:
            return "No order yet: make one first."
        amount = order.quote.from_amount if amount is None else amount
        before = order.status
        after = sandbox.deposit(order.id, amount)
        if after == before:
            return f"{_name(order)} is {after}: it takes no deposit now."
        return f"Deposited {s(amount)} {order.quote.give.coin} to {_name(order)}: now {after}."

    async def advance(args: list[str]) -> str:
        order = _latest(sandbox)
        if order is None:
            return "No order yet: make one first."
        before = order.status
        after = sandbox.advance(order.id)
        return f"{_name(order)}: {before} → {after}."

    async def expire(args: list[str]) -> str:
        order = _latest(sandbox)
        if order is None:
            return "No order yet: make one first."
        return f"{_name(order)}: {sandbox.expire(order.id)}."

    low, high = s(PAIR_MIN_USD), s(PAIR_MAX_USD)
    return [
        DemoControl(
            "deposit",
            f"[AMOUNT] the latest order's deposit arrives: its exact amount by default; another amount, "
            f"or one outside {low}–{high} USD, puts it in EMERGENCY",
            deposit,
        ),
        DemoControl("advance", "the latest order moves one step on (PENDING → EXCHANGE → DONE)", advance),
        DemoControl("expire", "the latest order expires (no deposit came)", expire),
    ]
