"""0trace shapes → the neutral models. Wire dicts come from JSON parsed with ``parse_float=Decimal``;
unknown fields are ignored, a missing required one is an ``UnexpectedResponse``.

A direction is a pair, which has no id on 0trace: its id here is ``"<from>:<to>"`` (asset ids hold no
colon). The order's customer-facing number is the first block of its UUID.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import SecretStr, ValidationError

from bot.domain.errors import UnexpectedResponse
from bot.domain.models import (
    Currency,
    CurrencyLists,
    DecisionReason,
    Direction,
    DirectionNotes,
    DirectionSummary,
    FieldPurpose,
    FormField,
    Order,
    OrderActions,
    OrderRef,
    PaymentDetails,
    Quote,
    ReferenceCode,
    ValueKind,
)
from bot.domain.money import parse_decimal
from bot.platforms.zerotrace.networks import address_pattern
from bot.platforms.zerotrace.statuses import EMERGENCY, NEW, status_of
from bot.platforms.zerotrace.texts import (
    FLOATING_NOTE,
    REFUND_HINT,
    REFUND_LABEL,
    TAG_LABEL,
    TO_HINT,
    TO_LABEL,
    translate,
)

__all__ = [
    "REFUND_FIELD",
    "TAG_FIELD",
    "TO_FIELD",
    "Asset",
    "assets_by_code",
    "direction",
    "direction_id",
    "order",
    "pair_of",
    "quote",
    "reference_code",
    "summaries",
]

TO_FIELD, TAG_FIELD, REFUND_FIELD = "toAddress", "tag", "refundAddress"
SEPARATOR = ":"
_CENT = Decimal("0.01")


class Asset:
    """One entry of /v1/currencies (a coin on a network)."""

    __slots__ = ("code", "coin", "logo", "max_amount", "min_amount", "name", "network", "recv", "send", "tag")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        code = raw.get("code")
        if not isinstance(code, str) or not code or SEPARATOR in code:
            raise UnexpectedResponse("an asset without a usable code", method="currencies")
        self.code = code
        self.coin = str(raw.get("coin") or coin_of(code))
        self.network = str(raw.get("network") or "")
        self.name = str(raw.get("name") or self.coin)
        self.recv = raw.get("recv") is not False
        self.send = raw.get("send") is True
        self.tag = raw.get("tag") if isinstance(raw.get("tag"), str) and raw.get("tag") else None
        self.logo = raw.get("logo") if isinstance(raw.get("logo"), str) else None
        self.min_amount = _optional(raw.get("minAmount"))
        self.max_amount = _optional(raw.get("maxAmount"))

    @property
    def title(self) -> str:
        return f"{self.coin} · {self.network}" if self.network else self.coin

    def currency(self) -> Currency:
        return Currency(id=self.code, title=self.title, code=self.coin, network=self.network or None,
                        logo=self.logo)  # fmt: skip


# emergency.status → the neutral reasons the order card words (unknown values pass through).
_REASONS = {
    "LIMIT": DecisionReason.AMOUNT_OUTSIDE_LIMITS,
    "LESS": DecisionReason.UNDERPAID,
    "MORE": DecisionReason.OVERPAID,
    "EXPIRED": DecisionReason.EXPIRED,
}


def coin_of(code: str) -> str:
    """The ticker when the catalogue isn't at hand: ``usdt_trc20`` → ``USDT``."""
    return code.split("_")[0].upper()


