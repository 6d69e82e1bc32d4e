"""The sandbox's orders: creation under an Idempotency-Key, the one-time token, the state machine.

NEW ─deposit in bounds→ PENDING → EXCHANGE → DONE; NEW ─window closes→ EXPIRED;
NEW/PENDING ─deposit outside the bounds→ EMERGENCY ─choice EXCHANGE→ EXCHANGE (re-quoted at the live
rate) or ─operator→ EXPIRED (deposit returned to the refund address). DONE and EXPIRED are final.
Only a hash of the token is kept; a replay of the same key and body returns the order with ``token: null``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from bot.platforms.zerotrace.sandbox.market import PAIR_MAX_USD, PAIR_MIN_USD, Market, Quote, s

__all__ = ["DEPOSIT_WINDOW", "FINAL", "Order", "OrderBook"]

DEPOSIT_WINDOW = 1800
FINAL = frozenset({"DONE", "EXPIRED"})
_NEXT = {"NEW": "PENDING", "PENDING": "EXCHANGE", "EXCHANGE": "DONE"}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _tx() -> str:
    return secrets.token_hex(32)


@dataclass
class Order:
    id: str
    partner: str
    code: str | None
    quote: Quote
    to_address: str
    refund_address: str
    token_hash: str
    reg: int
    status: str = "NEW"
    update: int = 0
    finish: int | None = None
    deposit_tx: str | None = None
    deposit_amount: Decimal | None = None
    payout_tx: str | None = None
    payout_amount: Decimal | None = None
    refund_tx: str | None = None
    emergency: list[str] = field(default_factory=list)
    choice: str = "NONE"
    deleted: bool = False
    payin_address: str = ""
    to_amount: Decimal = Decimal(0)
    rate: Decimal = Decimal(0)

    def dto(self, now: int) -> dict[str, object]:
        q = self.quote
        expiration = self.reg + DEPOSIT_WINDOW
        return {
            "id": self.id, "type": "float", "status": self.status,
            "time": {"reg": self.reg, "expiration": expiration, "left": max(expiration - now, 0),
                     "update": self.update, "finish": self.finish},
            "from": {"code": q.give.code, "network": q.give.network, "amount": s(q.from_amount),
                     "address": self.payin_address,
                     "tx": {"id": self.deposit_tx,
                            "amount": s(self.deposit_amount) if self.deposit_amount is not None else None}},
            "to": {"code": q.get.code, "network": q.get.network, "amount": s(self.to_amount),
                   "address": self.to_address,
                   "tx": {"id": self.payout_tx,
                          "amount": s(self.payout_amount) if self.payout_amount is not None else None}},
            "back": {"address": self.refund_address, "tx": {"id": self.refund_tx}},
            "emergency": {"status": list(self.emergency), "choice": self.choice},
            "rate": s(self.rate), "networkFee": s(q.get.network_fee), "markupBps": q.markup_bps,
        }  # fmt: skip


class OrderBook:
    def __init__(self, market: Market, now: Callable[[], float], on_change: Callable[[Order], None]) -> None:
        self.market = market
        self.now = now
        self.on_change = on_change
        self.orders: dict[str, Order] = {}
        # (partner key, Idempotency-Key) → (exact body bytes, order id)
        self.keys: dict[tuple[str, str], tuple[bytes, str]] = {}

    def create(
        self, partner: str, code: str | None, quote: Quote, to_address: str, refund: str
    ) -> tuple[Order, str]:
        token = secrets.token_urlsafe(32)  # 43 characters
        now = int(self.now())
        order = Order(
            id=str(uuid.uuid4()), partner=partner, code=code, quote=quote, to_address=to_address,
            refund_address=refund, token_hash=_hash(token), reg=now, update=now,
            payin_address=_payin(quote.give.network), to_amount=quote.to_amount, rate=quote.rate,
        )  # fmt: skip
        self.orders[order.id] = order
        return order, token

    def reach(self, partner: str, order_id: object, token: object) -> Order | None:
        """The order for a (id, token) of this partner, or None (every failure looks the same)."""
        if not isinstance(order_id, str) or not isinstance(token, str):
            return None
        order = self.orders.get(order_id)
        if order is None or order.partner != partner or order.deleted:
            return None
        return order if hmac.compare_digest(order.token_hash, _hash(token)) else None

    # -- the state machine -------------------------------------------------------------------------

    def _set(self, order: Order, status: str) -> None:
        if order.status == status:
            return
        order.status = status
        order.update = int(self.now())
        if not order.deleted:
            self.on_change(order)

    def advance(self, order: Order) -> str:
        """One step on: NEW pays the exact amount; EMERGENCY continues when chosen, else the operator
        settles it (EXPIRED, refunded)."""
        if order.status == "NEW":
            self.deposit(order, order.quote.from_amount)
        elif order.status == "EMERGENCY":
            if order.choice == "EXCHANGE":
                self._continue(order)
            else:
                order.refund_tx = _tx()
                self._set(order, "EXPIRED")
        elif order.status in _NEXT:
            if _NEXT[order.status] == "DONE":
                order.payout_tx, order.payout_amount = _tx(), order.to_amount
                order.finish = int(self.now())
            self._set(order, _NEXT[order.status])
        return order.status

    def deposit(self, order: Order, amount: Decimal) -> str:
        """A deposit seen on-chain: in the pair's bounds (and the expected amount) → PENDING, otherwise
        EMERGENCY with reason LIMIT."""
        if order.status not in ("NEW", "PENDING") or order.deposit_tx is not None:
            return order.status
        order.deposit_tx, order.deposit_amount = _tx(), amount
        usd = amount * self.market.usd[order.quote.give.code]
        if amount != order.quote.from_amount or not PAIR_MIN_USD <= usd <= PAIR_MAX_USD:
            order.emergency = ["LIMIT"]
            self._set(order, "EMERGENCY")
        else:
            self._set(order, "PENDING")
        return order.status

    def choose(self, order: Order) -> None:
        order.choice = "EXCHANGE"

    def _continue(self, order: Order) -> None:
        q = order.quote
        assert order.deposit_amount is not None
        live = self.market.quote(q.give, q.get, order.deposit_amount, "from", q.markup_bps)
        order.to_amount, order.rate = live.to_amount, live.rate
        order.emergency = []
        self._set(order, "EXCHANGE")

    def expire(self, order: Order) -> None:
        if order.status not in FINAL:
            if order.status == "EMERGENCY":
                order.refund_tx = _tx()
            self._set(order, "EXPIRED")

    def expire_due(self) -> None:
        now = self.now()
        for order in list(self.orders.values()):
            if order.status == "NEW" and now >= order.reg + DEPOSIT_WINDOW:
                self._set(order, "EXPIRED")


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _payin(network: str) -> str:
    if network == "Bitcoin":
        return "bc1q" + "".join(secrets.choice("023456789acdefghjklmnpqrstuvwxyz") for _ in range(38))
    if network == "Ethereum":
        return "0x" + secrets.token_hex(20)
    if network == "Tron":
        return "T" + "".join(secrets.choice(_B58) for _ in range(33))
    if network == "Litecoin":
        return "ltc1q" + "".join(secrets.choice("023456789acdefghjklmnpqrstuvwxyz") for _ in range(38))
    return "".join(secrets.choice(_B58) for _ in range(44))
