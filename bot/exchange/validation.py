"""Checking an order-form answer as it is typed, by what the value is (:class:`ValueKind`): a card
number's length and Luhn digit, an address's shape (and checksum where that is cheap) on its network,
an e-mail, a phone number, a Telegram username; then the platform's own rules (length, pattern).

Pure functions, no I/O. The platform checks the order again when it is created: that stays the final
word, so a check here only refuses what can't be right, and a network it doesn't know goes unchecked."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.models import FieldKind, FormField, ValueKind

__all__ = ["Checked", "Problem", "check", "luhn_ok", "network_id", "normalize", "valid_address"]


class Problem(StrEnum):
    REQUIRED = "required"
    TOO_LONG = "too_long"
    NOT_VALID = "not_valid"  # the platform's own pattern refused it
    CARD_DIGITS = "card_digits"
    CARD_LENGTH = "card_length"
    CARD_CHECKSUM = "card_checksum"
    ADDRESS = "address"
    ADDRESS_CHECKSUM = "address_checksum"
    EMAIL = "email"
    PHONE = "phone"
    TELEGRAM = "telegram"


@dataclass(frozen=True)
class Checked:
    value: str  # what to post: the answer with the separators a person types removed
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


# -- networks --------------------------------------------------------------------------------------

_EVM = ("ethereum", "bsc", "polygon", "arbitrum", "optimism", "base", "avalanche")
_NETWORK_NAMES = {
    "bitcoin": "bitcoin", "btc": "bitcoin",
    "litecoin": "litecoin", "ltc": "litecoin",
    "dogecoin": "dogecoin", "doge": "dogecoin",
    "tron": "tron", "trx": "tron", "trc20": "tron", "trc-20": "tron",
    "ethereum": "ethereum", "eth": "ethereum", "erc20": "ethereum", "erc-20": "ethereum",
    "bsc": "bsc", "bep20": "bsc", "bep-20": "bsc", "bnb smart chain": "bsc", "binance smart chain": "bsc",
    "polygon": "polygon", "matic": "polygon", "arbitrum": "arbitrum", "arbitrum one": "arbitrum",
    "optimism": "optimism", "base": "base", "avalanche": "avalanche", "avalanche c-chain": "avalanche",
    "avax": "avalanche", "avaxc": "avalanche",
    "ton": "ton", "toncoin": "ton", "the open network": "ton",
    "xrp": "xrp", "ripple": "xrp", "xrp ledger": "xrp",
    "solana": "solana", "sol": "solana",
}  # fmt: skip
# A coin that lives on one network only names it.
_NATIVE = {"BTC": "bitcoin", "LTC": "litecoin", "DOGE": "dogecoin", "TRX": "tron", "ETH": "ethereum",
           "TON": "ton", "XRP": "xrp", "SOL": "solana"}  # fmt: skip


def network_id(network: str | None, currency: str | None = None) -> str | None:
    """The bot's own name of an address's network ("TRC20", "Tron" → ``tron``); from the coin when the
    network isn't given and the coin has only one; None when unknown."""
    if network:
        return _NETWORK_NAMES.get(" ".join(network.lower().split()))
    return _NATIVE.get((currency or "").strip().upper())


# -- encodings -------------------------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_XRP = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32M_CONST = 0x2BC830A3


def _b58decode(text: str, alphabet: str = _B58) -> bytes | None:
    if not text or len(text) > 120:
        return None
    number = 0
    for char in text:
        digit = alphabet.find(char)
        if digit < 0:
            return None
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip(alphabet[0]))) + body


def _b58check(text: str, alphabet: str = _B58) -> bytes | None:
    """The payload of a Base58Check string whose checksum matches; None otherwise."""
    raw = _b58decode(text, alphabet)
    if raw is None or len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    return payload if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum else None


def _polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            checksum ^= generator[i] if (top >> i) & 1 else 0
    return checksum


def _segwit_ok(address: str, hrp: str) -> bool:
    """A SegWit address (BIP 173 / BIP 350) of ``hrp`` whose checksum and program length are right."""
    if address.lower() != address and address.upper() != address:
        return False
    address = address.lower()
    prefix, sep, data = address.rpartition("1")
    if prefix != hrp or not sep or not 7 <= len(data) <= 90 or any(c not in _BECH32 for c in data):
        return False
    values = [_BECH32.index(c) for c in data]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    version = values[0]
    wanted = 1 if version == 0 else _BECH32M_CONST
    if version > 16 or _polymod(expanded + values) != wanted:
        return False
    program_bits = (len(values) - 7) * 5
    length = program_bits // 8
    return (length in (20, 32)) if version == 0 else 2 <= length <= 40


def _base58_version(address: str, versions: tuple[int, ...]) -> bool:
    payload = _b58check(address)
    return payload is not None and len(payload) == 21 and payload[0] in versions


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


# -- addresses -------------------------------------------------------------------------------------
# Each network: (does the string have the shape of an address here, is its checksum right). A string
# of the right shape with a wrong checksum is a typo; one of the wrong shape belongs elsewhere.

_B58_CLASS = "1-9A-HJ-NP-Za-km-z"


def _bitcoin_like(hrp: str, legacy: str, versions: tuple[int, ...]) -> tuple[Callable, Callable]:
    shape = re.compile(rf"(?i:{hrp}1[{_BECH32}]{{6,87}})|[{legacy}][{_B58_CLASS}]{{25,34}}")

    def checksum(address: str) -> bool:
        if address.lower().startswith(hrp + "1"):
            return _segwit_ok(address, hrp)
        return _base58_version(address, versions)

    return shape.fullmatch, checksum


def _dogecoin_checksum(address: str) -> bool:
    return _base58_version(address, (0x1E, 0x16))


