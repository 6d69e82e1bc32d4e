"""The sandbox's assets, pairs and floating-rate pricing (Decimal throughout).

Each asset has a USD price; a pair's rate is usd(from)/usd(to) less the service fee and the markup;
the payout network fee comes off the receive side. Every pair is bounded by USD 10 … 5,000
(``min``/``max`` in each side's units), and rates only move when a test calls ``set_usd``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal

__all__ = ["ASSETS", "Asset", "Market", "Quote"]

SERVICE_FEE_BPS = 50
PAIR_MIN_USD = Decimal(10)
PAIR_MAX_USD = Decimal(5000)
BPS = Decimal(10000)


@dataclass(frozen=True)
class Asset:
    code: str
    coin: str
    network: str
    name: str
    usd: Decimal
    precision: int
    network_fee: Decimal
    send: bool = True
    color: str = "#888888"

    def q(self, value: Decimal, rounding: str = ROUND_DOWN) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-self.precision), rounding=rounding)

    def wire(self) -> dict[str, object]:
        return {
            "code": self.code, "coin": self.coin, "network": self.network, "name": self.name,
            "recv": True, "send": self.send, "tag": None, "logo": None, "color": self.color,
            "minAmount": None, "maxAmount": None, "precision": self.precision,
        }  # fmt: skip


ASSETS: tuple[Asset, ...] = (
    Asset("btc", "BTC", "Bitcoin", "Bitcoin", Decimal("62450.12"), 8, Decimal("0.00002"), color="#f7931a"),
    Asset("eth", "ETH", "Ethereum", "Ethereum", Decimal("3100.50"), 8, Decimal("0.0005"), color="#627eea"),
    Asset("ltc", "LTC", "Litecoin", "Litecoin", Decimal("70.25"), 8, Decimal("0.001"), color="#345d9d"),
    Asset("usdt_trc20", "USDT", "Tron", "Tether", Decimal(1), 6, Decimal(1), color="#26a17b"),
    Asset("usdt_erc20", "USDT", "Ethereum", "Tether", Decimal(1), 6, Decimal(5), color="#26a17b"),
    Asset("sol", "SOL", "Solana", "Solana", Decimal("150.40"), 8, Decimal("0.001"), color="#14f195"),
    # Deposits only: never a receive side.
    Asset("dash", "DASH", "Dash", "Dash", Decimal("27.80"), 8, Decimal("0.001"), send=False),
)


@dataclass(frozen=True)
class Quote:
    give: Asset
    get: Asset
    from_amount: Decimal
    to_amount: Decimal
    rate: Decimal  # get units per 1 give unit, after fees
    markup_bps: int

    def within(self) -> bool:
        usd = self.from_amount * self.give.usd
        return PAIR_MIN_USD <= usd <= PAIR_MAX_USD


class Market:
    def __init__(self) -> None:
        self.assets = {a.code: a for a in ASSETS}
        self.usd = {a.code: a.usd for a in ASSETS}
        self.inactive: set[str] = set()  # asset codes switched off by the operator

    def set_usd(self, code: str, price: Decimal) -> None:
        self.usd[code] = price

    def active(self) -> list[Asset]:
        return [a for a in self.assets.values() if a.code not in self.inactive]

    def pairs(self) -> list[tuple[Asset, Asset]]:
        live = self.active()
        return [(a, b) for a in live for b in live if a.code != b.code]

    def pair(self, give: str, get: str) -> tuple[Asset, Asset] | None:
        a, b = self.assets.get(give), self.assets.get(get)
        if a is None or b is None or a.code == b.code or {give, get} & self.inactive:
            return None
        return a, b

    def rate(self, give: Asset, get: Asset, markup_bps: int) -> Decimal:
        gross = self.usd[give.code] / self.usd[get.code]
        return (gross * (BPS - SERVICE_FEE_BPS - markup_bps) / BPS).quantize(Decimal("1e-8"), ROUND_DOWN)

    def quote(self, give: Asset, get: Asset, amount: Decimal, side: str, markup_bps: int) -> Quote:
        rate = self.rate(give, get, markup_bps)
        if side == "from":
            from_amount = give.q(amount)
            to_amount = max(get.q(from_amount * rate - get.network_fee), Decimal(0))
        else:
            to_amount = get.q(amount)
            from_amount = give.q((to_amount + get.network_fee) / rate, ROUND_CEILING)
        return Quote(give, get, from_amount, to_amount, rate, markup_bps)

    def bounds(self, give: Asset, get: Asset, markup_bps: int) -> dict[str, Decimal]:
        rate = self.rate(give, get, markup_bps)
        low = give.q(PAIR_MIN_USD / self.usd[give.code], ROUND_CEILING)
        high = give.q(PAIR_MAX_USD / self.usd[give.code])
        return {
            "from_min": low,
            "from_max": high,
            "to_min": max(get.q(low * rate - get.network_fee, ROUND_CEILING), Decimal(0)),
            "to_max": get.q(high * rate - get.network_fee),
        }

    def price_data(self, q: Quote) -> dict[str, object]:
        b = self.bounds(q.give, q.get, q.markup_bps)
        errors = []
        if q.from_amount < b["from_min"]:
            errors.append("AMOUNT_TOO_LOW")
        elif q.from_amount > b["from_max"]:
            errors.append("AMOUNT_TOO_HIGH")
        back = (1 / q.rate).quantize(Decimal("1e-8"), ROUND_HALF_UP)
        usd = (q.from_amount * self.usd[q.give.code]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return {
            "from": {"code": q.give.code, "coin": q.give.coin, "network": q.give.network,
                     "amount": s(q.from_amount), "rate": s(q.rate), "precision": q.give.precision,
                     "min": s(b["from_min"]), "max": s(b["from_max"]), "usd": s(usd), "btc": "0"},
            "to": {"code": q.get.code, "coin": q.get.coin, "network": q.get.network,
                   "amount": s(q.to_amount), "rate": s(back), "precision": q.get.precision,
                   "min": s(b["to_min"]), "max": s(b["to_max"]),
                   "usd": s((q.to_amount * self.usd[q.get.code]).quantize(Decimal("0.01"), ROUND_HALF_UP))},
            "errors": errors,
            "markupBps": q.markup_bps,
        }  # fmt: skip


def s(value: Decimal) -> str:
    return format(value, "f")
