"""The sandbox's referral exchanges, per partner key, and how each is written on the wire.

Rows are kept structured (the truth tests compare with) and rendered with the quirks of the reference
page: ``id`` mostly a number and sometimes a string, amounts as 8-decimal strings and sometimes JSON
numbers or junk, ``completed_at`` of an incomplete exchange ``null``, missing or ``0``, and
``transition_query_params`` as an object, PHP's ``[]``, ``{}``, ``null`` or absent, with Cyrillic,
HTML-like, long and nested values.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["MISSING", "PartnerBook", "Row"]

DAY = 86400


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # a key left out of the JSON

PAIRS = (
    ("USDTTRC20", "BTC"), ("BTC", "USDTTRC20"), ("SBERRUB", "USDTTRC20"), ("USDTTRC20", "CARDUAH"),
    ("ETH", "SBERRUB"), ("TINKOFFRUB", "BTC"), ("USDTERC20", "ETH"), ("BTC", "SBERRUB"),
)  # fmt: skip
REWARD_CURRENCIES = (("USDT", 70), ("RUB", 20), ("BTC", 10))
SOURCES = ("telegram", "youtube", "vk", "instagram", "bestchange")
CAMPAIGNS = ("spring", "crypto_exchange_promo", "весна_2024", "black_friday", "<b>promo</b>&x=1")


@dataclass
class Row:
    id: int | str | None
    created_at: int | None
    is_completed: bool
    completed_at: int | None
    currency_in: str
    currency_out: str
    amount: Any  # as written: a decimal string, a number marker, junk
    reward: str
    reward_currency: str
    params: Any  # dict, [], None or MISSING
    type: str = "referral_exchange"
    incomplete_time: Any = None  # how completed_at is written while not completed: None, MISSING or 0
    completed_as_int: bool = False  # is_completed written as 0/1

    @property
    def key(self) -> str:
        return str(self.id)

    @property
    def counted(self) -> bool:
        """What a correct client keeps: referral exchanges with an id."""
        return self.type == "referral_exchange" and self.id is not None

    def reward_decimal(self) -> Decimal:
        return Decimal(self.reward)

    def attributes(self) -> dict[str, Any]:
        completed: Any = int(self.is_completed) if self.completed_as_int else self.is_completed
        values: dict[str, Any] = {
            "is_completed": completed,
            "completed_at": self.completed_at if self.is_completed else self.incomplete_time,
            "created_at": self.created_at if self.created_at is not None else MISSING,
            "exchange_currency_in": self.currency_in,
            "exchange_currency_out": self.currency_out,
            "exchange_amount": self.amount,
            "referral_reward": self.reward,
            "referral_reward_base_currency": self.reward_currency,
            "transition_query_params": self.params,
        }
        return {k: v for k, v in values.items() if v is not MISSING}

    def wire(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "attributes": self.attributes()}


@dataclass
class Account:
    rid: str
    rows: list[Row] = field(default_factory=list)
    next_id: int = 1611000


def _params(rng: random.Random, n: int) -> Any:
    odd = n % 37
    if odd == 1:
        return []  # PHP's empty array
    if odd == 2:
        return {}
    if odd == 3:
        return None
    if odd == 4:
        return MISSING
    if odd == 5:
        return {"utm_source": "telegram", "a": ["1", "2"], "f": {"x": "1"}}  # a[]=1&a[]=2, f[x]=1
    if odd == 6:
        return {"utm_source": "telegram", "utm_campaign": "Ж" * 300}  # a very long value
    if odd == 7:
        return {"utm_campaign": "spring", "rid": "1101"}  # the rid echoed: not a dimension
    if rng.random() < 0.12:
        return {"pid": str(rng.choice((1101231, 1101232)))}
    params = {
        "utm_source": rng.choice(SOURCES),
        "utm_medium": "referral",
        "utm_campaign": rng.choice(CAMPAIGNS),
    }
    if rng.random() < 0.4:
        params["utm_content"] = rng.choice(("banner_usdt_to_btc", "post", "story"))
    if rng.random() < 0.3:
        params["pid"] = str(rng.choice((1101231, 1101232, 1101233)))
    return params


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _w in choices], weights=[w for _c, w in choices])[0]


def _reward(rng: random.Random, currency: str) -> str:
    if currency == "BTC":
        return f"{Decimal(rng.randint(1000, 90000)) / Decimal(10**8):.8f}"
    if currency == "RUB":
        return f"{Decimal(rng.randint(5000, 250000)) / Decimal(100):.8f}"
    return f"{Decimal(rng.randint(50, 5000)) / Decimal(100):.8f}"


class PartnerBook:
    """Every partner's rows. ``generate`` seeds a history; ``add``/``complete``/``delete`` change it."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.accounts: dict[str, Account] = {}
        self.version = 0  # bumped on every change (the server caches its listing per version)

    def open(self, key: str, rid: str) -> Account:
        return self.accounts.setdefault(key, Account(rid))

    def generate(
        self, key: str, rid: str, count: int, now: int, *, days: int = 90, quirks: bool = True
    ) -> None:
        """``count`` exchanges spread over the last ``days`` days (with the wire's odd cases when
        ``quirks``): about 80 % completed within two hours of creation."""
        account = self.open(key, rid)
        rng = self.rng
        times = sorted(now - rng.randint(60, days * DAY) for _ in range(count))
        for n, created in enumerate(times):
            self.add(key, created_at=created, completed=rng.random() < 0.8, now=now, n=n if quirks else 0)
        if quirks and count >= 40:
            row = account.rows[count // 2]
            row.created_at = None  # counts in all-time totals only
            account.rows.append(Row(None, now - DAY, True, now - DAY, "BTC", "ETH", "1", "1", "USDT", []))
            other = Row(account.next_id, now - DAY, True, now - DAY, "BTC", "ETH", "1", "1", "USDT", [])
            other.type = "referral_payout"  # another type: skipped
            account.next_id += 1
            account.rows.append(other)
            self.version += 1

    def add(
        self, key: str, *, created_at: int, completed: bool = False, now: int | None = None, n: int = 0,
        reward: str | None = None, reward_currency: str | None = None, params: Any = None,
    ) -> Row:  # fmt: skip
        account = self.accounts[key]
        rng = self.rng
        currency_in, currency_out = rng.choice(PAIRS)
        reward_currency = reward_currency or _weighted(rng, REWARD_CURRENCIES)
        amount: Any = f"{Decimal(rng.randint(100, 10**7)) / Decimal(10**5):.8f}"
        if n and n % 53 == 1:
            amount = f"__NUM__{amount}"  # a JSON number (with a fraction)
        elif n and n % 53 == 2:
            amount = rng.randint(10, 5000)  # a JSON integer
        elif n and n % 97 == 3:
            amount = "n/a"  # junk: kept as "no amount"
        completed_at = None
        if completed:
            completed_at = created_at + rng.randint(300, 7200)
            if now is not None:
                completed_at = min(completed_at, now)
        row_id: int | str = account.next_id
        if n and n % 41 == 5:
            row_id = str(row_id)  # a string id
        account.next_id += 1
        row = Row(
            id=row_id,
            created_at=created_at,
            is_completed=completed,
            completed_at=completed_at,
            currency_in=currency_in,
            currency_out=currency_out,
            amount=amount,
            reward=reward or _reward(rng, reward_currency),
            reward_currency=reward_currency,
            params=params if params is not None else (_params(rng, n) if n else _plain_params(rng)),
            incomplete_time=(None, MISSING, 0)[n % 3],
            completed_as_int=bool(n) and n % 61 == 7,
        )
        if not completed and rng.random() < 0.5:
            row.reward = "0.00000000"  # the reward of an incomplete exchange: unknown, often 0
        account.rows.append(row)
        self.version += 1
        return row

    def complete(self, key: str, row_id: str, at: int) -> Row:
        row = self.find(key, row_id)
        row.is_completed, row.completed_at = True, at
        if Decimal(row.reward) == 0:
            row.reward = _reward(self.rng, row.reward_currency)
        self.version += 1
        return row

    def delete(self, key: str, row_id: str) -> None:
        account = self.accounts[key]
        account.rows = [r for r in account.rows if r.key != row_id]
        self.version += 1

    def find(self, key: str, row_id: str) -> Row:
        return next(r for r in self.accounts[key].rows if r.key == row_id)

    def counted(self, key: str) -> list[Row]:
        return [r for r in self.accounts[key].rows if r.counted]


def _plain_params(rng: random.Random) -> Any:
    return {"utm_source": rng.choice(SOURCES), "utm_campaign": rng.choice(CAMPAIGNS)}
