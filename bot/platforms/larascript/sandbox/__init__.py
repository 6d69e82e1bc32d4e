"""Embedded Lara-script sandbox: the partner referral-exchanges endpoint with demo data and faults.

Modules: server (LaraSandbox, serve_forever), app (HTTP), data (partner rows and their wire quirks),
faults (one-shot failures), keys (demo partner keys).
"""

from bot.platforms.larascript.sandbox.server import LaraSandbox, serve_forever

__all__ = ["LaraSandbox", "serve_forever"]
