"""PremiumExchanger's shapes (:mod:`.models`) → the bot's neutral models (:mod:`bot.domain.models`).

Pure functions, no I/O. Field names, status codes and ``api_actions`` stop here.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import SecretStr

from bot.domain import models as neutral
from bot.domain.models import (
    AMOUNT_FIELD,
    ActionMode,
    AmountSide,
    FieldKind,
    FieldOption,
    FieldPurpose,
    ValueKind,
)
from bot.platforms.premiumexchanger import models as pe
from bot.platforms.premiumexchanger.statuses import status_of

__all__ = [
    "calc_action",
    "currency_lists",
    "direction",
    "direction_summaries",
    "form_field",
    "neutral_field_errors",
    "observation",
    "order",
    "order_from_record",
    "partner_click",
    "partner_exchange",
    "partner_payout",
    "partner_summary",
    "quote",
    "sides_of",
]

_CALC_ACTIONS = {
    AmountSide.GIVE: pe.CalcAction.GIVE,
    AmountSide.GET: pe.CalcAction.GET,
    AmountSide.GIVE_WITH_FEES: pe.CalcAction.GIVE_WITH_COMMISSION,
    AmountSide.GET_WITH_FEES: pe.CalcAction.GET_WITH_COMMISSION,
}

_PURPOSES = {
    "account1": FieldPurpose.GIVE_ACCOUNT,
    "account2": FieldPurpose.GET_ACCOUNT,
    "cf1": FieldPurpose.NAME,
    "cf2": FieldPurpose.NAME,
    "cf3": FieldPurpose.NAME,
    "cf4": FieldPurpose.PHONE,
    "cf6": FieldPurpose.EMAIL,
    "cf11": FieldPurpose.TELEGRAM,
}

_VALUES = {
    "cf1": ValueKind.FIRST_NAME,
    "cf2": ValueKind.MIDDLE_NAME,
    "cf3": ValueKind.LAST_NAME,
    "cf4": ValueKind.PHONE,
    "cf6": ValueKind.EMAIL,
    "cf11": ValueKind.TELEGRAM,
}
# The account fields hold a wallet address when their side's currency is a coin, a card number when
# the site's own label says so; anything else (a Payeer account, ...) is left as text.
_ACCOUNT_SIDES = {"account1": "give", "account2": "get"}
_COINS = frozenset(
    "BTC ETH LTC DOGE BCH DASH XMR ZEC TRX TON XRP SOL BNB USDT USDC DAI BUSD TUSD MATIC POL AVAX ADA DOT "
    "XLM ATOM SHIB LINK UNI".split()
)
_NETWORK_HINT = re.compile(r"TRC-?20|ERC-?20|BEP-?20|Polygon|Arbitrum|Optimism|Solana|Tron|\bTON\b", re.I)
_CARD_HINT = re.compile(r"card|карт|visa|mastercard|\bмир\b", re.I)

_KINDS = {
    pe.FieldType.TEXT: FieldKind.TEXT,
    pe.FieldType.TEXTAREA: FieldKind.TEXTAREA,
    pe.FieldType.SELECT: FieldKind.SELECT,
    pe.FieldType.CHECKBOX: FieldKind.CHECKBOX,
}

# The site's own pseudo-fields for amount errors (with commission: ...c).
AMOUNT_PSEUDO_FIELDS = frozenset({"sum1", "sum2", "sum1c", "sum2c"})
NO_SELECTION = "0"  # a select's "No selected" placeholder key
TEXT_MAX_LENGTH = 255
TEXTAREA_MAX_LENGTH = 2000


def calc_action(side: AmountSide) -> pe.CalcAction:
    return _CALC_ACTIONS[AmountSide(side)]


# -- catalogue ------------------------------------------------------------------------------------


def _currency(c: pe.Currency) -> neutral.Currency:
    return neutral.Currency(id=c.id, title=c.title, logo=c.logo)


def currency_lists(lists: pe.CurrencyLists) -> neutral.CurrencyLists:
    return neutral.CurrencyLists(
        give=[_currency(c) for c in lists.give], get=[_currency(c) for c in lists.get]
    )


def direction_summaries(items: list[pe.DirectionSummary]) -> list[neutral.DirectionSummary]:
    return [neutral.DirectionSummary(id=d.id, give=_currency(d.give), get=_currency(d.get)) for d in items]


def _value_of(spec: pe.FieldSpec, codes: dict[str, str]) -> dict[str, object]:
    """What the field's value is (:class:`ValueKind`), with the currency and network of an account."""
    side = _ACCOUNT_SIDES.get(spec.name)
    if side is None:
        return {"value_kind": _VALUES.get(spec.name, ValueKind.TEXT)}
    code = codes.get(side, "").strip().upper()
    words = f"{spec.label} {spec.tooltip or ''}"
    if code in _COINS:
        hint = _NETWORK_HINT.search(f"{code} {words}")
        return {"value_kind": ValueKind.ADDRESS, "currency": code, "network": hint.group(0) if hint else None}
    if _CARD_HINT.search(words):
        return {"value_kind": ValueKind.CARD, "currency": code or None}
    return {}


