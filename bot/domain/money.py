"""Decimal money helpers shared by the whole project.

Money never passes through ``float``: amounts come from the exchanger as strings or ints (JSON numbers
with a fraction are parsed with ``parse_float=Decimal``) and from users as text.

Display rules (:func:`format_amount`, the one formatter of every amount a person reads):

* fiat (RUB, USD, EUR, UAH, KZT, ...) and dollar stablecoins (USDT, USDC, ...): exactly 2 decimals;
* crypto (BTC, ETH, ...): up to 8 decimals, trailing zeros trimmed, no minimum (``1``, ``0.5``);
* unknown codes: up to 8 decimals, trailing zeros trimmed;
* thousands and the decimal mark follow the language: English ``1,000.50``, Russian ``1 000,50``
  (a no-break space groups, so a number never wraps in a message); another language reads as English;
* the language is the chat's, i.e. the current aiogram i18n locale (what ``_`` translates into), unless
  ``locale`` is given; outside any i18n context (scripts, tests) it is English;
* never scientific notation.

``exact=True`` never hides a digit the value has: use it for the amount a customer has to send, where
rounding could make them pay too little. The wire (API requests, CSV) uses :func:`format_plain`.

Input (:func:`parse_user_amount`) reads both styles whatever the language, and never guesses: "10,000"
may be ten thousand or ten, so it raises :class:`AmbiguousAmount` with both readings to ask.
"""

from __future__ import annotations

import html
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import NamedTuple

from aiogram.utils.i18n import I18n

__all__ = [
    "MAX_USER_DECIMALS",
    "MAX_USER_TEXT",
    "AmbiguousAmount",
    "AmountError",
    "AmountErrorReason",
    "NumberStyle",
    "currency_decimals",
    "current_locale",
    "format_amount",
    "format_money",
    "format_plain",
    "number_style",
    "parse_decimal",
    "parse_user_amount",
]

MAX_USER_DECIMALS = 8
MAX_USER_TEXT = 64  # characters: no amount is longer, and a longer text is not read at all
DEFAULT_LOCALE = "en"


class NumberStyle(NamedTuple):
    group: str
    decimal: str


_ENGLISH = NumberStyle(",", ".")
_STYLES = {"en": _ENGLISH, "ru": NumberStyle("\u00a0", ",")}

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
_SPACE_GROUPED = re.compile(r"\d" + _SPACES.pattern + r"+\d")
_MINUSES = "-\u2212\u2012\u2013\u2014"
_GROUPED = re.compile(r"^\d{1,3}(?:X\d{3})+$", re.ASCII)
_SPACE_RUN = re.compile(r"(?<=\d)" + _SPACES.pattern + r"+(?=\d)")
# Space grouping (runs marked "X") only as whole groups of three from the first digit: "1 000 000,50".
_SPACE_GROUPED_NUMBER = re.compile(r"[+\-\u2212\u2012\u2013\u2014]?\d{1,3}(?:X\d{3})+(?:[.,]\d*)?", re.ASCII)
_ONE_SEPARATOR_THREE_DIGITS = re.compile(r"(\d{1,3})[.,](\d{3})", re.ASCII)


def current_locale() -> str:
    """The locale ``_`` translates into now: the chat's inside an update (or ``use_locale``), else "en"."""
    i18n = I18n.get_current(no_error=True)
    return i18n.current_locale if i18n is not None else DEFAULT_LOCALE


def number_style(locale: str | None = None) -> NumberStyle:
    """(group separator, decimal mark) of ``locale`` ("ru", "ru_RU", "ru-RU"...; None: the current one)."""
    code = (current_locale() if locale is None else locale) or DEFAULT_LOCALE
    return _STYLES.get(code.replace("-", "_").split("_")[0].lower(), _ENGLISH)


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
    AMBIGUOUS = "ambiguous"  # always an AmbiguousAmount, with the readings to choose from


class AmountError(ValueError):
    """A user-typed amount that cannot be used; ``reason`` says why (for a localized message)."""

    def __init__(self, reason: AmountErrorReason, text: str = "") -> None:
        super().__init__(f"{reason.value}: {text[:40]!r}")
        self.reason = reason


class AmbiguousAmount(AmountError):
    """The text reads two ways ("10,000": ten thousand or ten). ``choices`` is (the thousands reading,
    the decimal reading): ask which was meant, never pick one."""

    def __init__(self, choices: tuple[Decimal, Decimal], text: str = "") -> None:
        super().__init__(AmountErrorReason.AMBIGUOUS, text)
        self.choices = choices


def _ungroup(number: str, separator: str) -> str | None:
    """Remove a grouping separator if the groups are well formed (``1,000,000``), else None."""
    return number.replace(separator, "") if _GROUPED.match(number.replace(separator, "X")) else None


