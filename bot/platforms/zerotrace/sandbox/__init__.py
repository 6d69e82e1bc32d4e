"""Embedded 0trace sandbox: the Partner API look-alike with demo partners, assets and orders.

Modules: state (ZeroTraceState: data and test controls), server (ZeroTraceSandbox: serving it,
serve_forever), app (HTTP, auth, budget, endpoints), market (assets, pairs, pricing), orders (order
book, state machine, idempotency), pushes (signed webhook deliveries), faults, keys (demo partners).
demo (``demo_controls``: what a customer or the staff would do; loaded by offline/demo.py only).
"""

from bot.platforms.zerotrace.sandbox.server import ZeroTraceSandbox, serve_forever

__all__ = ["ZeroTraceSandbox", "serve_forever"]
