"""The sandbox's partner data: months of referrals, partner exchanges, payouts and daily click counts
per partner account, generated from a seed, and the statistics computed from those very lists (so the
figures always agree with the lists).

Balance = accrued bonuses − paid − pending payouts. A bonus is accrued when its exchange completed;
open exchanges hold theirs (``hold``), cancelled ones reverse it (``reversed``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

__all__ = ["DAY", "Exchange", "PartnerAccount", "Payout", "Referral", "generate", "iso", "window_of"]

DAY = 86400
CENT = Decimal("0.01")
FIRST_NAMES = ("Artem", "Maria", "Ivan", "Olga", "Pavel", "Elena", "Dmitry", "Anna", "Sergey", "Irina")
LAST_NAMES = ("Titov", "Popova", "Smirnov", "Orlova", "Volkov", "Lebedeva", "Kozlov", "Novikova")
PAIRS = (
    ("TON", "USDT", Decimal("5.27")),
    ("BTC", "USDT", Decimal("67350")),
    ("USDT", "RUB", Decimal("96.4")),
    ("ETH", "USDT", Decimal("3480")),
    ("SBERRUB", "USDT", Decimal("0.0103")),
)
SYSTEMS = (("Tether TRC20", "USDT", "T"), ("Tether BEP20", "USDT", "0x"))
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def iso(unix_time: int, offset_hours: int = 0, *, z: bool = False) -> str:
    """ISO-8601 as a server writes it: ``+00:00``, another offset, or ``Z`` with fractions."""
    moment = datetime.fromtimestamp(unix_time, UTC)
    if z:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    return moment.astimezone(timezone(timedelta(hours=offset_hours))).isoformat(timespec="seconds")


@dataclass
class Referral:
    id: int
    client_id: int
    email: str
    name: str
    created_at: int
    exchanges_count: int = 0


@dataclass
class Exchange:
    id: int
    order_id: int
    client_id: int
    client_email: str
    status: str  # created, paid, processing, completed, cancelled
    amount_give: Decimal
    currency_give: str
    amount_receive: Decimal
    currency_receive: str
    bonus: Decimal
    bonus_currency: str
    bonus_status: str  # accrued, hold, reversed
    created_at: int
    completed_at: int | None = None

    @property
    def public_id(self) -> str:
        return f"EX-{self.order_id:06d}"

    @property
    def tracking_id(self) -> str:
        n, out = self.order_id * 7919, ""
        for _ in range(5):
            n, r = divmod(n, len(ALPHABET))
            out += ALPHABET[r]
        return "TRK" + out


@dataclass
class Payout:
    id: int
    status: str  # pending, paid, rejected
    amount: Decimal
    currency: str
    payment_system: str
    wallet: str
    created_at: int
    tx_id: str | None = None
    comment: str | None = None
    paid_at: int | None = None
    updated_at: int | None = None

    @property
    def public_id(self) -> str:
        return f"PO-{self.id:06d}"


@dataclass
class PartnerAccount:
    client_id: int
    status: str = "active"
    percent: Decimal = Decimal("0.8")
    referral_hash: str = "Gz"
    currency: str = "USDT"
    created_at: int = 0
    referrals: list[Referral] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    payouts: list[Payout] = field(default_factory=list)
    clicks: dict[int, int] = field(default_factory=dict)  # day start (UTC) → clicks that day

    @property
    def accrued(self) -> Decimal:
        return sum((e.bonus for e in self.exchanges if e.bonus_status == "accrued"), Decimal(0))

    def paid_out(self, *statuses: str) -> Decimal:
        return sum((p.amount for p in self.payouts if p.status in statuses), Decimal(0))

    @property
    def balance(self) -> Decimal:
        return self.accrued - self.paid_out("paid", "pending")

    def statistics(self, start: int, end: int) -> dict[str, object]:
        """Aggregates of the lists over ``start``..``end`` (inclusive), with a daily series."""
        days: dict[int, dict[str, object]] = {}
        day = start - start % DAY
        while day <= end:
            days[day] = {"clicks": 0, "registrations": 0, "exchanges": 0, "completed_exchanges": 0,
                         "accruals": Decimal(0)}  # fmt: skip
            day += DAY
        for day_start, count in self.clicks.items():
            if day_start in days:
                days[day_start]["clicks"] += count  # type: ignore[operator]
        for r in self.referrals:
            if start <= r.created_at <= end:
                days[r.created_at - r.created_at % DAY]["registrations"] += 1  # type: ignore[operator]
        for e in self.exchanges:
            if start <= e.created_at <= end:
                point = days[e.created_at - e.created_at % DAY]
                point["exchanges"] += 1  # type: ignore[operator]
                if e.status == "completed":
                    point["completed_exchanges"] += 1  # type: ignore[operator]
                if e.bonus_status == "accrued":
                    point["accruals"] += e.bonus  # type: ignore[operator]
        totals = {name: sum(p[name] for p in days.values()) for name in next(iter(days.values()))}  # type: ignore[misc]
        series = [
            {"date": datetime.fromtimestamp(d, UTC).date().isoformat(), **p} for d, p in sorted(days.items())
        ]
        return {**totals, "series": series}


def window_of(period: str, now: int) -> tuple[int, int]:
    """The sandbox's windows: today (UTC, from midnight), the last 7 and the last 30 calendar days."""
    today = now - now % DAY
    back = {"day": 0, "week": 6, "month": 29}[period]
    return today - back * DAY, now


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def generate(client_id: int, now: int, seed: int, *, days: int = 120) -> PartnerAccount:
    """A partner with ``days`` of history up to ``now``: ~1 registration and ~3 exchanges a day, a
    payout every ~10 days (older ones paid, one rejected, the latest pending)."""
    rng = random.Random(seed * 1000 + client_id)
    start = now - days * DAY
    account = PartnerAccount(client_id=client_id, created_at=start - 3 * DAY)
    today = now - now % DAY
    next_referral_id, next_exchange_id, next_order, next_client = 5001, 31001, 1201, 96001
    for n in range(days + 1):
        day = today - (days - n) * DAY
        account.clicks[day] = rng.randint(4, 45)
        for _ in range(rng.choice((0, 1, 1, 2))):
            created = day + rng.randint(0, DAY - 1)
            if created > now:
                continue
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            account.referrals.append(
                Referral(
                    id=next_referral_id,
                    client_id=next_client,
                    email=f"{first.lower()}.{last.lower()}{next_client % 1000}@example.net",
                    name=f"{first} {last}",
                    created_at=created,
                )
            )
            next_referral_id += 1
            next_client += 1
        known = [r for r in account.referrals if r.created_at < day + DAY]
        if not known:
            continue
        for _ in range(rng.randint(1, 5)):
            created = day + rng.randint(0, DAY - 1)
            who = rng.choice(known[-25:])  # recent clients exchange more
            if created > now or created < who.created_at:
                continue
            give, receive, rate = rng.choice(PAIRS)
            amount_receive = _money(Decimal(rng.randint(2000, 60000)) / 100)
            amount_give = (amount_receive / rate).quantize(Decimal("0.0001"))
            age = now - created
            if age < 2 * 3600:
                status = rng.choice(("created", "paid", "processing"))
            else:
                status = "cancelled" if rng.random() < 0.12 else "completed"
            bonus_base = amount_receive if receive == "USDT" else amount_receive / Decimal("96.4")
            bonus = _money(bonus_base * account.percent / 100) or CENT
            who.exchanges_count += 1
            account.exchanges.append(
                Exchange(
                    id=next_exchange_id,
                    order_id=next_order,
                    client_id=who.client_id,
                    client_email=who.email,
                    status=status,
                    amount_give=amount_give,
                    currency_give=give,
                    amount_receive=amount_receive,
                    currency_receive=receive,
                    bonus=bonus,
                    bonus_currency="USDT",
                    bonus_status={"completed": "accrued", "cancelled": "reversed"}.get(status, "hold"),
                    created_at=created,
                    completed_at=created + rng.randint(300, 3000) if status == "completed" else None,
                )
            )
            next_exchange_id += 1
            next_order += 1
    _add_payouts(account, rng, start, now)
    return account


