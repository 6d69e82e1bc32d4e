from decimal import Decimal

import pytest

from bot.domain.money import (
    AmbiguousAmount,
    AmountError,
    AmountErrorReason,
    format_amount,
    format_money,
    format_plain,
    parse_decimal,
    parse_user_amount,
)

S = ","  # English grouping: format_amount outside an i18n context reads as English


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
        ("1" * 65, AmountErrorReason.NOT_A_NUMBER),
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
    assert format_money(Decimal("1000"), "RUB") == "1,000.00\u00a0RUB"
    assert format_plain(Decimal("1E+2")) == "100"
    assert format_plain(Decimal("0.10000")) == "0.1"
    assert format_plain(Decimal("-0")) == "0"
    with pytest.raises(ValueError):
        format_plain(1.5)  # type: ignore[arg-type]


def test_absurd_magnitudes_still_format() -> None:
    from bot.domain.money import format_amount

    text = format_amount(Decimal("1E+40"), "RUB")
    assert text.replace(",", "").startswith("1" + "0" * 40)


# -- per language ------------------------------------------------------------------------------------

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "code", "en", "ru"),
    [
        ("1000.5", "RUB", "1,000.50", f"1{NBSP}000,50"),
        ("1234567.891", "USD", "1,234,567.89", f"1{NBSP}234{NBSP}567,89"),
        ("999", "KZT", "999.00", "999,00"),
        ("0.000123456789", "BTC", "0.00012346", "0,00012346"),
        ("1", "BTC", "1", "1"),
        ("1E+3", "ETH", "1,000", f"1{NBSP}000"),
        ("-1500.5", "UAH", "-1,500.50", f"-1{NBSP}500,50"),
        ("-0.001", "RUB", "0.00", "0,00"),  # rounded to nothing: no minus sign
        ("12.3456789012", "XYZ", "12.3456789", "12,3456789"),
    ],
)
def test_format_amount_per_language(amount, code, en, ru):
    assert format_amount(Decimal(amount), code, locale="en") == en
    assert format_amount(Decimal(amount), code, locale="ru") == ru
    assert format_amount(Decimal(amount), code, locale="ru_RU") == ru
    assert format_amount(Decimal(amount), code, locale="de") == en  # a language without its own style


def test_format_amount_exact_keeps_every_digit():
    assert format_amount(Decimal("0.123456789012"), "ETH", exact=True, locale="ru") == "0,123456789012"
    assert format_amount(Decimal("1000.005"), "RUB", exact=True, locale="ru") == f"1{NBSP}000,005"
    assert format_amount(Decimal("1000.005"), "RUB", locale="en") == "1,000.01"


def test_format_money_per_language_and_escaping():
    assert format_money(Decimal("1000.5"), "RUB", locale="ru") == f"1{NBSP}000,50{NBSP}RUB"
    assert format_money(Decimal("1000.5"), "RUB", locale="en") == f"1,000.50{NBSP}RUB"
    assert format_money(Decimal("5"), "<b>", locale="en") == f"5{NBSP}&lt;b&gt;"
    assert format_money(Decimal("5"), "", locale="en") == "5"  # no code, no dangling space


def test_formatter_follows_the_i18n_locale(tmp_path):
    from aiogram.utils.i18n import I18n

    i18n = I18n(path=tmp_path, default_locale="en")
    assert format_amount(Decimal("1000.5"), "RUB") == "1,000.50"  # no i18n context: English
    with i18n.context():
        assert format_amount(Decimal("1000.5"), "RUB") == "1,000.50"
        with i18n.use_locale("ru"):
            assert format_money(Decimal("1000.5"), "RUB") == f"1{NBSP}000,50{NBSP}RUB"
            assert format_amount(Decimal("1000.5"), "RUB", locale="en") == "1,000.50"  # named wins
        assert format_amount(Decimal("1000.5"), "RUB") == "1,000.50"


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize("amount", ["1000.5", "0.00012345", "1234567.89", "42"])
def test_what_is_shown_reads_back(locale, amount):
    shown = format_amount(Decimal(amount), "BTC", locale=locale)
    assert parse_user_amount(shown) == Decimal(amount)


