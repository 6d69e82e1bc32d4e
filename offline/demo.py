"""Demo controls: what a customer or the exchanger's staff would do on an embedded sandbox, offered to
the person at the terminal chat (``!help``, ``!deposit 7``, ``!pay``).

A platform's sandbox may have a ``demo`` module with ``demo_controls(sandbox) -> list[DemoControl]``;
``controls_for`` finds them for the running platform (none when the bot talks to a real exchanger).
Only this module loads them: the sandboxes themselves never import ``offline`` (absent from the image).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.platforms.registry import PLATFORMS

__all__ = ["DemoControl", "controls_for"]


@dataclass(frozen=True)
class DemoControl:
    name: str  # typed after "!"
    help: str  # one line: arguments and what it does
    run: Callable[[list[str]], Awaitable[str]]  # the words after the name → what happened


def controls_for(platform: object) -> list[DemoControl]:
    sandbox = getattr(platform, "sandbox", None)
    info = getattr(platform, "info", None)
    if sandbox is None or info is None or info.name not in PLATFORMS:
        return []
    name = PLATFORMS[info.name] + ".sandbox.demo"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:  # the module is there but broken: say so
            raise
        return []
    return list(module.demo_controls(sandbox))