def form_field(spec: pe.FieldSpec, codes: dict[str, str] | None = None) -> neutral.FormField:
    """A select's options lose the "No selected" placeholder; a checkbox's single option is the value
    the site wants posted when it is ticked, labelled with the checkbox's text. ``codes`` are the
    direction's currency codes by side ("give", "get"): an account field's value belongs to one."""
    kind = _KINDS[spec.type]
    if kind is FieldKind.CHECKBOX:
        text = spec.checkbox_text or spec.label
        options = [FieldOption(spec.checkbox_value or "1", text)]
        checkbox_text: str | None = text
    else:
        options = [o for o in spec.options if o.key != NO_SELECTION] if kind is FieldKind.SELECT else []
        checkbox_text = None
    return neutral.FormField(
        name=spec.name,
        kind=kind,
        label=spec.label,
        required=spec.required,
        hint=spec.tooltip,
        options=options,
        checkbox_text=checkbox_text,
        changes_price=spec.changes_price,
        purpose=_PURPOSES.get(spec.name, FieldPurpose.OTHER),
        max_length=TEXTAREA_MAX_LENGTH if kind is FieldKind.TEXTAREA else TEXT_MAX_LENGTH,
        **(_value_of(spec, codes or {}) if kind is FieldKind.TEXT else {}),
    )


def _pricing(p: pe.Pricing) -> dict[str, object]:
    return {
        "give_currency_code": p.give_currency_code,
        "get_currency_code": p.get_currency_code,
        "reserve": p.reserve,
        "give_rate": p.give_rate,
        "get_rate": p.get_rate,
        "give_amount": p.give_amount,
        "give_amount_with_fees": p.give_amount_with_commission,
        "get_amount": p.get_amount,
        "get_amount_with_fees": p.get_amount_with_commission,
        "give_fee_text": p.give_commission_text,
        "get_fee_text": p.get_commission_text,
        "min_give": p.min_give,
        "max_give": p.max_give,
        "min_get": p.min_get,
        "max_get": p.max_get,
    }


def _differs(amount: Decimal | None, with_fees: Decimal | None) -> bool:
    return amount is not None and with_fees is not None and amount != with_fees


def sides_of(d: pe.Pricing) -> tuple[AmountSide, ...]:
    """GIVE and GET always; a "with fees" side only when the fees make it a different amount."""
    sides = [AmountSide.GIVE, AmountSide.GET]
    if _differs(d.give_amount, d.give_amount_with_commission):
        sides.append(AmountSide.GIVE_WITH_FEES)
    if _differs(d.get_amount, d.get_amount_with_commission):
        sides.append(AmountSide.GET_WITH_FEES)
    return tuple(sides)


def direction(d: pe.Direction) -> neutral.Direction:
    return neutral.Direction(
        id=d.id,
        url=d.url,
        fields=[form_field(f, {"give": d.give_currency_code, "get": d.get_currency_code}) for f in d.fields],
        notes=neutral.DirectionNotes(
            timeline=d.info.timeline_text,
            frozen=d.info.frozen_text,
            before_confirm=d.info.before_button_text,
        ),
        sides=sides_of(d),
        **_pricing(d),
    )


def quote(q: pe.Quote) -> neutral.Quote:
    return neutral.Quote(adjusted=q.changed, **_pricing(q))


# -- orders ---------------------------------------------------------------------------------------


