"""The one task that sends queued notifications to Telegram, within Telegram's limits.

Loop: take the oldest unsent notification of each chat, send the one that may go first (see
:class:`~bot.notifications.pacing.SendPacer`), repeat; when none may go yet, sleep until one may or
until something new is queued. Outcomes:

- sent: ``sent_at`` is set;
- nothing to send any more (its renderer gives None: a stopped broadcast, say): deleted, "skipped";
- ``TelegramRetryAfter``: every sending pauses for ``retry_after`` (flood control is per bot), then
  the same notification is tried again;
- ``TelegramForbiddenError`` (the user blocked the bot): the chat is marked inactive and its pending
  notifications are dropped; nothing more is queued for it;
- another ``TelegramBadRequest`` (chat not found, bad markup): that notification is dropped, logged;
- network and server errors: retried with exponential backoff, forever (the row stays in the outbox
  and survives restarts); unexpected errors likewise, up to ``max_attempts``.

Every attempt is counted in the row's ``attempts``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from typing import TYPE_CHECKING, NamedTuple

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.notifications.clock import Clock, SystemClock
from bot.notifications.messages import RENDERERS, RenderContext
from bot.notifications.pacing import GLOBAL_RATE, PER_CHAT_INTERVAL, SendPacer
from bot.notifications.titles import StatusTitles
from bot.storage.outbox import OutboxItem, OutboxRepository

if TYPE_CHECKING:
    from bot.app.wiring import Services

log = logging.getLogger(__name__)

PRUNE_EVERY = 3600.0  # seconds between deletions of old sent rows


class Delivery(NamedTuple):
    at: float  # the sender clock's monotonic time
    chat_id: int
    outbox_id: int
    kind: str


class NotificationSender:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        *,
        outbox: OutboxRepository | None = None,
        titles: StatusTitles | None = None,
        clock: Clock | None = None,
        global_rate: float = GLOBAL_RATE,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        retry_base: float = 2.0,
        retry_max: float = 300.0,
        max_attempts: int = 20,
        idle_recheck: float = 5.0,
        title_timeout: float = 5.0,
        batch: int = 100,
    ) -> None:
        self.services = services
        self.bot = bot
        self.outbox = outbox or OutboxRepository(services.db)
        self.clock = clock or SystemClock()
        self.pacer = SendPacer(global_rate, per_chat_interval)
        self.context = RenderContext(services, titles or StatusTitles(), title_timeout)
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.max_attempts = max_attempts
        self.idle_recheck = idle_recheck
        self.batch = batch
        self.deliveries: deque[Delivery] = deque(maxlen=1000)  # recent sends, for logs and tests
        self._not_before: dict[int, float] = {}  # outbox id -> monotonic time of its next attempt
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than after ``idle_recheck``."""
        self._wake.set()

    def stop(self) -> None:
        """Return from :meth:`run` once the notification being sent (if any) is sent and recorded."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        pruned_at: float | None = None
        while not self._stopping:
            self._wake.clear()
            try:
                if pruned_at is None or self.clock.monotonic() - pruned_at > PRUNE_EVERY:
                    pruned_at = self.clock.monotonic()
                    await self.outbox.prune_sent()
                delay = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notification sender failed; retrying")
                delay = self.retry_base
            await self._wait(delay)

    async def _wait(self, delay: float | None) -> None:
        """Until ``delay`` has passed on the clock (None: ``idle_recheck`` seconds) or :meth:`wake`."""
        wake = asyncio.ensure_future(self._wake.wait())
        timer = asyncio.ensure_future(
            asyncio.sleep(self.idle_recheck) if delay is None else self.clock.sleep(delay)
        )
        try:
            await asyncio.wait({wake, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (wake, timer):
                task.cancel()
            await asyncio.gather(wake, timer, return_exceptions=True)

    async def send_due(self) -> float | None:
        """Send every notification that may go now, pacing with the clock's sleep; return the seconds
        until the next one may go, or None when the outbox is empty."""
        while not self._stopping:
            heads = await self.outbox.heads(self.batch)
            if not heads:
                return None
            now = self.clock.monotonic()
            item, ready_at = min(
                ((h, max(self.pacer.ready_at(h.chat_id), self._not_before.get(h.id, 0.0))) for h in heads),
                key=lambda pair: pair[1],
            )
            if ready_at > now:
                return ready_at - now
            await self._deliver(item)
        return None

    async def drain(self, max_rounds: int = 10_000) -> None:
        """Send until the outbox is empty, sleeping on the clock in between (for tests and benchmarks)."""
        for _ in range(max_rounds):
            delay = await self.send_due()
            if delay is None:
                return
            await self.clock.sleep(delay)
        raise RuntimeError("the outbox did not drain")

    async def _deliver(self, item: OutboxItem) -> None:
        chat_settings = self.services.chat_settings
        if not await chat_settings.is_active(item.chat_id):
            dropped = await self.outbox.drop_chat(item.chat_id)
            log.info("chat %s is inactive: dropped %d notification(s)", item.chat_id, dropped)
            return
        renderer = RENDERERS.get(item.kind)
        if renderer is None:
            log.error("notification %s: no renderer for kind %r; dropped", item.id, item.kind)
            await self._drop(item)
            return
        locale = await chat_settings.get_language(item.chat_id)
        i18n = self.services.i18n
        if locale not in i18n.available_locales:
            locale = i18n.default_locale
        try:
            # The chat's language for anything the renderer formats without naming it (amounts too).
            with i18n.context(), i18n.use_locale(locale):
                rendered = await renderer(self.context, item, locale)
        except Exception:
            log.exception("notification %s (%s): rendering failed", item.id, item.kind)
            await self._retry_later(item)
            return
        if rendered is None:  # nothing to send any more (a stopped broadcast, say): not a failure
            log.info("notification %s (%s): nothing to send; skipped", item.id, item.kind)
            await self._drop(item, outcome="skipped")
            return

        now = self.clock.monotonic()
        self.pacer.attempted(item.chat_id, now)
        try:
            await self.bot.send_message(item.chat_id, rendered.text, reply_markup=rendered.reply_markup)
        except TelegramRetryAfter as exc:
            log.warning("Telegram flood control: pausing notifications for %s s", exc.retry_after)
            self.pacer.pause(now + exc.retry_after)
            self.services.metrics.notification("retried")
            await self.outbox.record_failure(item.id, None)
        except TelegramForbiddenError:
            self.services.metrics.notification("failed")
            await chat_settings.mark_inactive(item.chat_id)
            dropped = await self.outbox.drop_chat(item.chat_id)
            log.info("chat %s blocked the bot: inactive, %d notification(s) dropped", item.chat_id, dropped)
        except (TelegramBadRequest, TelegramNotFound, TelegramMigrateToChat) as exc:
            log.warning("notification %s to chat %s dropped: %s", item.id, item.chat_id, exc.message)
            await self._drop(item)
        except Exception as exc:  # network, Telegram server errors, anything else: try again later
            log.warning("notification %s to chat %s not sent (%s); will retry", item.id, item.chat_id, exc)
            await self._retry_later(item, unexpected=not _is_transient(exc))
        else:
            self._not_before.pop(item.id, None)
            self.services.metrics.notification("sent")
            await self.outbox.mark_sent(item.id)
            self.deliveries.append(Delivery(now, item.chat_id, item.id, item.kind))

    async def _retry_later(self, item: OutboxItem, *, unexpected: bool = True) -> None:
        if unexpected and item.attempts + 1 >= self.max_attempts:
            log.error("notification %s dropped after %d attempts", item.id, item.attempts + 1)
            await self._drop(item)
            return
        delay = min(self.retry_max, self.retry_base * 2 ** min(item.attempts, 30))
        self.services.metrics.notification("retried")
        self._not_before[item.id] = self.clock.monotonic() + delay
        await self.outbox.record_failure(item.id, self.services.db.now() + math.ceil(delay))

    async def _drop(self, item: OutboxItem, *, outcome: str = "failed") -> None:
        self.services.metrics.notification(outcome)
        self._not_before.pop(item.id, None)
        await self.outbox.drop(item.id)


def _is_transient(exc: Exception) -> bool:
    return isinstance(exc, (TelegramNetworkError, TelegramServerError, TelegramUnauthorizedError, OSError))
