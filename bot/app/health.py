"""What ``GET /health`` (and the admins' /admin) say about the running bot: ok, degraded or failing,
with one reason per check that is not ok.

Checks:

- ``database``: a real write (the ``meta`` row ``health.probe``), not just a read. Failing when it
  can't be written (read-only file system, disk full, locked past the busy timeout).
- ``exchanger``: when did the exchanger last answer (any answer: a refusal proves it is there)?
  The transports' instrumentation notes answers in ``services.metrics`` (``last_exchanger_answer``).
  A quiet bot makes no calls, so after ``exchanger_quiet_after`` seconds without an answer the
  monitor asks ``platform.self_check()`` itself, at most once per ``probe_every`` seconds.
  Degraded (never failing: restarting the bot does not bring an exchanger back).
- ``updates``: is Telegram's update intake working? Polling: failing when the polling loop is not
  running, degraded when ``getUpdates`` has failed for ``polling_failing_after`` seconds. A quiet bot
  gets no updates, so the age of the last update is reported but is never a reason by itself.
  Webhook: failing when the webhook could not be registered, or Telegram's ``getWebhookInfo`` (asked
  at most once per ``webhook_info_every`` seconds) names another URL; degraded when Telegram reports
  a delivery error newer than the last update received (a proxy that does not forward, TLS trouble).
- ``notifications``: failing when the sender (or the tracker) task that ``notifications_running``
  started is no longer running; degraded when the oldest notification due for sending has waited
  ``queue_stuck_after`` seconds.

The report is a plain dataclass (:class:`HealthReport`) so any front end can render it.
:meth:`HealthMonitor.report` is the operator's (/admin): reasons may quote an exception or Telegram.
``GET /health`` is public and unauthenticated, so it gets :meth:`HealthMonitor.public_report`: generic
reasons only (no exception text, file path or third-party message), and one report per
``public_cache_seconds`` however often it is asked (each report writes to the database).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.storage.outbox import OutboxRepository

if TYPE_CHECKING:
    from aiogram import Bot

    from bot.app.wiring import Services
    from bot.notifications.runtime import Notifications

PROBE_META = "health.probe"


class Level(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    FAILING = "failing"

    @property
    def rank(self) -> int:
        return (Level.OK, Level.DEGRADED, Level.FAILING).index(self)


@dataclass(frozen=True)
class Check:
    name: str  # "database" | "exchanger" | "updates" | "notifications"
    level: Level
    reason: str = ""  # plain English for the operator; empty when ok
    age_seconds: float | None = None  # what the check measured, where it measures an age
    # What the public /health says instead of ``reason`` when that quotes an exception or a third party.
    public_reason: str = ""

    def public(self) -> Check:
        return replace(self, reason=self.public_reason or self.reason, public_reason="")


@dataclass(frozen=True)
class HealthReport:
    status: Level
    checks: tuple[Check, ...]

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.reason}" for c in self.checks if c.level is not Level.OK]

    def public(self) -> HealthReport:
        """The same report with generic reasons only (what the unauthenticated /health shows)."""
        return HealthReport(self.status, tuple(c.public() for c in self.checks))

    @property
    def http_status(self) -> int:
        return 503 if self.status is Level.FAILING else 200

    def as_json(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "reasons": self.reasons,
            "checks": {
                c.name: {
                    "status": str(c.level),
                    **({"reason": c.reason} if c.reason else {}),
                    **({"age_seconds": round(c.age_seconds, 1)} if c.age_seconds is not None else {}),
                }
                for c in self.checks
            },
        }


@dataclass
class IntakeState:
    """How updates reach the bot, kept up to date by the polling loop or the webhook endpoint."""

    mode: str  # "polling" | "webhook"
    webhook_url: str = ""
    clock: Callable[[], float] = time.monotonic
    running: bool = False  # polling: the loop runs; webhook: Telegram accepted the webhook
    stopping: bool = False
    last_update_at: float | None = None
    failing_since: float | None = None  # polling: the first of the getUpdates failures in a row
    last_error: str = ""  # the exception's type name, never its text
    conflict: str = ""  # polling: why Telegram refuses getUpdates (409 Conflict), while it does
    updates: int = 0

    def note_update(self) -> None:
        self.updates += 1
        self.last_update_at = self.clock()

    def note_poll(self, error: BaseException | None = None, *, conflict: str = "") -> None:
        self.conflict = conflict
        if error is None:
            self.failing_since, self.last_error = None, ""
        else:
            self.last_error = type(error).__name__
            if self.failing_since is None:
                self.failing_since = self.clock()


@dataclass
class HealthMonitor:
    """One per running bot: ``await monitor.report()`` is what /health and /admin show. The thresholds
    are seconds; ``clock`` stands in for ``time.monotonic`` (answers are noted on that clock)."""

    services: Services = field(repr=False)
    intake: IntakeState | None = None
    notifications: Notifications | None = None
    bot: Bot | None = field(default=None, repr=False)  # webhook mode: asks Telegram about deliveries
    clock: Callable[[], float] = time.monotonic
    exchanger_quiet_after: float = 300.0
    probe_every: float = 60.0
    probe_timeout: float = 10.0
    polling_failing_after: float = 60.0
    queue_stuck_after: int = 300
    write_timeout: float = 5.0
    webhook_info_every: float = 60.0
    webhook_error_window: float = 600.0
    public_cache_seconds: float = 2.0
    _public: tuple[float, HealthReport] | None = field(default=None, init=False)
    _public_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _probed_at: float | None = field(default=None, init=False)
    _probe_problem: str = field(default="", init=False)
    _probe_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _delivery_asked_at: float | None = field(default=None, init=False)
    _delivery_problem: Check | None = field(default=None, init=False)

    async def report(self) -> HealthReport:
        checks = [await self._database(), await self._exchanger()]
        if self.intake is not None:
            updates = self._updates(self.intake)
            if updates.level is Level.OK and self.intake.mode == "webhook" and self.bot is not None:
                updates = await self._webhook_delivery(self.intake, self.bot) or updates
            checks.append(updates)
        checks.append(await self._notifications())
        status = max((c.level for c in checks), key=lambda level: level.rank)
        return HealthReport(status, tuple(checks))

    async def public_report(self) -> HealthReport:
        """:meth:`report` with generic reasons, made at most once per ``public_cache_seconds``."""
        async with self._public_lock:  # a burst of requests waits for one report
            if self._public is not None and self.clock() - self._public[0] < self.public_cache_seconds:
                return self._public[1]
            report = (await self.report()).public()
            self._public = (self.clock(), report)
            return report

    async def _database(self) -> Check:
        db = self.services.db
        if db.closed:
            return Check("database", Level.FAILING, "the database is closed")
        try:
            await asyncio.wait_for(db.set_meta(PROBE_META, str(db.now())), self.write_timeout)
        except TimeoutError:
            return Check("database", Level.FAILING, f"a write did not finish within {self.write_timeout:g} s")
        except Exception as exc:
            public = f"the database cannot be written ({type(exc).__name__})"
            said = f"the database cannot be written ({type(exc).__name__}: {str(exc)[:200]})"
            return Check("database", Level.FAILING, said, public_reason=public)
        return Check("database", Level.OK)

    def _answer_age(self) -> float | None:
        last = self.services.metrics.last_exchanger_answer()
        return None if last is None else max(0.0, self.clock() - last)

    async def _exchanger(self) -> Check:
        name = self.services.platform.info.name
        age = self._answer_age()
        if age is None or age > self.exchanger_quiet_after:
            async with self._probe_lock:
                now = self.clock()
                if self._probed_at is None or now - self._probed_at >= self.probe_every:
                    self._probed_at = now
                    await self._probe(name)
            age = self._answer_age()
        if age is not None and age <= self.exchanger_quiet_after:
            return Check("exchanger", Level.OK, age_seconds=age)
        if self._probe_problem:
            public = self._probe_problem.split(":", 1)[0]  # the self-check's own message is the operator's
            return Check("exchanger", Level.DEGRADED, self._probe_problem, age, public_reason=public)
        if age is None:
            return Check("exchanger", Level.DEGRADED, "the exchanger has not answered since the bot started")
        return Check("exchanger", Level.DEGRADED, f"the exchanger has not answered for {age:.0f} s", age)

    async def _probe(self, name: str) -> None:
        try:
            check = await asyncio.wait_for(self.services.platform.self_check(), self.probe_timeout)
        except TimeoutError:
            self._probe_problem = f"the exchanger did not answer a check within {self.probe_timeout:g} s"
            return
        except Exception as exc:
            self._probe_problem = f"the exchanger could not be asked ({type(exc).__name__})"
            return
        if check.ok:
            self.services.metrics.note_exchanger_answer(name)
            self._probe_problem = ""
        else:
            # self_check's message is written for the operator's log and carries no secret.
            self._probe_problem = f"the exchanger's self-check failed: {check.message[:300]}"

    def _updates(self, intake: IntakeState) -> Check:
        now = self.clock()
        age = None if intake.last_update_at is None else now - intake.last_update_at
        if intake.stopping:
            return Check("updates", Level.DEGRADED, "the bot is stopping and takes no new updates", age)
        if intake.mode == "webhook":
            if not intake.running:
                return Check("updates", Level.FAILING, "the Telegram webhook is not registered", age)
            return Check("updates", Level.OK, age_seconds=age)
        if not intake.running:
            return Check("updates", Level.FAILING, "the polling loop is not running", age)
        if intake.conflict:
            return Check("updates", Level.FAILING, intake.conflict, age)
        if intake.failing_since is not None and now - intake.failing_since >= self.polling_failing_after:
            failing_for = now - intake.failing_since
            reason = f"getUpdates has failed for {failing_for:.0f} s ({intake.last_error})"
            return Check("updates", Level.DEGRADED, reason, age)
        return Check("updates", Level.OK, age_seconds=age)

    async def _webhook_delivery(self, intake: IntakeState, bot: Bot) -> Check | None:
        """Telegram's own word on delivering updates to the webhook; None when it has no complaint."""
        now = self.clock()
        if self._delivery_asked_at is not None and now - self._delivery_asked_at < self.webhook_info_every:
            return self._delivery_problem
        self._delivery_asked_at = now
        self._delivery_problem = None
        try:
            info = await asyncio.wait_for(bot.get_webhook_info(), self.probe_timeout)
        except Exception:  # Telegram out of reach from here says nothing about its deliveries
            return None
        age = None if intake.last_update_at is None else now - intake.last_update_at
        if intake.webhook_url and info.url != intake.webhook_url:
            reason = "Telegram's webhook is set to another URL (another process replaced it?)"
            self._delivery_problem = Check("updates", Level.FAILING, reason, age)
        elif info.last_error_date is not None:
            error_age = time.time() - info.last_error_date.timestamp()
            if error_age < self.webhook_error_window and (age is None or error_age < age):
                said = (info.last_error_message or "no reason given")[:200]
                public = f"Telegram could not deliver to the webhook {error_age:.0f} s ago"
                self._delivery_problem = Check(
                    "updates", Level.DEGRADED, f"{public}: {said}", age, public_reason=public
                )
        return self._delivery_problem

    async def _notifications(self) -> Check:
        notifications = self.notifications
        if notifications is not None and notifications.tasks:  # run by notifications_running
            for what in ("sender", "tracker"):
                if not notifications.running(what):
                    return Check("notifications", Level.FAILING, f"the notification {what} is not running")
        db = self.services.db
        now = db.now()
        try:
            oldest = await OutboxRepository(db).oldest_due_at()
        except Exception as exc:
            return Check("notifications", Level.FAILING, f"the queue cannot be read ({type(exc).__name__})")
        if oldest is None:
            return Check("notifications", Level.OK)
        waited = float(max(0, now - oldest))
        if waited >= self.queue_stuck_after:
            reason = f"the oldest notification due has waited {waited:.0f} s"
            return Check("notifications", Level.DEGRADED, reason, waited)
        return Check("notifications", Level.OK, age_seconds=waited)