def _tron_checksum(address: str) -> bool:
    return _base58_version(address, (0x41,))


def _xrp_checksum(address: str) -> bool:
    if address.startswith("X"):
        return True  # an X-address: shape only
    payload = _b58check(address, _B58_XRP)
    return payload is not None and len(payload) == 21 and payload[0] == 0


def _ton_checksum(address: str) -> bool:
    if ":" in address:
        return True  # the raw form has no checksum
    try:
        raw = base64.urlsafe_b64decode(address.replace("+", "-").replace("/", "_"))
    except ValueError:
        return False
    return len(raw) == 36 and raw[0] & 0x7F in (0x11, 0x51) and _crc16(raw[:34]) == int.from_bytes(raw[34:])


def _solana_checksum(address: str) -> bool:
    raw = _b58decode(address)
    return raw is not None and len(raw) == 32


def _always(address: str) -> bool:
    return True


_EVM_SHAPE = re.compile(r"0x[0-9a-fA-F]{40}").fullmatch
_ADDRESSES: dict[str, tuple[Callable, Callable]] = {
    "bitcoin": _bitcoin_like("bc", "13", (0x00, 0x05)),
    "litecoin": _bitcoin_like("ltc", "LM3", (0x30, 0x32, 0x05)),
    "dogecoin": (re.compile(rf"[DA9][{_B58_CLASS}]{{25,34}}").fullmatch, _dogecoin_checksum),
    "tron": (re.compile(rf"T[{_B58_CLASS}]{{33}}").fullmatch, _tron_checksum),
    "xrp": (re.compile(rf"r[{_B58_XRP}]{{24,34}}|X[{_B58_XRP}]{{46}}").fullmatch, _xrp_checksum),
    "ton": (re.compile(r"[EUk0][Qf][A-Za-z0-9_+/-]{46}|-?[01]:[0-9a-fA-F]{64}").fullmatch, _ton_checksum),
    "solana": (re.compile(rf"[{_B58_CLASS}]{{32,44}}").fullmatch, _solana_checksum),
    **{name: (_EVM_SHAPE, _always) for name in _EVM},  # EIP-55 needs Keccak, which hashlib lacks
}  # fmt: skip


def valid_address(network: str | None, address: str, currency: str | None = None) -> Problem | None:
    """None when ``address`` can be an address on ``network`` (or the network is unknown here)."""
    rules = _ADDRESSES.get(network_id(network, currency) or "")
    if rules is None:
        return None
    shape, checksum = rules
    if not shape(address):
        return Problem.ADDRESS
    return None if checksum(address) else Problem.ADDRESS_CHECKSUM


# -- the other kinds -------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _card(value: str) -> Problem | None:
    if not value.isascii() or not value.isdigit():
        return Problem.CARD_DIGITS
    if not 12 <= len(value) <= 19:
        return Problem.CARD_LENGTH
    return None if luhn_ok(value) else Problem.CARD_CHECKSUM


_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)*\.[^@\s.\d]{2,}")
_TELEGRAM = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")  # 5-32 characters, as Telegram allows
_TELEGRAM_LINK = re.compile(r"(?:https?://)?(?:t\.me|telegram\.me)/", re.IGNORECASE)


def _phone(value: str) -> Problem | None:
    digits = value.removeprefix("+")
    return None if digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 15 else Problem.PHONE


def _telegram(value: str) -> Problem | None:
    return None if _TELEGRAM.fullmatch(value.removeprefix("@")) else Problem.TELEGRAM


_KIND_CHECKS: dict[ValueKind, Callable[[str], Problem | None]] = {
    ValueKind.CARD: _card,
    ValueKind.EMAIL: lambda value: None if _EMAIL.fullmatch(value) else Problem.EMAIL,
    ValueKind.PHONE: _phone,
    ValueKind.TELEGRAM: _telegram,
}


def normalize(spec: FormField, raw: str) -> str:
    """The answer as it will be posted: separators people type inside a number or an address removed;
    a username with its @."""
    if spec.kind is FieldKind.TEXTAREA:
        return raw.strip()
    value = " ".join(raw.split())
    if spec.kind is not FieldKind.TEXT:
        return value
    if spec.value_kind is ValueKind.CARD:
        return re.sub(r"[\s-]", "", value)
    if spec.value_kind is ValueKind.ADDRESS:
        return re.sub(r"\s", "", value)
    if spec.value_kind is ValueKind.PHONE:
        return re.sub(r"[\s().-]", "", value)
    if spec.value_kind is ValueKind.TELEGRAM:
        name = _TELEGRAM_LINK.sub("", value.replace(" ", "")).removeprefix("@").rstrip("/")
        return f"@{name}" if name else ""
    if spec.value_kind is ValueKind.EMAIL:
        return value.replace(" ", "")
    return value


def _fits(pattern: str | None, value: str) -> bool:
    if not pattern:
        return True
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return True  # a pattern we can't read is the platform's to apply


def check(spec: FormField, raw: str) -> Checked:
    """The answer, normalized, and what is wrong with it (None: nothing we can tell)."""
    value = normalize(spec, raw)
    if not value:
        return Checked(value, Problem.REQUIRED if spec.required else None)
    if len(value) > spec.max_length:
        return Checked(value, Problem.TOO_LONG)
    if spec.kind in (FieldKind.TEXT, FieldKind.TEXTAREA):
        if spec.value_kind is ValueKind.ADDRESS:
            problem = valid_address(spec.network, value, spec.currency)
        else:
            problem = _KIND_CHECKS.get(spec.value_kind, lambda _: None)(value)
        if problem is not None:
            return Checked(value, problem)
    if not _fits(spec.pattern, value):
        return Checked(value, Problem.NOT_VALID)
    return Checked(value)
