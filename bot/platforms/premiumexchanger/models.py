"""PremiumExchanger's own shapes, as the wire-level client reads and sends them.

Only this package uses them: the adapter maps them to :mod:`bot.domain.models`. Money and rates are
``Decimal`` (from ``str``/``int``/``Decimal`` only, never ``float``); ids are strings (the server sends
ints). Texts (commissions, instructions, direction info) keep the server's raw HTML. Unknown keys are
ignored.
"""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator

from bot.domain.models import ActionAccess, FieldOption, PayoutStatus
from bot.domain.money import parse_decimal
from bot.platforms.premiumexchanger.statuses import is_final_code

__all__ = [
    "ApiCredentials",
    "ApiIdentity",
    "CalcAction",
    "Currency",
    "CurrencyLists",
    "Direction",
    "DirectionInfo",
    "DirectionSummary",
    "FieldSpec",
    "FieldType",
    "Order",
    "OrderActions",
    "OrderRecord",
    "OrderRequest",
    "PartnerClick",
    "PartnerExchange",
    "PartnerInfo",
    "PartnerPayout",
    "PayoutCurrency",
    "Pricing",
    "Quote",
    "StatusChange",
]


def _optional_decimal(value: object) -> Decimal | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "no", "-")):
        return None
    return parse_decimal(value)


def _id(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("an id must be a string or an integer")
    return str(value).strip()


def _optional_id(value: object) -> str | None:
    if value is None or value == "" or value == [] or value == {}:
        return None
    return _id(value)


def _text(value: object) -> str:
    if value is None or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        raise ValueError("a boolean is not text")
    if isinstance(value, (int, str, Decimal)):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__}")


def _optional_text(value: object) -> str | None:
    return _text(value) or None


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or value == "" or value == []:
        return False
    if isinstance(value, (int, str)):
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
    raise ValueError(f"not a 0/1 flag: {value!r}")


