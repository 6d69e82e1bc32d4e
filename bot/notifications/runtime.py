"""Starting and stopping the notification machinery as one unit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiogram import Bot

from bot.notifications.callbacks import OrderCallbacks
from bot.notifications.clock import Clock, SystemClock
from bot.notifications.pushes import PushInbox
from bot.notifications.sender import NotificationSender
from bot.notifications.statuses import OrderStatusService
from bot.notifications.titles import StatusTitles
from bot.notifications.tracker import StatusTracker
from bot.partner.watch import PartnerWatcher
from bot.storage.outbox import OutboxRepository

if TYPE_CHECKING:
    from bot.app.wiring import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotificationConfig:
    """Seconds, except the rates. Tests shrink the intervals."""

    poll_min_interval: float = 5.0
    poll_max_interval: float = 60.0
    # With an order feed, direct reads are a slow safety net; without one they are the tracking.
    checks_per_cycle: int = 1
    check_after: int = 3600
    # Every open order, once it is unchanged this long, is read in the next cycle; the platform's
    # client paces the reads to its rate budget (so this is a ceiling, not a rate).
    checks_per_cycle_without_feed: int = 2000
    check_after_without_feed: int = 45
    poll_max_interval_without_feed: float = 15.0
    global_rate: float = 30.0
    per_chat_interval: float = 1.0
    retry_base: float = 2.0
    retry_max: float = 300.0
    outbox_recheck: float = 5.0
    title_timeout: float = 5.0


@dataclass
class Notifications:
    statuses: OrderStatusService
    tracker: StatusTracker
    sender: NotificationSender
    callbacks: OrderCallbacks
    outbox: OutboxRepository
    pushes: PushInbox
    # "tracker", "sender", "watcher" while notifications_running runs them.
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def running(self, part: str) -> bool:
        task = self.tasks.get(part)
        return task is not None and not task.done()

    def request_stop(self) -> None:
        """Ask the tracker and the sender to return after the step under way; stop the watcher now."""
        self.tracker.stop()
        self.sender.stop()
        if "watcher" in self.tasks:
            self.tasks["watcher"].cancel()

    async def wait_stopped(self) -> None:
        """Until the tasks have returned (after :meth:`request_stop`)."""
        if self.tasks:
            await asyncio.wait(self.tasks.values())

    async def stop(self, wait: float) -> None:
        """:meth:`request_stop`, wait up to ``wait`` seconds, cancel what still runs. Stopping twice
        is harmless (the second returns at once)."""
        try:
            await self.callbacks.aclose()
        finally:  # whatever aclose raised, no task may outlive the database
            self.request_stop()
            tasks = self.tasks
            if tasks:
                _, late = await asyncio.wait(tasks.values(), timeout=wait)
                for task in late:
                    log.warning("%s did not stop within %g s; cancelled", task.get_name(), wait)
                    task.cancel()
                for task in tasks.values():
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def notify(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int:
        """Queue any notification (a kind with a renderer, see ``messages.py``); returns its outbox id."""
        item_id = await self.outbox.enqueue(chat_id, kind, payload)
        self.sender.wake()
        return item_id


def build_notifications(
    services: Services, bot: Bot, config: NotificationConfig | None = None, clock: Clock | None = None
) -> Notifications:
    config = config or NotificationConfig()
    clock = clock or SystemClock()
    titles = StatusTitles()
    outbox = OutboxRepository(services.db)
    sender = NotificationSender(
        services,
        bot,
        outbox=outbox,
        titles=titles,
        clock=clock,
        global_rate=config.global_rate,
        per_chat_interval=config.per_chat_interval,
        retry_base=config.retry_base,
        retry_max=config.retry_max,
        idle_recheck=config.outbox_recheck,
        title_timeout=config.title_timeout,
    )
    statuses = OrderStatusService(services, titles=titles, outbox=outbox, on_enqueued=sender.wake)
    has_feed = services.platform.feed is not None
    tracker = StatusTracker(
        services,
        statuses,
        clock=clock,
        min_interval=config.poll_min_interval,
        max_interval=config.poll_max_interval if has_feed else config.poll_max_interval_without_feed,
        checks_per_cycle=config.checks_per_cycle if has_feed else config.checks_per_cycle_without_feed,
        check_after=config.check_after if has_feed else config.check_after_without_feed,
    )
    callbacks = OrderCallbacks(services, statuses)
    return Notifications(statuses, tracker, sender, callbacks, outbox, PushInbox(services, statuses))


@asynccontextmanager
async def notifications_running(
    services: Services,
    bot: Bot,
    config: NotificationConfig | None = None,
    clock: Clock | None = None,
    *,
    stop_timeout: float = 10.0,
) -> AsyncIterator[Notifications]:
    """Run the status tracker, the sender and the partner news watcher in the background until the
    block ends. Give ``notifications`` to ``bot.app.web.start_web_server`` so pushes reach this machinery.

    On the way out the tracker and the sender finish the step under way (a poll cycle; a message being
    sent and recorded as sent) and return; what is still running after ``stop_timeout`` seconds is
    cancelled. Either way the outbox keeps what was not sent, for the next start."""
    notifications = build_notifications(services, bot, config, clock)
    watcher = PartnerWatcher(services, wake=notifications.sender.wake)
    notifications.pushes.on("payout_paid", watcher.on_push)
    notifications.tasks.update(
        tracker=asyncio.create_task(notifications.tracker.run(), name="status-tracker"),
        sender=asyncio.create_task(notifications.sender.run(), name="notification-sender"),
        # Returns at once on platforms without partner news.
        watcher=asyncio.create_task(watcher.run(), name="partner-watcher"),
    )
    try:
        yield notifications
    finally:
        await notifications.stop(stop_timeout)
