"""Checks of typed answers by what they are (bot/exchange/validation.py), and how the adapters say
what a field's value is."""

from __future__ import annotations

import pytest

from bot.domain.models import FieldKind, FormField, ValueKind
from bot.exchange.validation import Problem, check, luhn_ok, network_id, valid_address
from bot.platforms.premiumexchanger import mapping as pe_mapping
from bot.platforms.premiumexchanger import models as pe
from bot.platforms.zerotrace import mapping as zt_mapping


def field(value: ValueKind = ValueKind.TEXT, **extra: object) -> FormField:
    return FormField(name="f", value_kind=value, required=True, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("4111111111111111", True),
        ("4276380012345679", True),
        ("4276380012345678", False),
        ("5555555555554444", True),
        ("2200700123456789", False),
        ("79927398713", True),  # the textbook example
        ("79927398710", False),
    ],
)
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


@pytest.mark.parametrize(
    ("typed", "problem", "value"),
    [
        ("4276 3800 1234 5679", None, "4276380012345679"),
        ("4276-3800-1234-5679", None, "4276380012345679"),
        ("4276 3800 1234 5678", Problem.CARD_CHECKSUM, "4276380012345678"),
        ("42763800123", Problem.CARD_LENGTH, "42763800123"),
        ("4" * 20, Problem.CARD_LENGTH, "4" * 20),
        ("4276 38OO 1234 5679", Problem.CARD_DIGITS, "427638OO12345679"),
        ("\uff14" * 16, Problem.CARD_DIGITS, "\uff14" * 16),  # fullwidth digits
        ("", Problem.REQUIRED, ""),
    ],
)
def test_card_numbers(typed: str, problem: Problem | None, value: str) -> None:
    checked = check(field(ValueKind.CARD, currency="RUB"), typed)
    assert (checked.problem, checked.value) == (problem, value)


