"""Platform-neutral models of what an exchanger offers: currencies, directions, quotes, orders, partners.

Money and rates are ``Decimal`` (from ``str``/``int``/``Decimal`` only, never ``float``). Ids are strings
(PremiumExchanger sends ints, other platforms codes). Texts such as commissions, instructions and
direction info keep the server's raw HTML; the UI converts it. Unknown keys are ignored.
"""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator

from bot.money import parse_decimal

__all__ = [
    "FINAL_STATUSES",
    "ActionAccess",
    "ActionMode",
    "Amount",
    "ApiCredentials",
    "ApiIdentity",
    "CalcAction",
    "Currency",
    "CurrencyLists",
    "Direction",
    "DirectionInfo",
    "DirectionSummary",
    "FieldOption",
    "FieldSpec",
    "FieldType",
    "Order",
    "OrderActions",
    "OrderRecord",
    "OrderRequest",
    "OrderStatus",
    "PartnerClick",
    "PartnerExchange",
    "PartnerInfo",
    "PartnerPayout",
    "PayoutCurrency",
    "PayoutStatus",
    "Pricing",
    "Quote",
    "StatusChange",
    "is_final_status",
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
    """Which amount ``quote``/``create_order`` is given."""

    GIVE = 1
    GET = 2
    GIVE_WITH_COMMISSION = 3
    GET_WITH_COMMISSION = 4


class OrderStatus(StrEnum):
    """Known status codes. Sites add their own: keep ``Order.status`` a plain string."""

    COLDNEW = "coldnew"
    NEW = "new"
    TECHPAY = "techpay"
    PAYED = "payed"
    COLDPAY = "coldpay"
    PARTPAY = "partpay"
    REALPAY = "realpay"
    VERIFY = "verify"
    AMLWAIT = "amlwait"
    AMLERROR = "amlerror"
    MERCHWAIT = "merchwait"
    MERCHERROR = "mercherror"
    COLDSUCCESS = "coldsuccess"
    PARTPAYOUT = "partpayout"
    PAYOUTERROR = "payouterror"
    SCRPAYERROR = "scrpayerror"
    SUCCESS = "success"
    CANCEL = "cancel"
    DELETE = "delete"
    ERROR = "error"


FINAL_STATUSES = frozenset({OrderStatus.SUCCESS, OrderStatus.CANCEL, OrderStatus.DELETE, OrderStatus.ERROR})


def is_final_status(code: str | None) -> bool:
    """True for success, cancel, delete and error; unknown codes are not final."""
    return (code or "").strip().lower() in FINAL_STATUSES


class ApiIdentity(_Model):
    """Who the key belongs to (PremiumExchanger ``test``). ``user_id`` "0" is the "System" user."""

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


class FieldOption(NamedTuple):
    key: str
    label: str


class FieldSpec(_Model):
    """One input of an order form. Post ``options[i].key`` for a select, ``checkbox_value`` when ticked."""

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

    @property
    def choices(self) -> list[FieldOption]:
        """Options a user may pick: the ``"0"`` "No selected" placeholder is not an answer when required."""
        if self.required:
            return [o for o in self.options if o.key != "0"]
        return list(self.options)


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


class ActionMode(StrEnum):
    API = "api"
    LINK = "link"
    DISABLED = "disabled"


class ActionAccess(_Model):
    """How an order action (cancel, pay) is done: through the API, by sending the user to ``url``, or not."""

    mode: ActionMode = ActionMode.DISABLED
    url: str | None = None


class OrderActions(_Model):
    type: Text = ""
    cancel: ActionAccess = Field(default_factory=ActionAccess)
    pay: ActionAccess = Field(default_factory=ActionAccess)
    pay_amount: OptionalAmount = None
    instruction: Text = ""
    address: OptionalText = None
    dest_tag: OptionalText = None


class Order(_Model):
    id: Id
    hash: Text = ""
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
        return is_final_status(self.status)


class StatusChange(_Model):
    time: UnixTime
    date: Text = ""
    status: Text


class OrderRecord(_Model):
    """An order as listed (PremiumExchanger ``get_exchanges``). ``time`` is the last status change."""

    id: Id
    api_id: OptionalId = None
    hash: OptionalText = None
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
        return is_final_status(self.status)


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
    commission: Text = ""  # a text such as "2%"
    amount: OptionalAmount = None


class PartnerInfo(_Model):
    partner_id: Id
    balance: Amount
    min_payout: OptionalAmount = None
    items: list[PayoutCurrency] = Field(default_factory=list)


class PartnerClick(_Model):
    id: Id
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


class PayoutStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


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
