"""What a deposit QR code holds: the coin's payment URI, so a wallet app fills in the amount, where
one exists and means exactly this transfer; else the plain address.

Decided from the currency and its network alone (any platform's). Only a chain's native coin gets a
URI: a token's URI needs its contract, and a bare ``ethereum:ADDR`` for a USDT deposit would have a
wallet send ether. A memo or tag goes into the URI only where the scheme has one (TON's ``text``);
any other coin with a tag gets the plain address, the tag being on the card.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple
from urllib.parse import quote

__all__ = ["payment_uri"]


class _Scheme(NamedTuple):
    prefix: str  # up to the address
    amount_param: str
    decimals: int  # the coin's precision: an amount with more digits gets no URI (wallets reject it)
    base_units: bool  # the amount is written in base units (10^-decimals), else in whole coins
    networks: frozenset[str]  # the native chain's names (normalized); "" = not named
    memo_param: str | None = None


def _names(*names: str) -> frozenset[str]:
    return frozenset({"", *names})


# Currency code (normalized) → its native chain's scheme.
_SCHEMES: dict[str, _Scheme] = {
    "btc": _Scheme("bitcoin:", "amount", 8, False, _names("btc", "bitcoin")),
    "ltc": _Scheme("litecoin:", "amount", 8, False, _names("ltc", "litecoin")),
    "doge": _Scheme("dogecoin:", "amount", 8, False, _names("doge", "dogecoin")),
    "dash": _Scheme("dash:", "amount", 8, False, _names("dash")),
    "zec": _Scheme("zcash:", "amount", 8, False, _names("zec", "zcash")),
    "bch": _Scheme("bitcoincash:", "amount", 8, False, _names("bch", "bitcoincash")),
    "xmr": _Scheme("monero:", "tx_amount", 12, False, _names("xmr", "monero")),
    # EIP-681: value in wei; only ether on Ethereum itself (not ETH on BSC, Arbitrum, ...).
    "eth": _Scheme("ethereum:", "value", 18, True, _names("eth", "ethereum", "erc20")),
    "ton": _Scheme("ton://transfer/", "amount", 9, True, _names("ton", "toncoin"), memo_param="text"),
    "sol": _Scheme("solana:", "amount", 9, False, _names("sol", "solana"), memo_param="memo"),
}
_ALIASES = {"toncoin": "ton", "bitcoin": "btc", "litecoin": "ltc", "ether": "eth", "ethereum": "eth"}
_SAFE_ADDRESS = re.compile(r"[A-Za-z0-9_\-.:]{10,200}")


def _normal(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


def _amount(amount: Decimal, scheme: _Scheme) -> str | None:
    units = amount.scaleb(scheme.decimals)
    if units != units.to_integral_value():
        return None  # more digits than the coin has: no URI rather than a rounded amount
    if scheme.base_units:
        return str(int(units))
    text = format(amount.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def payment_uri(
    address: str,
    *,
    currency: str,
    network: str | None = None,
    amount: Decimal | None = None,
    tag: str | None = None,
) -> str:
    """The payment URI for sending ``amount`` of ``currency`` on ``network`` to ``address``; the
    address itself where there is no fitting scheme."""
    address = address.strip()
    code = _normal(currency)
    scheme = _SCHEMES.get(_ALIASES.get(code, code))
    if scheme is None or _normal(network) not in scheme.networks or not _SAFE_ADDRESS.fullmatch(address):
        return address
    if tag and scheme.memo_param is None:
        return address
    body = address
    if body.lower().startswith(scheme.prefix):  # bitcoincash:q... addresses carry the prefix already
        body = body[len(scheme.prefix) :]
    params = []
    if amount is not None and amount > 0:
        value = _amount(amount, scheme)
        if value is None:
            return address
        params.append(f"{scheme.amount_param}={value}")
    if tag and scheme.memo_param:
        params.append(f"{scheme.memo_param}={quote(tag, safe='')}")
    return scheme.prefix + body + ("?" + "&".join(params) if params else "")