@pytest.mark.parametrize(
    ("network", "address", "problem"),
    [
        ("Bitcoin", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", None),
        ("BTC", "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", None),  # bech32 may be all upper case
        ("bitcoin", "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", None),  # taproot
        ("bitcoin", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", None),
        ("bitcoin", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", None),
        ("bitcoin", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx", Problem.ADDRESS_CHECKSUM),
        ("bitcoin", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", Problem.ADDRESS_CHECKSUM),
        ("bitcoin", "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7", Problem.ADDRESS),
        ("TRC20", "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7", None),
        ("Tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", None),
        ("tron", "T" + "9" * 33, Problem.ADDRESS_CHECKSUM),
        ("tron", "0x52908400098527886E0F7030069857D2E4169EE7", Problem.ADDRESS),
        ("ERC20", "0x52908400098527886E0F7030069857D2E4169EE7", None),
        ("BEP20", "0x" + "ab" * 20, None),
        ("Ethereum", "0x" + "ab" * 19, Problem.ADDRESS),
        ("Litecoin", "LaMT348PWRnrqeeWArpwQPbuanpXDZGEUz", None),
        ("Litecoin", "ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea", None),
        ("XRP", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh", None),
        ("Ripple", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTj", Problem.ADDRESS_CHECKSUM),
        ("TON", "EQDtFpEwcFAEcRe5mLVh2N6C0x-_hJEM7W61_JLnSF74p4q2", None),
        ("TON", "EQDtFpEwcFAEcRe5mLVh2N6C0x-_hJEM7W61_JLnSF74p4q3", Problem.ADDRESS_CHECKSUM),
        ("TON", "0:" + "ab" * 32, None),
        ("Solana", "7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV", None),
        ("Dogecoin", "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", None),
        ("Some new chain", "anything-goes-here", None),  # a network we don't know: not checked
        (None, "anything-goes-here", None),
    ],
)
def test_addresses_per_network(network: str | None, address: str, problem: Problem | None) -> None:
    assert valid_address(network, address) == problem


def test_a_single_network_coin_names_its_network() -> None:
    assert network_id(None, "BTC") == "bitcoin" and network_id(None, "trx") == "tron"
    assert network_id(None, "USDT") is None  # many networks: nothing to check against
    assert network_id("TRC-20") == network_id("Tron") == "tron"
    assert valid_address(None, "0x" + "ab" * 20, currency="BTC") is Problem.ADDRESS


def test_an_address_is_typed_without_spaces() -> None:
    checked = check(field(ValueKind.ADDRESS, network="Tron"), " TLa2f6VPqDgRE67v 1736s7bJ8Ray5wYjU7\n")
    assert checked.ok and checked.value == "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"


@pytest.mark.parametrize(
    ("kind", "typed", "problem", "value"),
    [
        (ValueKind.EMAIL, "ivan@example.com", None, "ivan@example.com"),
        (ValueKind.EMAIL, "иван@почта.рф", None, "иван@почта.рф"),
        (ValueKind.EMAIL, "ivan@example", Problem.EMAIL, "ivan@example"),
        (ValueKind.EMAIL, "ivan.example.com", Problem.EMAIL, "ivan.example.com"),
        (ValueKind.EMAIL, "a@b@c.com", Problem.EMAIL, "a@b@c.com"),
        (ValueKind.PHONE, "+7 (900) 123-45-67", None, "+79001234567"),
        (ValueKind.PHONE, "89001234567", None, "89001234567"),
        (ValueKind.PHONE, "12345", Problem.PHONE, "12345"),
        (ValueKind.PHONE, "+1234567890123456", Problem.PHONE, "+1234567890123456"),
        (ValueKind.PHONE, "call me", Problem.PHONE, "callme"),
        (ValueKind.TELEGRAM, "alice_tg", None, "@alice_tg"),
        (ValueKind.TELEGRAM, "@alice_tg", None, "@alice_tg"),
        (ValueKind.TELEGRAM, "https://t.me/alice_tg", None, "@alice_tg"),
        (ValueKind.TELEGRAM, "@a", Problem.TELEGRAM, "@a"),
        (ValueKind.TELEGRAM, "@1alice", Problem.TELEGRAM, "@1alice"),
        (ValueKind.TELEGRAM, "@abcd", Problem.TELEGRAM, "@abcd"),  # Telegram: 5 to 32, as the message says
        (ValueKind.TELEGRAM, "@abcde", None, "@abcde"),
        (ValueKind.TELEGRAM, "@a" + "b" * 31, None, "@a" + "b" * 31),
        (ValueKind.TELEGRAM, "@a" + "b" * 32, Problem.TELEGRAM, "@a" + "b" * 32),
        (ValueKind.NAME, "  Ivan   Petrov ", None, "Ivan Petrov"),
    ],
)
def test_other_kinds(kind: ValueKind, typed: str, problem: Problem | None, value: str) -> None:
    checked = check(field(kind), typed)
    assert (checked.problem, checked.value) == (problem, value)


def test_the_platforms_own_rules_still_apply() -> None:
    payeer = FormField(name="p", required=True, pattern=r"P\d{7,12}", max_length=20)
    assert check(payeer, "P1234567").ok
    assert check(payeer, "X1234567").problem is Problem.NOT_VALID
    assert check(payeer, "P" + "1" * 30).problem is Problem.TOO_LONG  # length first: hostile input
    assert check(FormField(name="o"), "").ok  # optional and empty: skipped
    assert check(FormField(name="o", pattern="[unclosed"), "x").ok  # a pattern we can't read
    note = FormField(name="n", kind=FieldKind.TEXTAREA, max_length=2000)
    assert check(note, " line one\n  line two ").value == "line one\n  line two"


def _pe_field(name: str, label: str, tooltip: str | None = None) -> pe.FieldSpec:
    return pe.FieldSpec(name=name, label=label, tooltip=tooltip)


@pytest.mark.parametrize(
    ("spec", "codes", "value", "currency", "network"),
    [
        (_pe_field("account1", "From card"), {"give": "RUB"}, ValueKind.CARD, "RUB", None),
        (_pe_field("account1", "С карты"), {"give": "RUB"}, ValueKind.CARD, "RUB", None),
        (_pe_field("account2", "TRC20 address"), {"get": "USDT"}, ValueKind.ADDRESS, "USDT", "TRC20"),
        (_pe_field("account2", "Bitcoin address"), {"get": "BTC"}, ValueKind.ADDRESS, "BTC", None),
        (_pe_field("account2", "Wallet"), {"get": "USDT"}, ValueKind.ADDRESS, "USDT", None),
        (_pe_field("account2", "Payeer account"), {"get": "USD"}, ValueKind.TEXT, None, None),
        (_pe_field("cf6", "E-mail"), {}, ValueKind.EMAIL, None, None),
        (_pe_field("cf4", "Phone"), {}, ValueKind.PHONE, None, None),
        (_pe_field("cf11", "Telegram"), {}, ValueKind.TELEGRAM, None, None),
        (_pe_field("cfgive8", "Cardholder name"), {"give": "RUB"}, ValueKind.TEXT, None, None),
    ],
)
def test_premiumexchanger_fields_say_what_their_value_is(
    spec: pe.FieldSpec, codes: dict[str, str], value: ValueKind, currency: str | None, network: str | None
) -> None:
    mapped = pe_mapping.form_field(spec, codes)
    assert (mapped.value_kind, mapped.currency, mapped.network) == (value, currency, network)


def test_zerotrace_addresses_name_their_network() -> None:
    btc = zt_mapping.Asset({"code": "btc", "coin": "BTC", "network": "Bitcoin", "send": True})
    usdt = zt_mapping.Asset({"code": "usdt_trc20", "coin": "USDT", "network": "Tron", "send": True})
    to, refund = zt_mapping.form_fields(usdt, btc, "en")
    assert (to.value_kind, to.currency, to.network) == (ValueKind.ADDRESS, "BTC", "Bitcoin")
    assert (refund.value_kind, refund.currency, refund.network) == (ValueKind.ADDRESS, "USDT", "Tron")
