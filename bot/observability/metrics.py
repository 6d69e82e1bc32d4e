"""The bot's Prometheus metrics, on a registry of its own (one per :class:`Metrics`, so several bots in
one process, as in the tests, never share counters). Served as ``GET /metrics`` (:mod:`.web`).

Names and labels are listed in the README ("Metrics"); labels are low-cardinality by construction:
update types, platform names, API method names without ids, neutral error class names, outcomes.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.observability.exchanger import ExchangerErrorRecord, ExchangerObserver, RecentErrors

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
NOTIFICATION_OUTCOMES = ("sent", "retried", "failed", "skipped")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter("bot_updates", "Telegram updates received, by type.", ["type"], registry=r)
        self.update_seconds = Histogram(
            "bot_update_handling_seconds",
            "Time to handle one update (all middlewares and the handler), by type.",
            ["type"],
            buckets=_SECONDS,
            registry=r,
        )
        self.slow_updates = Counter(
            "bot_slow_updates",
            "Updates that took long enough for the 'typing' chat action to be shown, by type.",
            ["type"],
            registry=r,
        )
        self.exchanger_requests = Counter(
            "bot_exchanger_requests",
            "HTTP requests to the exchanger, by API method and outcome "
            "(2xx, 3xx, 4xx, 5xx, timeout, network, deadline).",
            ["platform", "method", "outcome"],
            registry=r,
        )
        self.exchanger_latency = Histogram(
            "bot_exchanger_request_seconds",
            "Exchanger HTTP request latency (until the answer's headers), by API method.",
            ["platform", "method"],
            buckets=_SECONDS,
            registry=r,
        )
        self.exchanger_errors = Counter(
            "bot_exchanger_errors",
            "Errors an exchanger call ended with after its retries, by API method and neutral error class.",
            ["platform", "method", "error"],
            registry=r,
        )
        self.orders_created = Counter(
            "bot_orders_created",
            "Orders the bot created at the exchanger and got the answer for (retries included).",
            ["platform"],
            registry=r,
        )
        self.orders_recovered = Counter(
            "bot_orders_recovered",
            "Orders whose creation had no clear answer, found afterwards (pending: at the customer's next "
            "visit; adopted: by the status tracker). Not counted in bot_orders_created.",
            ["platform", "how"],
            registry=r,
        )
        self.notifications = Counter(
            "bot_notifications",
            "Notification send attempts, by outcome (sent, retried, failed: dropped for good, "
            "skipped: nothing to send any more, e.g. a stopped broadcast).",
            ["outcome"],
            registry=r,
        )
        for outcome in NOTIFICATION_OUTCOMES:
            self.notifications.labels(outcome)
        self.telegram_rate_limited = Counter(
            "bot_telegram_rate_limited",
            "Bot API calls answered 429 (flood control), by Bot API method.",
            ["method"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "bot_outbox_pending", "Notifications queued and not sent yet (read at scrape time).", registry=r
        )
        self.tracker_lag = Gauge(
            "bot_tracker_lag_seconds",
            "Seconds since the status tracker last completed a cycle (since start when it has not yet).",
            registry=r,
        )
        self.tracker_lag.set_function(self._tracker_lag)
        self.exchanger_answer_age = Gauge(
            "bot_exchanger_last_answer_age_seconds",
            "Seconds since the exchanger last answered an HTTP request (NaN: not yet).",
            registry=r,
        )
        self.exchanger_answer_age.set_function(self._answer_age)
        self.errors = RecentErrors()
        self._observers: dict[str, ExchangerObserver] = {}
        self._started = time.monotonic()
        self._tracker_cycle: float | None = None
        self._last_answer: float | None = None

    # -- what the rest of the bot reports --------------------------------------------------------

    def exchanger(self, platform: str) -> ExchangerObserver:
        """The observer an adapter of ``platform`` reports its calls to."""
        observer = self._observers.get(platform)
        if observer is None:
            observer = self._observers[platform] = ExchangerObserver(self, platform)
        return observer

    def update_handled(self, update_type: str, seconds: float) -> None:
        self.updates.labels(update_type).inc()
        self.update_seconds.labels(update_type).observe(seconds)

    def order_created(self, platform: str) -> None:
        self.orders_created.labels(platform).inc()

    def order_recovered(self, platform: str, how: str) -> None:
        self.orders_recovered.labels(platform, how).inc()

    def notification(self, outcome: str) -> None:
        if outcome in NOTIFICATION_OUTCOMES:
            self.notifications.labels(outcome).inc()

    def tracker_cycle_done(self) -> None:
        self._tracker_cycle = time.monotonic()

    def note_exchanger_answer(self, platform: str) -> None:
        self._last_answer = time.monotonic()

    # -- what health and /admin read -------------------------------------------------------------

    def last_exchanger_answer(self) -> float | None:
        """``time.monotonic()`` of the exchanger's last answer; None when it has not answered yet."""
        return self._last_answer

    def recent_errors(self) -> list[ExchangerErrorRecord]:
        """The last exchanger errors (at most 50), newest last, secrets redacted."""
        return self.errors.list()

    def render(self, *, outbox_pending: int | None = None) -> bytes:
        """The Prometheus text exposition; ``outbox_pending`` is read by the caller (a query)."""
        if outbox_pending is not None:
            self.outbox_pending.set(outbox_pending)
        return generate_latest(self.registry)

    def _tracker_lag(self) -> float:
        return time.monotonic() - (self._tracker_cycle or self._started)

    def _answer_age(self) -> float:
        return float("nan") if self._last_answer is None else time.monotonic() - self._last_answer
