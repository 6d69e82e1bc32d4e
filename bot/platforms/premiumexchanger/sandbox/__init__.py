"""Embedded sandbox exchanger: a local PremiumExchanger User API v1 look-alike with demo data.

Modules: server (SandboxExchanger lifecycle, serve_forever), app (HTTP, envelope, auth, faults),
methods (the 16 API methods), catalogue (currencies, directions), fields (field descriptors),
calc (calculator), bids (bid store, statuses), callbacks, partner (partner demo data), faults,
keys (demo API keys), texts (en/ru texts), money (Decimal helpers).
demo (``demo_controls``: what a customer or the staff would do; loaded by offline/demo.py only).
"""

from bot.platforms.premiumexchanger.sandbox.server import SandboxExchanger, serve_forever

__all__ = ["SandboxExchanger", "serve_forever"]
