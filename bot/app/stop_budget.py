"""One time budget for stopping the bot, shared by its stages (drain, confirm, webhook, HTTP server,
notifications), so the whole stop fits in ``SHUTDOWN_GRACE_SECONDS`` plus :data:`MARGIN` whatever hangs,
well inside a container's stop timeout. A second SIGTERM/SIGINT (``hurry``) leaves every stage still to
come, and the one under way, at most :data:`HURRIED` seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

log = logging.getLogger(__name__)

MARGIN = 5.0  # for the stages after the grace period: Telegram calls, the HTTP server, notifications
HURRIED = 1.0


class StopBudget:
    def __init__(self, total: float, hurry: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self.deadline = self._loop.time() + total
        self.hurry = hurry

    def left(self, cap: float | None = None) -> float:
        """Seconds the next stage may take: what is left of the budget, at most ``cap``."""
        left = max(0.0, self.deadline - self._loop.time())
        if self.hurry.is_set():
            left = min(left, HURRIED)
        return left if cap is None else min(left, cap)

    async def run(self, what: str, step: Awaitable[object], cap: float | None = None) -> bool:
        """Await ``step`` within :meth:`left` (shortened when ``hurry`` comes meanwhile); cancel it when
        the time is up. A stage that fails is logged, not raised: the bot is stopping anyway. True when
        it finished."""
        task = asyncio.ensure_future(step)
        hurried = asyncio.ensure_future(self.hurry.wait())
        try:
            await asyncio.wait({task, hurried}, timeout=self.left(cap), return_when=asyncio.FIRST_COMPLETED)
            if not task.done() and self.hurry.is_set():
                await asyncio.wait({task}, timeout=self.left(cap))
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            hurried.cancel()
        if not task.done():
            log.warning("stopping: %s did not finish in time; cancelled", what)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return False
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("stopping: %s failed (%s)", what, type(exc).__name__)
            return False
        return True
