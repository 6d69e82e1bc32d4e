from decimal import Decimal

import pytest

from bot.domain.money import (
    THOUSANDS_SEPARATOR,
    AmountError,
    AmountErrorReason,
    format_amount,
    format_money,
    format_plain,
    parse_decimal,
    parse_user_amount,
)

S = THOUSANDS_SEPARATOR


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.5", Decimal("1.5")),
        (" 10000 ", Decimal("10000")),
        (105, Decimal("105")),
        (Decimal("0.00000001"), Decimal("0.00000001")),
        ("1.0E-5", Decimal("0.00001")),  # PHP prints small floats like this
        ("-3", Decimal("-3")),
    ],
)
def test_parse_decimal(value, expected):
    assert parse_decimal(value) == expected


@pytest.mark.parametrize("value", [1.5, True, None, "", "abc", "NaN", "Infinity", [], {}])
def test_parse_decimal_refuses(value):
    with pytest.raises(ValueError):
        parse_decimal(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100", Decimal("100")),
        ("1,5", Decimal("1.5")),
        ("1.5", Decimal("1.5")),
        ("1 000.50", Decimal("1000.50")),
        ("1 000,50", Decimal("1000.50")),
        ("1\u00a0000,50", Decimal("1000.50")),
        ("1\u2009000.50", Decimal("1000.50")),
        ("1\u202f000", Decimal("1000")),
        ("1,000.50", Decimal("1000.50")),
        ("1.000,50", Decimal("1000.50")),
        ("1,000,000", Decimal("1000000")),
        ("  +25  ", Decimal("25")),
        (".5", Decimal("0.5")),
        ("0.00000001", Decimal("0.00000001")),
        ("1.500000000", Decimal("1.500000000")),  # trailing zeros do not count
    ],
)
def test_parse_user_amount(text, expected):
    assert parse_user_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", AmountErrorReason.EMPTY),
        ("   ", AmountErrorReason.EMPTY),
        ("abc", AmountErrorReason.NOT_A_NUMBER),
        ("100 RUB", AmountErrorReason.NOT_A_NUMBER),
        ("1.2.3", AmountErrorReason.NOT_A_NUMBER),
        ("1,00,0", AmountErrorReason.NOT_A_NUMBER),
        (",", AmountErrorReason.NOT_A_NUMBER),
        ("0", AmountErrorReason.ZERO),
        ("0,00", AmountErrorReason.ZERO),
        ("-5", AmountErrorReason.NEGATIVE),
        ("\u22125", AmountErrorReason.NEGATIVE),
        ("1e5", AmountErrorReason.SCIENTIFIC),
        ("1.5E-3", AmountErrorReason.SCIENTIFIC),
        ("0.000000001", AmountErrorReason.TOO_MANY_DECIMALS),
    ],
)
def test_parse_user_amount_errors(text, reason):
    with pytest.raises(AmountError) as info:
        parse_user_amount(text)
    assert info.value.reason is reason
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("amount", "code", "expected"),
    [
        ("10000", "RUB", f"10{S}000.00"),
        ("1234567.891", "USD", f"1{S}234{S}567.89"),
        ("0.005", "EUR", "0.01"),
        ("105.2", "USDT", "105.20"),
        ("105.2", "USDTTRC20", "105.20"),
        ("2500", "SBERRUB", f"2{S}500.00"),
        ("1", "BTC", "1"),
        ("0.50000000", "BTC", "0.5"),
        ("0.000123456789", "BTC", "0.00012346"),
        ("1E+3", "ETH", f"1{S}000"),
        ("0.00000001", "BTC", "0.00000001"),
        ("12.3456789012", "XYZ", "12.3456789"),
        ("-1500.5", "UAH", f"-1{S}500.50"),
        ("999", "KZT", "999.00"),
    ],
)
def test_format_amount(amount, code, expected):
    assert format_amount(Decimal(amount), code) == expected


def test_format_amount_never_scientific():
    assert "E" not in format_amount(Decimal("1E-8"), "BTC")
    assert "E" not in format_amount(Decimal("1E+12"), "XYZ")


def test_format_amount_exact_keeps_digits_to_pay():
    assert format_amount(Decimal("100.005"), "RUB") == "100.01"
    assert format_amount(Decimal("100.005"), "RUB", exact=True) == "100.005"
    assert format_amount(Decimal("100"), "RUB", exact=True) == "100.00"


def test_format_money_and_plain():
    assert format_money(Decimal("1000"), "RUB") == f"1{S}000.00\u00a0RUB"
    assert format_plain(Decimal("1E+2")) == "100"
    assert format_plain(Decimal("0.10000")) == "0.1"
    assert format_plain(Decimal("-0")) == "0"
    with pytest.raises(ValueError):
        format_plain(1.5)  # type: ignore[arg-type]


def test_absurd_magnitudes_still_format() -> None:
    from bot.domain.money import format_amount

    text = format_amount(Decimal("1E+40"), "RUB")
    assert text.replace("\u202f", "").startswith("1" + "0" * 40)
