"""Decimal money helpers shared by the whole project.

Money never passes through ``float``: amounts come from the exchanger as strings or ints (JSON numbers
with a fraction are parsed with ``parse_float=Decimal``) and from users as text.

Display rules (:func:`format_amount`):

* fiat (RUB, USD, EUR, UAH, KZT, ...) and dollar stablecoins (USDT, USDC, ...): exactly 2 decimals;
* crypto (BTC, ETH, ...): up to 8 decimals, trailing zeros trimmed, no minimum (``1``, ``0.5``);
* unknown codes: up to 8 decimals, trailing zeros trimmed;
* thousands are grouped with a narrow no-break space (U+202F), so a number never wraps in a message;
* never scientific notation.

``exact=True`` never hides digits the value has (up to 8 decimals): use it for the amount a
customer has to send, where rounding could make them pay too little.
"""

from __future__ import annotations

import html
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

__all__ = [
    "MAX_USER_DECIMALS",
    "THOUSANDS_SEPARATOR",
    "AmountError",
    "AmountErrorReason",
    "currency_decimals",
    "format_amount",
    "format_money",
    "format_plain",
    "parse_decimal",
    "parse_user_amount",
]

MAX_USER_DECIMALS = 8
THOUSANDS_SEPARATOR = "\u202f"

_FIAT = frozenset(
    {
        "RUB", "USD", "EUR", "UAH", "KZT", "BYN", "GBP", "CNY", "TRY", "UZS", "AZN", "GEL", "KGS",
        "AMD", "TJS", "MDL", "PLN", "CZK", "CHF", "JPY", "INR", "THB", "AED", "CAD", "AUD", "VND",
        "IDR", "BRL", "ARS", "MXN", "NGN", "KRW", "ILS", "SEK", "NOK", "DKK", "HUF", "RON", "BGN",
    }
)  # fmt: skip
_STABLECOIN_PREFIXES = ("USDT", "USDC", "BUSD", "TUSD", "USDP", "FDUSD", "DAI", "PYUSD")
_CRYPTO_8 = frozenset(
    {
        "BTC", "ETH", "LTC", "BCH", "XMR", "DASH", "ZEC", "DOGE", "ETC", "BNB", "SOL", "TRX", "TON",
        "XRP", "ADA", "DOT", "MATIC", "POL", "AVAX", "XLM", "ATOM", "LINK", "NEAR", "BSV", "WBTC",
    }
)  # fmt: skip

_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f\u200a\u2008\u2006\u2005\u2004\u2003\u2002\u205f']")
_MINUSES = "-\u2212\u2012\u2013\u2014"
_GROUPED = re.compile(r"^\d{1,3}(?:X\d{3})+$")


