"""Decimal helpers: parsing form amounts, rounding, and rendering amounts the way PHP prints them.

Rounding rule used everywhere in the sandbox: each side is rounded to its currency's `decimals`
with ROUND_HALF_UP. Rendered amounts drop trailing zeros ("10000", "105.2"), never use exponents.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


def D(value: str | int | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def parse_amount(raw: str | None) -> Decimal:
    """A form amount: "1 000,5" -> 1000.5; junk, NaN, infinities and negatives -> 0."""
    if raw is None:
        return ZERO
    text = raw.strip().replace(" ", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return ZERO
    if not value.is_finite() or value < 0:
        return ZERO
    return value


def quantize(value: Decimal, decimals: int) -> Decimal:
    with localcontext() as ctx:  # a huge typed amount must not overflow the default 28 digits
        ctx.prec = max(ctx.prec, value.adjusted() + decimals + 2)
        return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """PHP-like number string: no trailing zeros, no exponent, "0" for zero."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text
