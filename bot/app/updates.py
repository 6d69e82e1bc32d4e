"""Updates from Telegram into the Dispatcher, each in a task of its own, and a clean way to stop.

:class:`UpdateFeeder` is shared by both ways updates arrive: :func:`poll` (``getUpdates``, the
default) and the webhook endpoint (``bot.app.webhook``). When the bot stops it takes no new update
(:meth:`UpdateFeeder.close`), then :meth:`UpdateFeeder.drain` lets the updates in flight finish within
the grace period and cancels what is left.

A cancelled update is not rolled back as a whole: a handler makes several writes (each its own
transaction), and the cancel may fall between two of them. Nor is it delivered again: it was already
confirmed to Telegram (polling: by the next offset; webhook: answered 200 when it arrived). What makes
that safe is recovery, not atomicity: an order whose create was under way keeps its reservation, which
the next start settles (``OrderPlacer.resolve_pending``, the status tracker); a notification queued in
the outbox is sent by the next start; and the customer's conversation stays at the step last stored,
from which they can go on or start again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramConflictError, TelegramUnauthorizedError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.app.health import IntakeState

log = logging.getLogger(__name__)

POLLING_TIMEOUT = 10  # seconds Telegram holds a getUpdates open when there is nothing to deliver
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)
CONFIRM_TIMEOUT = 5.0
_RECENT_IDS = 1000
POLLING_CONFLICT = "another process is polling this bot token"
WEBHOOK_CONFLICT = "Telegram refuses getUpdates: a webhook is set for this bot token (another process?)"


class TokenRevoked(Exception):
    """Telegram answered Unauthorized while the bot ran: BOT_TOKEN was revoked (or the bot deleted)."""


class UpdateFeeder:
    def __init__(self, dp: Dispatcher, bot: Bot, intake: IntakeState, **context: Any) -> None:
        self.dp = dp
        self.bot = bot
        self.intake = intake
        self.context = {"bots": (bot,), **context}
        self._tasks: set[asyncio.Task[None]] = set()
        # Telegram may deliver an update again (a webhook answer it did not see, a restarted poll).
        self._recent: deque[int] = deque(maxlen=_RECENT_IDS)
        self._closed = False

    @property
    def accepting(self) -> bool:
        return not self._closed

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def feed(self, update: Update) -> bool:
        """Start handling ``update``; False (and nothing done) once the feeder is closed."""
        if self._closed:
            return False
        if update.update_id in self._recent:
            return True
        self._recent.append(update.update_id)
        self.intake.note_update()
        task = asyncio.create_task(self._handle(update), name=f"update-{update.update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _handle(self, update: Update) -> None:
        try:
            response = await self.dp.feed_update(self.bot, update, **self.context)
            if isinstance(response, TelegramMethod):
                await self.dp.silent_call_request(self.bot, response)
        except asyncio.CancelledError:
            log.warning(
                "update %s: still running when the bot stopped; cancelled (an order it was placing "
                "is settled on the next start)",
                update.update_id,
            )
            raise
        except Exception:  # the errors router handles what handlers raise; this is what it let through
            log.exception("update %s failed", update.update_id)

    def close(self) -> None:
        """Take no more updates."""
        self._closed = True
        self.intake.stopping = True

    async def drain(self, grace: float, hurry: asyncio.Event | None = None) -> int:
        """Close, wait up to ``grace`` seconds (less once ``hurry`` is set) for the updates in flight,
        cancel the rest; returns how many were cancelled."""
        self.close()
        if self._tasks:
            log.info("waiting up to %g s for %d update(s) in flight", grace, len(self._tasks))
            # Waiting on asyncio.wait in a task of its own: cancelling it leaves the updates running.
            finished = asyncio.ensure_future(asyncio.wait(set(self._tasks)))
            waiters: set[asyncio.Future[Any]] = {finished}
            if hurry is not None:
                waiters.add(asyncio.ensure_future(hurry.wait()))
            try:
                await asyncio.wait(waiters, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
                await asyncio.gather(*waiters, return_exceptions=True)
        late = list(self._tasks)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        return len(late)


class Poller:
    """Long-polls ``getUpdates`` into the feeder until cancelled or the feeder closes. Network and Bot
    API failures are retried with backoff (and reported to the health check), with two exceptions:
    409 Conflict (another process polls the same token, or a webhook is set) is retried too but makes
    the health check fail with that reason, logged once per conflict; 401 Unauthorized (the token was
    revoked) raises :class:`TokenRevoked`: retrying cannot help, so the bot stops.

    An update is confirmed to Telegram by the ``offset`` of the next call; :meth:`confirm` sends that
    last confirmation once polling has stopped, so updates already handled are not delivered again."""

    def __init__(
        self, bot: Bot, feeder: UpdateFeeder, allowed_updates: list[str], timeout: int = POLLING_TIMEOUT
    ) -> None:
        self.bot = bot
        self.feeder = feeder
        self.request = GetUpdates(timeout=timeout, allowed_updates=allowed_updates)
        self.request_timeout = int((bot.session.timeout or 0) + timeout)

    async def run(self) -> None:
        intake = self.feeder.intake
        backoff = Backoff(BACKOFF)
        intake.running = True
        try:
            while self.feeder.accepting:
                try:
                    updates = await self.bot(self.request, request_timeout=self.request_timeout)
                except TelegramUnauthorizedError:
                    raise TokenRevoked(
                        "Telegram refused BOT_TOKEN (Unauthorized) while the bot was running: it was revoked "
                        "or the bot deleted; get a new token from @BotFather"
                    ) from None
                except TelegramConflictError as exc:
                    conflict = WEBHOOK_CONFLICT if "webhook" in exc.message.lower() else POLLING_CONFLICT
                    if intake.conflict != conflict:
                        log.error("getUpdates refused (409 Conflict): %s; retrying", conflict)
                    intake.note_poll(exc, conflict=conflict)
                    await backoff.asleep()
                    continue
                except Exception as exc:
                    intake.note_poll(exc)
                    log.warning(
                        "getUpdates failed (%s); retrying in %.1f s", type(exc).__name__, backoff.next_delay
                    )
                    await backoff.asleep()
                    continue
                if intake.conflict:
                    log.info("getUpdates works again (the conflict is over)")
                intake.note_poll()
                backoff.reset()
                for update in updates:
                    if not self.feeder.feed(update):
                        return  # stopping: this one and the rest come again after the restart
                    self.request.offset = update.update_id + 1
        finally:
            intake.running = False

    async def confirm(self) -> None:
        if self.request.offset is None:
            return
        with contextlib.suppress(Exception):
            confirm = GetUpdates(offset=self.request.offset, limit=1, timeout=0)
            await asyncio.wait_for(self.bot(confirm), CONFIRM_TIMEOUT)