def _add_payouts(account: PartnerAccount, rng: random.Random, start: int, now: int) -> None:
    payout_id = 201
    moment = start + 12 * DAY
    while moment < now - DAY:
        earned = [e.bonus for e in account.exchanges if e.bonus_status == "accrued" and e.created_at < moment]
        accrued = sum(earned, Decimal(0))
        available = accrued - account.paid_out("paid", "pending")
        if available > 5:
            system, currency, prefix = rng.choice(SYSTEMS)
            wallet = prefix + "".join(rng.choice(ALPHABET) for _ in range(33 if prefix == "T" else 40))
            recent = moment > now - 12 * DAY
            status = "pending" if recent else ("rejected" if payout_id == 204 else "paid")
            payout = Payout(
                id=payout_id,
                status=status,
                amount=_money(available * Decimal("0.7")),
                currency=currency,
                payment_system=system,
                wallet=wallet,
                created_at=moment,
                updated_at=moment,
            )
            if status == "paid":
                payout.paid_at = payout.updated_at = moment + rng.randint(3600, 20 * 3600)
                payout.tx_id = f"{rng.getrandbits(256):064x}"
            elif status == "rejected":
                payout.comment = "Wallet network does not match the payment system"
                payout.updated_at = moment + 7200
            account.payouts.append(payout)
            payout_id += 1
        moment += rng.randint(8, 12) * DAY
    if not any(p.status == "pending" for p in account.payouts):
        available = account.balance
        if available > 1:
            account.payouts.append(
                Payout(payout_id, "pending", _money(available / 2), "USDT", "Tether TRC20",
                       "T" + "".join(rng.choice(ALPHABET) for _ in range(33)), now - 3600,
                       updated_at=now - 3600)
            )  # fmt: skip


def payout_json(p: Payout) -> dict[str, Any]:
    return {"id": p.id, "public_id": p.public_id, "status": p.status, "amount": p.amount,
            "currency": p.currency,
            "payment_system": p.payment_system, "wallet": p.wallet, "tx_id": p.tx_id, "comment": p.comment,
            "created_at": iso(p.created_at, z=True), "paid_at": iso(p.paid_at, z=True) if p.paid_at else None,
            "updated_at": iso(p.updated_at or p.created_at, z=True)}  # fmt: skip
