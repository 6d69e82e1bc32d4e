"""Embedded sandbox: a local iEXExchanger API v3 look-alike (the partner part, keys, webhooks).

Modules: server (IexSandbox lifecycle, test controls, serve_forever), app (HTTP, envelope, paging,
filters, rate limits, the endpoints), auth (the documented order of checks, HMAC verification),
data (months of partner data; statistics computed from the lists), webhooks (endpoints and signed
deliveries), faults (one-shot upstream failures), keys (demo keys, one per authentication case).
demo (``demo_controls``: what a customer or the staff would do; loaded by offline/demo.py only).
"""

from bot.platforms.iexexchanger.sandbox.server import IexSandbox, serve_forever

__all__ = ["IexSandbox", "serve_forever"]