def _ascii_digits(text: str) -> str | None:
    """Decimal digits of any script (``١٢٣``, ``１２３``) as ASCII; None when a digit has no value."""
    if text.isascii():
        return text
    out = []
    for char in text:
        if char.isdecimal() and not char.isascii():
            value = unicodedata.decimal(char, None)
            if value is None:
                return None
            out.append(str(value))
        else:
            out.append(char)
    return "".join(out)


def parse_user_amount(text: str, locale: str | None = None) -> Decimal:
    """Read an amount typed by a user: ``1,5``, ``1 000.50``, ``1 000,50``, ``1,000.50``, ``1.000,50``.

    A single ``,`` or ``.`` is the decimal mark; a separator repeated, or followed by the other one,
    groups thousands, and so do spaces of any width when they cut whole groups of three from the first
    digit (``1 000 000,50``; ``1 5`` and ``1,5 000`` are no numbers). A single ``,`` or ``.`` after
    1-3 digits (not all zeros) and before exactly three, with no other grouping (``10,000``,
    ``1.500``), reads two ways: :class:`AmbiguousAmount` says both. Trailing fractional zeros do
    not count towards the 8-decimal limit. Digits of other scripts are read as digits.

    The reading is the same in every language (``locale`` changes nothing: the same text must never
    mean two amounts), so the customer's words mean what the echo of them says. Total: any text
    either gives a positive Decimal or raises :class:`AmountError`.
    """
    raw = text or ""
    if len(raw) > MAX_USER_TEXT:
        raise AmountError(AmountErrorReason.NOT_A_NUMBER, raw)
    converted = _ascii_digits(raw.strip())
    if converted is None:
        raise AmountError(AmountErrorReason.NOT_A_NUMBER, raw)
    space_grouped = bool(_SPACE_GROUPED.search(converted))
    compact = _SPACES.sub("", converted)
    if not compact:
        raise AmountError(AmountErrorReason.EMPTY, raw)
    negative = compact[0] in _MINUSES
    if negative or compact[0] == "+":
        compact = compact[1:]
    if re.fullmatch(r"[\d.,]*\d[\d.,]*[eE][+\-\u2212]?\d+", compact, re.ASCII):
        raise AmountError(AmountErrorReason.SCIENTIFIC, raw)
    if not re.fullmatch(r"[\d.,]+", compact, re.ASCII) or not re.search(r"\d", compact, re.ASCII):
        raise AmountError(AmountErrorReason.NOT_A_NUMBER, raw)
    if space_grouped and not _SPACE_GROUPED_NUMBER.fullmatch(_SPACES.sub("", _SPACE_RUN.sub("X", converted))):
        raise AmountError(AmountErrorReason.NOT_A_NUMBER, raw)  # "1 5", "1,5 000": not groups of three

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
    ambiguous = _ONE_SEPARATOR_THREE_DIGITS.fullmatch(compact)
    if ambiguous and not space_grouped and ambiguous.group(1).strip("0"):
        raise AmbiguousAmount((Decimal(ambiguous.group(1) + ambiguous.group(2)), value), raw)
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


def _group_thousands(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    return separator.join([digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))])


def format_amount(amount: Decimal, currency: str, *, exact: bool = False, locale: str | None = None) -> str:
    """The amount for display in the chat's language, no currency code: ``1,000.50`` (en) or
    ``1 000,50`` (ru) for RUB, ``0.00012345`` / ``0,00012345`` for BTC. ``locale`` None: the current
    i18n locale (see the module's docstring)."""
    amount = parse_decimal(amount)
    min_places, max_places = currency_decimals(currency)
    value = amount
    if not exact:
        try:
            value = amount.quantize(Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP)
        except InvalidOperation:  # more digits than the context holds (an absurd figure from a server)
            value = amount
    text = format(value, "f")
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").partition(".")
    fraction = fraction.rstrip("0").ljust(min_places, "0")
    if negative and not (whole.strip("0") or fraction.strip("0")):
        negative = False  # -0.001 rounded to 0.00 is not negative
    style = number_style(locale)
    result = _group_thousands(whole or "0", style.group)
    if fraction:
        result += style.decimal + fraction
    return "-" + result if negative else result


def format_money(
    amount: Decimal, currency: str, *, exact: bool = False, locale: str | None = None, escape: bool = True
) -> str:
    """``format_amount`` followed by the currency code: ``1,000.50 RUB`` / ``1 000,50 RUB`` (no-break
    space before the code; no code when ``currency`` is ""). The code is HTML-escaped: codes come from
    the exchanger and the result goes into HTML messages. ``escape=False`` for plain text such as a
    button's label, which Telegram shows as is ("&amp;" would show)."""
    text = format_amount(amount, currency, exact=exact, locale=locale)
    if not currency:
        return text
    return f"{text}\u00a0{html.escape(currency) if escape else currency}"
