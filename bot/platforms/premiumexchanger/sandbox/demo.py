"""Demo controls for the terminal chat (offline/demo.py): the exchanger's staff move the latest order."""

from __future__ import annotations

from bot.platforms.premiumexchanger.sandbox.state import SandboxState
from offline.demo import DemoControl

__all__ = ["demo_controls"]


def demo_controls(sandbox: SandboxState) -> list[DemoControl]:
    async def advance(args: list[str]) -> str:
        made = [b for b in sandbox.bids.values() if b.login]  # made through the API, not demo history
        if not made:
            return "No order yet: make one first."
        bid = max(made, key=lambda b: b.id)
        before = bid.status
        after = sandbox.advance(bid.id)
        if after == before:
            return f"Order {bid.id} is {after}: it moves no further."
        return f"Order {bid.id}: {before} → {after}."

    return [DemoControl("advance", "the latest order moves one step along its path", advance)]