def _optional(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return parse_decimal(value)
    except ValueError:
        return None


def _decimal(value: object, what: str, method: str) -> Decimal:
    try:
        return parse_decimal(value)
    except ValueError:
        raise UnexpectedResponse(f"{what} is not a decimal", method=method) from None


def assets_by_code(raw: object) -> dict[str, Asset]:
    if not isinstance(raw, list):
        raise UnexpectedResponse("the asset list is not a list", method="currencies")
    return {asset.code: asset for asset in (Asset(item) for item in raw if isinstance(item, Mapping))}


def direction_id(give: str, get: str) -> str:
    return f"{give}{SEPARATOR}{get}"


def pair_of(direction: str) -> tuple[str, str] | None:
    give, sep, get = direction.partition(SEPARATOR)
    return (give, get) if sep and give and get and SEPARATOR not in get else None


def listed_pairs(raw: object, assets: Mapping[str, Asset]) -> list[tuple[Asset, Asset]]:
    """Pairs both of whose assets are listed, and whose receive side can pay out."""
    if not isinstance(raw, list):
        raise UnexpectedResponse("the pair list is not a list", method="pairs")
    pairs = []
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        give, get = assets.get(str(item.get("from"))), assets.get(str(item.get("to")))
        if give is not None and get is not None and give.recv and get.send:
            pairs.append((give, get))
    return pairs


def currency_lists(assets: Mapping[str, Asset], pairs: Iterable[tuple[Asset, Asset]]) -> CurrencyLists:
    pairs = list(pairs)
    gives = {give.code for give, _ in pairs}
    gets = {get.code for _, get in pairs}
    return CurrencyLists(
        give=[a.currency() for a in assets.values() if a.code in gives],
        get=[a.currency() for a in assets.values() if a.code in gets],
    )


def summaries(pairs: Iterable[tuple[Asset, Asset]]) -> list[DirectionSummary]:
    return [
        DirectionSummary(id=direction_id(give.code, get.code), give=give.currency(), get=get.currency())
        for give, get in pairs
    ]


def form_fields(give: Asset, get: Asset, lang: str | None) -> list[FormField]:
    fields = [
        FormField(
            name=TO_FIELD,
            label=translate(TO_LABEL, lang, asset=get.title),
            hint=translate(TO_HINT, lang, network=get.network or get.coin, coin=get.coin),
            required=True,
            purpose=FieldPurpose.GET_ACCOUNT,
            max_length=200,
            pattern=address_pattern(get.network),
            value_kind=ValueKind.ADDRESS,
            currency=get.coin,
            network=get.network or None,
        )
    ]
    if get.tag:
        fields.append(
            FormField(name=TAG_FIELD, label=translate(TAG_LABEL, lang, asset=get.title), max_length=100)
        )
    fields.append(
        FormField(
            name=REFUND_FIELD,
            label=translate(REFUND_LABEL, lang, asset=give.title),
            hint=translate(REFUND_HINT, lang, network=give.network or give.coin),
            required=True,
            purpose=FieldPurpose.REFUND_ADDRESS,
            max_length=200,
            pattern=address_pattern(give.network),
            value_kind=ValueKind.ADDRESS,
            currency=give.coin,
            network=give.network or None,
        )
    )
    return fields


def _side(raw: object, name: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get(name), Mapping):
        raise UnexpectedResponse(f"the price has no {name!r} side", method="price")
    return raw[name]


def pricing(raw: object) -> dict[str, Any]:
    """The :class:`~bot.domain.models.Pricing` values of a /v1/price answer."""
    give, get = _side(raw, "from"), _side(raw, "to")
    give_amount = _decimal(give.get("amount"), "from.amount", "price")
    get_amount = _decimal(get.get("amount"), "to.amount", "price")
    rate = _decimal(give.get("rate"), "from.rate", "price")
    if rate <= 0:
        raise UnexpectedResponse("the rate is not positive", method="price")
    if rate >= 1:
        give_rate, get_rate = Decimal(1), rate
    else:
        back = _optional(get.get("rate"))
        give_rate, get_rate = (back if back and back > 0 else 1 / rate), Decimal(1)
    values: dict[str, Any] = {
        "give_currency_code": str(give.get("coin") or coin_of(str(give.get("code") or ""))),
        "get_currency_code": str(get.get("coin") or coin_of(str(get.get("code") or ""))),
        "give_rate": give_rate,
        "get_rate": get_rate,
        "give_amount": give_amount,
        "get_amount": get_amount,
        "min_give": _optional(give.get("min")),
        "max_give": _optional(give.get("max")),
        "min_get": _optional(get.get("min")),
        "max_get": _optional(get.get("max")),
        "floating_rate": True,
    }
    usd = _optional(give.get("usd"))
    if usd is not None:
        values["give_amount_usd"] = usd
        if give_amount > 0 and usd > 0:
            per_unit = usd / give_amount
            for bound in ("min", "max"):
                limit = values[f"{bound}_give"]
                if limit is not None:
                    values[f"{bound}_usd"] = (limit * per_unit).quantize(_CENT, rounding=ROUND_HALF_UP)
    return values


def quote(raw: object, *, adjusted: bool = False) -> Quote:
    return Quote(**pricing(raw), adjusted=adjusted)


def direction(give: Asset, get: Asset, price: object, lang: str | None) -> Direction:
    values = pricing(price)
    for amount in ("give_amount", "get_amount", "give_amount_usd"):
        values.pop(amount)
    note = translate(FLOATING_NOTE, lang)
    return Direction(
        id=direction_id(give.code, get.code),
        fields=form_fields(give, get, lang),
        notes=DirectionNotes(timeline=note, before_confirm=note),
        **values,
    )


# -- orders ----------------------------------------------------------------------------------------


def _part(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = raw.get(name)
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def order(raw: object, *, token: str | None = None, assets: Mapping[str, Asset] | None = None) -> Order:
    """The neutral order of an order DTO (``token``: the one-time secret, when this answer had it)."""
    method = "order"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str) or not raw.get("id"):
        raise UnexpectedResponse("an order without an id", method=method)
    assets = assets or {}
    status = status_of(raw.get("status") if isinstance(raw.get("status"), str) else None)
    times, give, get, back = _part(raw, "time"), _part(raw, "from"), _part(raw, "to"), _part(raw, "back")
    emergency = _part(raw, "emergency")
    give_code, get_code = str(give.get("code") or ""), str(get.get("code") or "")
    give_asset, get_asset = assets.get(give_code), assets.get(get_code)
    give_coin = give_asset.coin if give_asset else coin_of(give_code)
    get_coin = get_asset.coin if get_asset else coin_of(get_code)
    give_network = _text(give.get("network")) or (give_asset.network if give_asset else None)
    get_network = _text(get.get("network")) or (get_asset.network if get_asset else None)
    give_amount = _optional(give.get("amount"))
    reasons = [_REASONS.get(r, r) for r in emergency.get("status") or [] if isinstance(r, str)]
    choice = emergency.get("choice") if isinstance(emergency.get("choice"), str) else "NONE"
    expires_at = times.get("expiration") if isinstance(times.get("expiration"), int) else None
    left = times.get("left") if isinstance(times.get("left"), int) else None
    payment = None
    if status.code == NEW and _text(give.get("address")):
        payment = PaymentDetails(
            amount=give_amount,
            currency_code=give_coin,
            network=give_network,
            address=give.get("address"),
            expires_at=expires_at,
            seconds_left=max(left, 0) if left is not None else None,
        )
    rate = _optional(raw.get("rate"))
    try:
        return Order(
            ref=OrderRef(id=raw["id"], secret=SecretStr(token) if token else None),
            number=raw["id"].split("-")[0][:12],
            status=status,
            give_title=f"{give_coin} · {give_network}" if give_network else give_coin,
            get_title=f"{get_coin} · {get_network}" if get_network else get_coin,
            give_currency_code=give_coin,
            get_currency_code=get_coin,
            give_amount=give_amount,
            get_amount=_optional(get.get("amount")),
            give_rate=Decimal(1) if rate else None,
            get_rate=rate,
            payment=payment,
            actions=OrderActions(continue_at_current_rate=status.code == EMERGENCY and choice == "NONE"),
            refund_address=_text(back.get("address")),
            decision_reasons=reasons if status.code == EMERGENCY else [],
            give_tx_id=_text(_part(give, "tx").get("id")),
            get_tx_id=_text(_part(get, "tx").get("id")),
            refund_tx_id=_text(_part(back, "tx").get("id")),
        )
    except ValidationError as exc:
        problems = exc.error_count()
        raise UnexpectedResponse(f"an unreadable order ({problems} problems)", method=method) from None


def changed_at(raw: Mapping[str, Any]) -> int | None:
    update = _part(raw, "time").get("update")
    return update if isinstance(update, int) and not isinstance(update, bool) else None


def reference_code(raw: object, method: str = "codes") -> ReferenceCode:
    """One row of ``/v1/codes`` (``{id, code, label, afftaxBps, enabled, createdAt}``)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("code"), str):
        raise UnexpectedResponse("a reference code without its code", method=method)
    bps = raw.get("afftaxBps")
    return ReferenceCode(
        code=raw["code"],
        label=_text(raw.get("label")),
        markup_bps=bps if isinstance(bps, int) and not isinstance(bps, bool) else 0,
        enabled=raw.get("enabled") is True,
        created_at=_text(raw.get("createdAt")),
    )
