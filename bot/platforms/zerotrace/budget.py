"""The client's own share of 0trace's weight budget (2,500 units per sliding 60 s by default).

Every signed call takes its weight here first. Reads (weight 1, 5 for a QR) leave ``reserve`` units
free so creates (50 each) always fit; a call that doesn't fit waits until enough weight has aged out,
so a busy bot slows down instead of meeting code 5. The server stays the authority: its
``Retry-After`` is honoured on top (:meth:`hold`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

__all__ = ["CREATE_WEIGHT", "DEFAULT_BUDGET", "WeightBudget"]

DEFAULT_BUDGET = 2500
CREATE_WEIGHT = 50


class WeightBudget:
    def __init__(
        self,
        limit: int = DEFAULT_BUDGET,
        window: float = 61.0,  # the server's 60 s, plus a second for the way there
        reserve: int = 5 * CREATE_WEIGHT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.reserve = limit, window, reserve
        self._clock = clock
        # [time counted, weight]; the time moves to the answer's arrival when the call settles.
        self._spent: deque[list[float]] = deque()
        self._held_until = 0.0

    def used(self) -> int:
        self._expire(self._clock())
        return int(sum(weight for _, weight in self._spent))

    def _expire(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - self.window:
            self._spent.popleft()

    def wait_for(self, weight: int, *, create: bool = False) -> float:
        """Seconds until ``weight`` fits (0: now)."""
        now = self._clock()
        self._expire(now)
        wait = max(self._held_until - now, 0.0)
        ceiling = self.limit if create else self.limit - self.reserve
        used = sum(w for _, w in self._spent)
        if used + weight <= ceiling:
            return wait
        for stamp, spent in self._spent:
            used -= spent
            if used + weight <= ceiling:
                return max(wait, stamp + self.window - now)
        return max(wait, self.window)

    async def take(self, weight: int, *, create: bool = False) -> list[float]:
        """Wait until ``weight`` fits, then count it. Check and count happen with no await between
        them, and no lock is held while waiting: a create never queues behind a waiting read.
        Returns the entry to :meth:`settle` once the call is over."""
        delay = self.wait_for(weight, create=create)
        while delay > 0:
            await asyncio.sleep(delay)
            delay = self.wait_for(weight, create=create)
        entry = [self._clock(), float(weight)]
        self._spent.append(entry)
        return entry

    def settle(self, entry: list[float]) -> None:
        """The call is over: the server counted it at some moment before now, so its weight ages out
        a window after now (a slow way there can't make the client's count expire first)."""
        entry[0] = max(entry[0], self._clock())

    def hold(self, seconds: float) -> None:
        """The server said Retry-After: no call before then."""
        self._held_until = max(self._held_until, self._clock() + seconds)