# -- ambiguity -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "thousands", "decimal"),
    [
        ("10,000", "10000", "10"),
        ("1.500", "1500", "1.5"),
        ("1,500", "1500", "1.5"),
        ("100.000", "100000", "100"),
        ("  +2,750 ", "2750", "2.75"),
        ("\u0663,\u0660\u0660\u0660", "3000", "3"),  # Arabic-Indic digits read as digits
    ],
)
@pytest.mark.parametrize("locale", [None, "en", "ru"])
def test_one_separator_before_three_digits_is_asked(text, thousands, decimal, locale):
    with pytest.raises(AmbiguousAmount) as info:
        parse_user_amount(text, locale)
    assert info.value.reason is AmountErrorReason.AMBIGUOUS
    assert isinstance(info.value, AmountError)
    assert info.value.choices == (Decimal(thousands), Decimal(decimal))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0,001", "0.001"),
        ("0.500", "0.5"),
        (".500", "0.5"),
        ("1,5", "1.5"),
        ("1,50", "1.5"),
        ("1.5000", "1.5"),
        ("1 000,50", "1000.50"),
        ("1\u00a0000,500", "1000.5"),  # spaces group, so the comma is the decimal mark
        ("1,000.50", "1000.50"),
        ("1.000,50", "1000.50"),
        ("1,000,000", "1000000"),
        ("1234,567", "1234.567"),  # 1234 can't be a thousands group
        ("\uff11\uff10\uff10", "100"),  # full-width digits
    ],
)
@pytest.mark.parametrize("locale", ["en", "ru"])
def test_unambiguous_texts_read_the_same_in_both_languages(text, expected, locale):
    assert parse_user_amount(text, locale) == Decimal(expected)


def test_negative_ambiguous_text_says_negative():
    with pytest.raises(AmountError) as info:
        parse_user_amount("-10,000")
    assert info.value.reason is AmountErrorReason.NEGATIVE


def test_parser_is_total_on_random_text():
    import random

    rng = random.Random(20261202)
    alphabet = "0123456789.,,.  -+eE\u00a0\u202f'\u2212\u0663\uff11٫x€$\u200b\n"
    samples = ["9" * 10_000, "1" + "0" * 63, "\U0001d7d9" * 3, "²", "0" * 64, "1,000" * 20, "\x00"]
    for _ in range(5000):
        samples.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))))
    for _ in range(500):
        samples.append("".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(1, 8))))
    for text in samples:
        try:
            value = parse_user_amount(text)
        except AmountError as exc:
            assert isinstance(exc.reason, AmountErrorReason)
            if isinstance(exc, AmbiguousAmount):
                assert all(choice > 0 for choice in exc.choices)
        else:
            assert value > 0 and value.is_finite()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100 500", Decimal("100500")),
        ("1 000 000", Decimal("1000000")),
        ("12\u00a0345,5", Decimal("12345.5")),
        ("- 1 000", None),  # a sign before a grouped number is still read (and refused as negative)
    ],
)
def test_spaces_group_only_whole_groups_of_three(text, expected):
    if expected is None:
        with pytest.raises(AmountError) as info:
            parse_user_amount(text)
        assert info.value.reason is AmountErrorReason.NEGATIVE
    else:
        assert parse_user_amount(text) == expected


@pytest.mark.parametrize("text", ["1 5", "1,5 000", "10 00", "1 0000", "1000 000", "1.5 000", "1 000 00,5"])
def test_spaces_that_are_not_thousands_groups_are_no_number(text):
    with pytest.raises(AmountError) as info:
        parse_user_amount(text)
    assert info.value.reason is AmountErrorReason.NOT_A_NUMBER


def test_format_money_can_leave_the_code_unescaped_for_button_labels():
    assert format_money(Decimal("5"), "A&B", locale="en") == "5\u00a0A&amp;B"
    assert format_money(Decimal("5"), "A&B", locale="en", escape=False) == "5\u00a0A&B"
