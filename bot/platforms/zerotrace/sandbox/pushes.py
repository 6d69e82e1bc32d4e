"""Signed webhook deliveries, as 0trace sends them.

One POST per event to the partner's ``webhookUrl``: headers ``X-Partner-Webhook-Event``,
``X-Partner-Webhook-Timestamp`` (unix seconds at sending) and ``X-Partner-Webhook-Sign`` (hex
HMAC-SHA256 of the raw body with the partner's webhook secret). A non-2xx answer or no answer within
``timeout`` (10 s) is retried on ``ladder`` (seconds); retries run on their own, so an earlier event
can arrive after a later one. Every attempt is recorded in ``records``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

__all__ = ["Delivery", "WebhookSender"]


@dataclass
class Delivery:
    url: str
    event: str
    body: bytes
    secret: str
    attempt: int = 0
    ok: bool = False
    status: int | None = None
    error: str = ""
    sent_at: int = 0

    def headers(self, timestamp: int) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Partner-Webhook-Event": self.event,
            "X-Partner-Webhook-Timestamp": str(timestamp),
            "X-Partner-Webhook-Sign": hmac.new(self.secret.encode(), self.body, hashlib.sha256).hexdigest(),
        }


class WebhookSender:
    def __init__(
        self,
        now: Callable[[], float] = time.time,
        *,
        timeout: float = 10.0,
        ladder: tuple[float, ...] = (1, 3, 10),
    ) -> None:
        self.now = now
        self.timeout = timeout
        self.ladder = ladder
        self.records: list[Delivery] = []
        self.resumed = asyncio.Event()  # cleared by tests to hold deliveries (queued, not sent)
        self.resumed.set()
        self._queue: asyncio.Queue[Delivery] | None = None
        self._task: asyncio.Task | None = None
        self._retries: set[asyncio.Task] = set()
        self._session: aiohttp.ClientSession | None = None
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="0trace-sandbox-webhooks")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._retries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def send(self, url: str, secret: str, event: str, resource: str, payload: dict) -> None:
        body = json.dumps(
            {"event": event, resource: payload, "ts": int(self.now() * 1000)}, separators=(",", ":")
        ).encode()
        self.enqueue(Delivery(url, event, body, secret))

    def enqueue(self, delivery: Delivery) -> None:
        if self._queue is None:
            delivery.error = "sandbox not running"
            self.records.append(delivery)
            return
        self._pending += 1
        self._idle.clear()
        self._queue.put_nowait(delivery)

    async def drain(self, max_wait: float = 15.0) -> None:
        """Wait until every queued delivery (retries included) is finished."""
        await asyncio.wait_for(self._idle.wait(), max_wait)

    def _done(self) -> None:
        self._pending -= 1
        if self._pending <= 0:
            self._pending = 0
            self._idle.set()

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            delivery = await self._queue.get()
            await self.resumed.wait()
            await self._attempt(delivery)

    async def _attempt(self, delivery: Delivery) -> None:
        assert self._session is not None
        sent_at = int(self.now())
        record = Delivery(delivery.url, delivery.event, delivery.body, delivery.secret, delivery.attempt,
                          sent_at=sent_at)  # fmt: skip
        try:
            async with self._session.post(
                delivery.url, data=delivery.body, headers=delivery.headers(sent_at),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:  # fmt: skip
                await response.read()
                record.status, record.ok = response.status, 200 <= response.status < 300
        except (TimeoutError, aiohttp.ClientError) as exc:
            record.error = type(exc).__name__
        self.records.append(record)
        if record.ok or delivery.attempt >= len(self.ladder):
            self._done()
            return
        delay = self.ladder[delivery.attempt]
        delivery.attempt += 1
        task = asyncio.create_task(self._later(delivery, delay))
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _later(self, delivery: Delivery, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._attempt(delivery)
