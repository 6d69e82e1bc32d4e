"""The exchange calculator behind get_direction, get_calc and create_bid.

Model (all Decimal, each side rounded to its currency's decimals with ROUND_HALF_UP):
  sum_get      = sum_give * course_get / course_give
  sum_give_com = sum_give * (1 + give%/100) + give_fixed          (what the client pays)
  sum_get_com  = sum_get * (1 - get%/100) - get_fixed - cd fees   (what the client receives, >= 0)
calc_action 1 takes calc_amount as sum_give, 2 as sum_get, 3 as sum_give_com, 4 as sum_get_com; any
other value is treated as 1. Invalid, negative or empty amounts count as 0.
Limits are checked on sum_give (min_give/max_give) and then on sum_get (min_get/max_get). An amount
outside a limit is clamped to it and everything recomputed, with changed = 1. A zero amount on a
direction without a minimum gives an all-zero quote with changed = 0.
cd: the form value is url-decoded once more and parsed as a query string (PHP urldecode+parse_str);
missing cd selects count as their first option.
"""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qsl, unquote_plus

from bot.platforms.premiumexchanger.sandbox.catalogue import Commission, Currency, Direction
from bot.platforms.premiumexchanger.sandbox.money import HUNDRED, ONE, ZERO, fmt, quantize


@dataclass(frozen=True)
class Quote:
    sum_give: Decimal
    sum_give_com: Decimal
    sum_get: Decimal
    sum_get_com: Decimal
    changed: bool
    violated: str | None  # min_give | max_give | min_get | max_get | None
    get_fee: Decimal


def parse_cd(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    return dict(parse_qsl(unquote_plus(raw), keep_blank_values=True))


def cd_fee(direction: Direction, values: dict[str, str]) -> Decimal:
    total = ZERO
    for name, fees in direction.cd_fees.items():
        descriptor = next((f for f in direction.all_fields if f.name == name), None)
        key = values.get(name) or (descriptor.default_option() if descriptor else None)
        total += fees.get(key or "", ZERO)
    return total


def quote(direction: Direction, amount: Decimal, action: int, cd_values: dict[str, str]) -> Quote:
    give, get = direction.give, direction.get
    rate = direction.course_get / direction.course_give
    pg, fg = direction.com_give.percent / HUNDRED, direction.com_give.fixed
    pr, fr = direction.com_get.percent / HUNDRED, direction.com_get.fixed + cd_fee(direction, cd_values)

    def qg(v: Decimal) -> Decimal:
        return quantize(max(v, ZERO), give.decimals)

    def qr(v: Decimal) -> Decimal:
        return quantize(max(v, ZERO), get.decimals)

    def from_give(g: Decimal) -> tuple[Decimal, Decimal]:
        g = qg(g)
        return g, qr(g * rate)

    def from_get(x: Decimal) -> tuple[Decimal, Decimal]:
        x = qr(x)
        return qg(x / rate), x

    if action == 2:
        g, x = from_get(amount)
    elif action == 3:
        g, x = from_give((amount - fg) / (ONE + pg) if amount > 0 else ZERO)
    elif action == 4:
        g, x = from_get((amount + fr) / (ONE - pr) if amount > 0 else ZERO)
    else:
        g, x = from_give(amount)

    violated = None
    if direction.min_give is not None and g < direction.min_give:
        violated, (g, x) = "min_give", from_give(direction.min_give)
    elif direction.max_give is not None and g > direction.max_give:
        violated, (g, x) = "max_give", from_give(direction.max_give)
    if direction.min_get is not None and x < direction.min_get:
        violated = violated or "min_get"
        g, x = from_get(direction.min_get)
    elif direction.max_get is not None and x > direction.max_get:
        violated = violated or "max_get"
        g, x = from_get(direction.max_get)

    give_com = qg(g * (ONE + pg) + fg) if g > 0 else ZERO
    get_com = qr(x * (ONE - pr) - fr) if x > 0 else ZERO
    return Quote(g, give_com, x, get_com, violated is not None, violated, fr)


def _limit(value: Decimal | None) -> str:
    return "no" if value is None else fmt(value)


def commission_text(com: Commission, extra_fixed: Decimal, currency: Currency, lang: str) -> str:
    parts = []
    if com.percent:
        parts.append(f"{fmt(com.percent)}%")
    if com.fixed + extra_fixed:
        parts.append(f"{fmt(com.fixed + extra_fixed)} {currency.code}")
    if not parts:
        return ""
    label = "Комиссия" if lang == "ru" else "Commission"
    return f'<span class="dir_com">{label}: {" + ".join(parts)}</span>'


def quote_fields(direction: Direction, q: Quote, lang: str) -> dict:
    """The quote part shared by get_direction and get_calc."""
    extra = q.get_fee - direction.com_get.fixed
    return {
        "currency_code_give": direction.give.code,
        "currency_code_get": direction.get.code,
        "reserve": fmt(direction.get.reserve),
        "course_give": fmt(direction.course_give),
        "course_get": fmt(direction.course_get),
        "sum_give": fmt(q.sum_give),
        "sum_give_com": fmt(q.sum_give_com),
        "sum_get": fmt(q.sum_get),
        "sum_get_com": fmt(q.sum_get_com),
        "com_give": commission_text(direction.com_give, ZERO, direction.give, lang),
        "com_get": commission_text(direction.com_get, extra, direction.get, lang),
        "min_give": _limit(direction.min_give),
        "max_give": _limit(direction.max_give),
        "min_get": _limit(direction.min_get),
        "max_get": _limit(direction.max_get),
    }
