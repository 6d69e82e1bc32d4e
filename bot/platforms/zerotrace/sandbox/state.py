"""The 0trace sandbox's state and test controls, apart from serving it (server.py) and answering
(app.py), which both read and change it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from bot.platforms.zerotrace.sandbox.faults import FaultQueue
from bot.platforms.zerotrace.sandbox.keys import DEMO, Partner, fresh_partners
from bot.platforms.zerotrace.sandbox.market import Market
from bot.platforms.zerotrace.sandbox.orders import FINAL, Order, OrderBook
from bot.platforms.zerotrace.sandbox.pushes import WebhookSender

__all__ = ["ZeroTraceState"]


class ZeroTraceState:
    def __init__(
        self,
        step_seconds: float | None = 5.0,
        *,
        webhook_url: str | None = None,
        now: Callable[[], float] = time.time,
        budget: int = 2500,
        webhook_ladder: tuple[float, ...] = (1, 3, 10),
    ) -> None:
        self.step_seconds = step_seconds
        self.now = now
        self.budget = budget
        self.window = 60.0  # seconds of the sliding weight window
        self.rate_limited = 0  # code 5 answers given
        self.partners: dict[str, Partner] = fresh_partners()
        self.partners[DEMO.key].webhook_url = webhook_url
        self.market = Market()
        self.book = OrderBook(self.market, now, self._on_change)
        self.webhooks = WebhookSender(now, ladder=webhook_ladder)
        self.faults = FaultQueue()
        self.maintenance = False
        self.requests: Counter[str] = Counter()
        self.received: list[tuple[str, dict[str, str], bytes]] = []  # (endpoint, headers, body)
        self.nonces: dict[str, float] = {}
        self.spent: dict[str, list[tuple[float, int]]] = {}
        self.committing: dict[tuple[str, str], asyncio.Event] = {}
        self.created: list[str] = []  # order ids, in creation order
        self.replays = 0
        self.bad_signatures = 0
        self.reused_nonces = 0
        self.background: set[asyncio.Task] = set()
        self.url = ""
        self.running = False  # served: paid orders advance on their own
        self._auto: dict[str, asyncio.Task] = {}
        self._expiry: asyncio.Task | None = None

    @property
    def orders(self) -> dict[str, Order]:
        return self.book.orders

    def partner(self, key: str = DEMO.key) -> Partner:
        return self.partners[key]

    def set_webhook_url(self, url: str | None, key: str = DEMO.key) -> None:
        self.partners[key].webhook_url = url

    # -- controls ----------------------------------------------------------------------------------

    def advance(self, order_id: str) -> str:
        """One step on (see OrderBook.advance); returns the new status."""
        return self.book.advance(self.book.orders[order_id])

    def deposit(self, order_id: str, amount: Decimal | None = None) -> str:
        """A deposit arrives: the expected amount unless ``amount``; out of bounds → EMERGENCY."""
        order = self.book.orders[order_id]
        return self.book.deposit(order, order.quote.from_amount if amount is None else amount)

    def expire(self, order_id: str) -> str:
        order = self.book.orders[order_id]
        self.book.expire(order)
        return order.status

    def delete(self, order_id: str) -> None:
        """The customer soft-deletes the order: NOT_FOUND from now on, no more webhooks."""
        self.book.orders[order_id].deleted = True

    def orders_of(self, key: str = DEMO.key) -> list[Order]:
        return [o for o in self.book.orders.values() if o.partner == key]

    async def drain_webhooks(self, max_wait: float = 15.0) -> None:
        await self.webhooks.drain(max_wait)

    # -- status changes ----------------------------------------------------------------------------

    def _on_change(self, order: Order) -> None:
        partner = self.partners.get(order.partner)
        if partner is not None and partner.webhook_url:
            self.webhooks.send(partner.webhook_url, partner.webhook_secret, "order.status_changed", "order",
                               order.dto(int(self.now())))  # fmt: skip
        if order.status in ("PENDING", "EXCHANGE"):
            self._schedule(order)

    def on_choice(self, order: Order) -> None:
        self._schedule(order)

    def _schedule(self, order: Order) -> None:
        if self.step_seconds is None or not self.running or order.id in self._auto:
            return
        self._auto[order.id] = asyncio.get_running_loop().create_task(self._auto_advance(order))

    async def _auto_advance(self, order: Order) -> None:
        assert self.step_seconds is not None
        try:
            while order.status not in FINAL and (order.status != "EMERGENCY" or order.choice == "EXCHANGE"):
                await asyncio.sleep(self.step_seconds)
                if order.status in FINAL or (order.status == "EMERGENCY" and order.choice != "EXCHANGE"):
                    break
                self.book.advance(order)
        finally:
            if self._auto.get(order.id) is asyncio.current_task():
                del self._auto[order.id]

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(5)
            self.book.expire_due()