def _unix_time(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise ValueError("not a unix time")


Amount = Annotated[Decimal, BeforeValidator(parse_decimal)]
OptionalAmount = Annotated[Decimal | None, BeforeValidator(_optional_decimal)]
Id = Annotated[str, BeforeValidator(_id)]
OptionalId = Annotated[str | None, BeforeValidator(_optional_id)]
Text = Annotated[str, BeforeValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]
UnixTime = Annotated[int, BeforeValidator(_unix_time)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ApiCredentials(_Model):
    """An API login and key. The key is a SecretStr: repr/str never show it."""

    login: str
    key: SecretStr

    def __str__(self) -> str:
        return f"ApiCredentials(login={self.login!r}, key='**********')"


class CalcAction(IntEnum):
    """Which amount ``quote``/``create_order`` is given (get_calc/create_bid ``calc_action``)."""

    GIVE = 1
    GET = 2
    GIVE_WITH_COMMISSION = 3
    GET_WITH_COMMISSION = 4


class ApiIdentity(_Model):
    """Who the key belongs to (``test``). ``user_id`` "0" is the site's "System" user."""

    ip: Text = ""
    user_id: Id
    locale: Text = ""
    partner_id: OptionalId = None

    @property
    def is_system_user(self) -> bool:
        return self.user_id == "0"


class Currency(_Model):
    id: Id
    title: Text = ""
    logo: OptionalText = None


class CurrencyLists(_Model):
    give: list[Currency] = Field(default_factory=list)
    get: list[Currency] = Field(default_factory=list)


class DirectionSummary(_Model):
    id: Id
    give: Currency
    get: Currency


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    SELECT = "select"
    CHECKBOX = "checkbox"


class FieldSpec(_Model):
    """One input of an order form as the site describes it. ``options`` keep the ``"0"`` "No selected"
    placeholder; post ``checkbox_value`` when a checkbox is ticked."""

    name: str
    type: FieldType = FieldType.TEXT
    label: Text = ""
    required: bool = False
    tooltip: OptionalText = None
    format: OptionalText = None
    options: list[FieldOption] = Field(default_factory=list)
    checkbox_text: OptionalText = None
    checkbox_value: OptionalText = None
    changes_price: bool = False

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> FieldType:
        try:
            return FieldType(str(value).strip().lower())
        except ValueError:
            return FieldType.TEXT


class Pricing(_Model):
    """Rates, amounts and limits of a direction for a given amount (shared by Direction and Quote)."""

    give_currency_code: Text = ""
    get_currency_code: Text = ""
    reserve: OptionalAmount = None
    give_rate: Amount
    get_rate: Amount
    give_amount: OptionalAmount = None
    give_amount_with_commission: OptionalAmount = None
    get_amount: OptionalAmount = None
    get_amount_with_commission: OptionalAmount = None
    give_commission_text: Text = ""
    get_commission_text: Text = ""
    min_give: OptionalAmount = None
    max_give: OptionalAmount = None
    min_get: OptionalAmount = None
    max_get: OptionalAmount = None


class DirectionInfo(_Model):
    timeline_text: Text = ""
    frozen_text: Text = ""
    before_button_text: Text = ""


class Direction(Pricing):
    id: Id
    url: Text = ""
    give_fields: list[FieldSpec] = Field(default_factory=list)
    get_fields: list[FieldSpec] = Field(default_factory=list)
    dir_fields: list[FieldSpec] = Field(default_factory=list)
    info: DirectionInfo = Field(default_factory=DirectionInfo)

    @property
    def fields(self) -> list[FieldSpec]:
        """Every input of the order form, give side first."""
        return [*self.give_fields, *self.get_fields, *self.dir_fields]

    @property
    def price_fields(self) -> list[FieldSpec]:
        """Inputs that change the price: send them to ``quote`` as ``cd_fields``."""
        return [f for f in self.fields if f.changes_price]


class Quote(Pricing):
    changed: Flag = False  # the amount was adjusted (limits, reserve): show the new one


class OrderActions(_Model):
    """``api_actions`` of a bid: how to pay and cancel, and what to pay."""

    type: Text = ""
    cancel: ActionAccess = Field(default_factory=ActionAccess)
    pay: ActionAccess = Field(default_factory=ActionAccess)
    pay_amount: OptionalAmount = None
    instruction: Text = ""
    address: OptionalText = None
    dest_tag: OptionalText = None


class Order(_Model):
    """A bid object (create_bid, bid_info). ``hash`` is the bid's secret: never shown or logged."""

    id: Id
    hash: Text = Field(default="", repr=False)
    url: Text = ""
    status: Text
    status_title: Text = ""
    give_payment_system: Text = ""
    get_payment_system: Text = ""
    give_currency_code: Text = ""
    get_currency_code: Text = ""
    give_amount: OptionalAmount = None
    get_amount: OptionalAmount = None
    give_rate: OptionalAmount = None
    get_rate: OptionalAmount = None
    actions: OrderActions = Field(default_factory=OrderActions)

    @property
    def is_final(self) -> bool:
        return is_final_code(self.status)


class StatusChange(_Model):
    time: UnixTime
    date: Text = ""
    status: Text


class OrderRecord(_Model):
    """A bid as listed (``get_exchanges``). ``time`` is its last status change, in the site's shifted
    clock (see the reference page: local time read as UTC)."""

    id: Id
    api_id: OptionalId = None
    hash: OptionalText = Field(default=None, repr=False)
    time: UnixTime
    date: Text = ""
    status: Text
    give_payment_system: Text = ""
    get_payment_system: Text = ""
    give_currency_code: Text = ""
    get_currency_code: Text = ""
    give_rate: OptionalAmount = None
    get_rate: OptionalAmount = None
    give_amount: OptionalAmount = None
    get_amount: OptionalAmount = None
    succeeded: Flag = False
    user_hash: Text = ""
    user_ip: Text = ""
    status_history: list[StatusChange] = Field(default_factory=list)

    @property
    def is_final(self) -> bool:
        return is_final_code(self.status)


class OrderRequest(_Model):
    """What ``create_order`` sends; ``fields`` (personal data) and ``callback_url`` stay out of repr."""

    direction_id: Id
    amount: Amount
    action: CalcAction = CalcAction.GIVE
    fields: dict[str, str] = Field(default_factory=dict, repr=False)
    api_id: OptionalId = None
    partner_id: OptionalId = None
    callback_url: str | None = Field(default=None, repr=False)


class PayoutCurrency(_Model):
    id: Id
    title: Text = ""
    commission: Text = ""  # a text such as "2%" (the server spells the key ``comission``)
    amount: OptionalAmount = None


class PartnerInfo(_Model):
    partner_id: Id
    balance: Amount
    min_payout: OptionalAmount = None
    items: list[PayoutCurrency] = Field(default_factory=list)


class PartnerClick(_Model):
    id: Id  # synthesized from the click's fields when the server sends none
    time: UnixTime
    date: Text = ""
    browser: Text = ""
    ip: Text = ""
    referrer: Text = ""
    user_hash: Text = ""
    query_string: Text = ""


class PartnerExchange(OrderRecord):
    accrued: Flag = False
    partner_reward: Amount = Decimal(0)


class PartnerPayout(_Model):
    id: Id
    time: UnixTime
    date: Text = ""
    method_id: Text = ""
    account: Text = ""
    pay_amount: OptionalAmount = None
    pay_currency_code: Text = ""
    original_amount: OptionalAmount = None
    original_currency_code: Text = ""
    status: PayoutStatus = PayoutStatus.UNKNOWN