def order(o: pe.Order) -> neutral.Order:
    """The bid's hash is its secret (``OrderRef.secret``). Payment details only while the bid still
    waits for the payment: not once final, nor once the site marks its actions ``finished``."""
    status = status_of(o.status, o.status_title)
    actions = o.actions
    waiting = not status.is_final and actions.type.strip().lower() != "finished"
    payment = None
    if waiting:
        payment = neutral.PaymentDetails(
            instruction=actions.instruction,
            amount=actions.pay_amount,
            currency_code=o.give_currency_code,
            address=actions.address,
            tag=actions.dest_tag,
            pay_url=actions.pay.url if actions.pay.mode is ActionMode.LINK else None,
        )
    return neutral.Order(
        ref=neutral.OrderRef(id=o.id, secret=SecretStr(o.hash) if o.hash else None),
        number=o.id,
        url=o.url,
        status=status,
        give_title=o.give_payment_system,
        get_title=o.get_payment_system,
        give_currency_code=o.give_currency_code,
        get_currency_code=o.get_currency_code,
        give_amount=o.give_amount,
        get_amount=o.get_amount,
        give_rate=o.give_rate,
        get_rate=o.get_rate,
        payment=payment,
        actions=neutral.OrderActions(cancel=actions.cancel, mark_paid=actions.pay),
    )


def order_from_record(r: pe.OrderRecord) -> neutral.Order:
    """A bid as get_exchanges lists it, when bid_info won't show it: no URL, payment or actions."""
    return neutral.Order(
        ref=neutral.OrderRef(id=r.id, secret=SecretStr(r.hash) if r.hash else None),
        number=r.id,
        status=status_of(r.status),
        give_title=r.give_payment_system,
        get_title=r.get_payment_system,
        give_currency_code=r.give_currency_code,
        get_currency_code=r.get_currency_code,
        give_amount=r.give_amount,
        get_amount=r.get_amount,
        give_rate=r.give_rate,
        get_rate=r.get_rate,
    )


def neutral_field_errors(field_errors: dict[str, str]) -> dict[str, str]:
    """create_bid's ``error_fields`` with the amount pseudo-fields merged into ``AMOUNT_FIELD``."""
    result: dict[str, str] = {}
    for name, message in field_errors.items():
        key = AMOUNT_FIELD if name in AMOUNT_PSEUDO_FIELDS else name
        result[key] = f"{result[key]} {message}" if key in result else message
    return result


# -- partner cabinet ------------------------------------------------------------------------------


def partner_summary(info: pe.PartnerInfo) -> neutral.PartnerSummary:
    """The balance is in the site's base currency, which the API does not name."""
    return neutral.PartnerSummary(
        partner_id=info.partner_id,
        balance=info.balance,
        balance_currency="",
        min_payout=info.min_payout,
        methods=[
            neutral.PayoutMethod(id=i.id, title=i.title, fee_text=i.commission, available=i.amount)
            for i in info.items
        ],
    )


def partner_click(c: pe.PartnerClick) -> neutral.PartnerClick:
    return neutral.PartnerClick(
        id=c.id,
        time=c.time,
        browser=c.browser,
        ip=c.ip,
        referrer=c.referrer,
        visitor=c.user_hash,
        query_string=c.query_string,
    )


def partner_exchange(e: pe.PartnerExchange) -> neutral.PartnerExchange:
    return neutral.PartnerExchange(
        id=e.id,
        time=e.time,
        status=status_of(e.status),
        give_currency_code=e.give_currency_code,
        get_currency_code=e.get_currency_code,
        give_amount=e.give_amount,
        get_amount=e.get_amount,
        succeeded=e.succeeded,
        accrued=e.accrued,
        reward=e.partner_reward,
        visitor=e.user_hash,
        date=e.date,
        give_title=e.give_payment_system,
        get_title=e.get_payment_system,
    )


def partner_payout(p: pe.PartnerPayout) -> neutral.PartnerPayout:
    return neutral.PartnerPayout(
        id=p.id,
        time=p.time,
        method=p.method_id,
        account=p.account,
        amount=p.pay_amount,
        currency_code=p.pay_currency_code,
        original_amount=p.original_amount,
        original_currency_code=p.original_currency_code,
        status=p.status,
        date=p.date,
    )


def observation(record: pe.OrderRecord) -> neutral.OrderObservation:
    """A listed bid's status (listings carry no status title) at its last change."""
    return neutral.OrderObservation(
        order_id=record.id,
        status=status_of(record.status),
        changed_at=record.time,
        idempotency_key=record.api_id,
    )
