"""Address shapes per settlement network, checked before anything is sent: 0trace answers a bad
address with a bare code 1, which can't tell the customer which field is wrong."""

from __future__ import annotations

import re

__all__ = ["address_pattern", "valid_address"]

_BASE58 = "1-9A-HJ-NP-Za-km-z"
_BECH32 = "02-9ac-hj-np-z"
_EVM = r"0x[0-9a-fA-F]{40}"

_PATTERNS: dict[str, str] = {
    "bitcoin": rf"bc1[{_BECH32}]{{11,71}}|[13][{_BASE58}]{{25,34}}",
    "litecoin": rf"ltc1[{_BECH32}]{{11,71}}|[LM3][{_BASE58}]{{26,33}}",
    "tron": rf"T[{_BASE58}]{{33}}",
    "solana": rf"[{_BASE58}]{{32,44}}",
    "ton": r"(?:EQ|UQ)[A-Za-z0-9_-]{46}",
    "ethereum": _EVM,
    "bsc": _EVM,
    "bnb smart chain": _EVM,
    "polygon": _EVM,
    "arbitrum": _EVM,
    "optimism": _EVM,
    "base": _EVM,
    "avalanche": _EVM,
}
# 0trace's own bounds for toAddress; also the fallback for a network not listed above.
_ANY = r"[!-~]{10,200}"


def address_pattern(network: str | None) -> str:
    """A regular expression a valid address on ``network`` matches in full."""
    return _PATTERNS.get((network or "").strip().lower(), _ANY)


def valid_address(network: str | None, address: str) -> bool:
    return 10 <= len(address) <= 200 and re.fullmatch(address_pattern(network), address) is not None