def parse_decimal(value: object) -> Decimal:
    """A wire value (``str``, ``int`` or ``Decimal``) as a finite Decimal. Floats are refused."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty amount")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not a number: {text[:40]!r}") from None
    elif isinstance(value, float):
        raise ValueError("float amounts are not accepted: parse JSON with parse_float=Decimal")
    else:
        raise ValueError(f"cannot read an amount from {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("amount is not finite")
    return result


def format_plain(amount: Decimal) -> str:
    """An amount for the wire: no exponent, no trailing fractional zeros (``1E+2`` → ``100``)."""
    amount = parse_decimal(amount)
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class AmountErrorReason(StrEnum):
    EMPTY = "empty"
    NOT_A_NUMBER = "not_a_number"
    ZERO = "zero"
    NEGATIVE = "negative"
    SCIENTIFIC = "scientific"
    TOO_MANY_DECIMALS = "too_many_decimals"


class AmountError(ValueError):
    """A user-typed amount that cannot be used; ``reason`` says why (for a localized message)."""

    def __init__(self, reason: AmountErrorReason, text: str = "") -> None:
        super().__init__(f"{reason.value}: {text[:40]!r}")
        self.reason = reason


def _ungroup(number: str, separator: str) -> str | None:
    """Remove a grouping separator if the groups are well formed (``1,000,000``), else None."""
    return number.replace(separator, "") if _GROUPED.match(number.replace(separator, "X")) else None


def parse_user_amount(text: str) -> Decimal:
    """Read an amount typed by a user: ``1,5``, ``1 000.50``, ``1 000,50``, ``1,000.50``, ``1.000,50``.

    A single ``,`` or ``.`` is the decimal separator; a separator repeated, or followed by the other
    one, groups thousands. Spaces of any width group thousands. Trailing fractional zeros do not count
    towards the 8-decimal limit.
    """
    raw = text or ""
    compact = _SPACES.sub("", raw)
    if not compact:
        raise AmountError(AmountErrorReason.EMPTY, raw)
    negative = compact[0] in _MINUSES
    if negative or compact[0] == "+":
        compact = compact[1:]
    if re.fullmatch(r"[\d.,]*\d[\d.,]*[eE][+\-\u2212]?\d+", compact):
        raise AmountError(AmountErrorReason.SCIENTIFIC, raw)
    if not re.fullmatch(r"[\d.,]+", compact) or not re.search(r"\d", compact):
        raise AmountError(AmountErrorReason.NOT_A_NUMBER, raw)

    commas, dots = compact.count(","), compact.count(".")
    number: str | None = compact
    if commas and dots:
        decimal_sep = "," if compact.rfind(",") > compact.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        whole, _, fraction = compact.rpartition(decimal_sep)
        if decimal_sep in whole:
            number = None
        else:
            grouped = _ungroup(whole, group_sep)
            number = None if grouped is None else f"{grouped}.{fraction}"
    elif commas > 1 or dots > 1:
        number = _ungroup(compact, "," if commas else ".")
    elif commas == 1:
        number = compact.replace(",", ".")
    if number is None or number in (".",):
        raise AmountError(AmountErrorReason.NOT_A_NUMBER, raw)
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise AmountError(AmountErrorReason.NOT_A_NUMBER, raw) from None

    if value.is_zero():
        raise AmountError(AmountErrorReason.ZERO, raw)
    if negative:
        raise AmountError(AmountErrorReason.NEGATIVE, raw)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_USER_DECIMALS:
        raise AmountError(AmountErrorReason.TOO_MANY_DECIMALS, raw)
    return value


def currency_decimals(currency_code: str) -> tuple[int, int]:
    """(minimum, maximum) decimals shown for a currency code such as ``RUB``, ``USDTTRC20``, ``BTC``."""
    code = re.sub(r"[^A-Z0-9]", "", (currency_code or "").upper())
    if code in _FIAT or code.startswith(_STABLECOIN_PREFIXES):
        return 2, 2
    if code in _CRYPTO_8 or any(code.startswith(c) for c in _CRYPTO_8 if len(c) >= 3):
        return 0, 8
    if len(code) > 3 and (code[-3:] in _FIAT or code[:3] in _FIAT):
        return 2, 2  # bank-specific codes such as SBERRUB, CARDUAH
    return 0, 8


def _group_thousands(whole: str) -> str:
    digits = whole.lstrip("-")
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return ("-" if whole.startswith("-") else "") + THOUSANDS_SEPARATOR.join(groups)


def format_amount(amount: Decimal, currency_code: str, *, exact: bool = False) -> str:
    """The amount for display, e.g. ``1 000.50`` (RUB) or ``0.00012345`` (BTC); no currency code."""
    amount = parse_decimal(amount)
    min_places, max_places = currency_decimals(currency_code)
    if exact:
        max_places = max(max_places, 8)
    try:
        quantized = amount.quantize(Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context holds (an absurd figure from a server)
        quantized = amount
    text = format(quantized, "f")
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    if len(fraction) < min_places:
        fraction = fraction.ljust(min_places, "0")
    if whole in ("-0", "-") and not fraction.strip("0"):
        whole = "0"
    whole = _group_thousands(whole)
    return f"{whole}.{fraction}" if fraction else whole


def format_money(amount: Decimal, currency_code: str, *, exact: bool = False) -> str:
    """``format_amount`` followed by the currency code: ``1 000.50 RUB``. The code is HTML-escaped:
    codes come from the exchanger's settings and the result goes into HTML messages."""
    return f"{format_amount(amount, currency_code, exact=exact)}\u00a0{html.escape(currency_code)}"
