"""What the bot knows about exchanges, in its own words: every platform adapter maps its wire to these.

Money and rates are ``Decimal`` (from ``str``/``int``/``Decimal`` only, never ``float``). Ids are strings.
Texts such as fee notes, payment instructions and direction notes keep the server's raw HTML; the UI
makes it safe. Unknown keys are ignored.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

from bot.domain.money import parse_decimal

__all__ = [
    "AMOUNT_FIELD",
    "FINAL_PHASES",
    "ActionAccess",
    "ActionMode",
    "AmountSide",
    "Attribution",
    "Currency",
    "CurrencyLists",
    "Direction",
    "DirectionNotes",
    "DirectionSummary",
    "FieldKind",
    "FieldOption",
    "FieldPurpose",
    "FormField",
    "Order",
    "OrderActions",
    "OrderObservation",
    "OrderPhase",
    "OrderRef",
    "OrderRequest",
    "OrderStatus",
    "PartnerClick",
    "PartnerExchange",
    "PartnerPayout",
    "PartnerReferral",
    "PartnerStats",
    "PartnerStatsPoint",
    "PartnerSummary",
    "PaymentDetails",
    "PayoutMethod",
    "PayoutStatus",
    "Pricing",
    "Quote",
    "ReferenceCode",
    "ValueKind",
]

# The key of ``ValidationFailed.field_errors`` that means "the amount", whatever the platform called it.
AMOUNT_FIELD = "@amount"


def _optional_decimal(value: object) -> Decimal | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "no", "-")):
        return None
    return parse_decimal(value)


def _id(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("an id must be a string or an integer")
    return str(value).strip()


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


Amount = Annotated[Decimal, BeforeValidator(parse_decimal)]
OptionalAmount = Annotated[Decimal | None, BeforeValidator(_optional_decimal)]
Id = Annotated[str, BeforeValidator(_id)]
Text = Annotated[str, BeforeValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# -- catalogue -------------------------------------------------------------------------------------


class Currency(_Model):
    """Something a customer gives or receives: a payment system, a bank, a coin on a network."""

    id: Id
    title: Text = ""
    code: Text = ""  # ticker or ISO code, for amounts
    network: OptionalText = None
    logo: OptionalText = None


class CurrencyLists(_Model):
    give: list[Currency] = Field(default_factory=list)
    get: list[Currency] = Field(default_factory=list)


class DirectionSummary(_Model):
    id: Id
    give: Currency
    get: Currency


class AmountSide(StrEnum):
    """What an amount means (:meth:`Pricing.amount_on` reads it back). The customer always types an
    exact figure (:meth:`bot.exchange.quoting.QuotingService.sides`): the WITH_FEES side where the
    platform quotes one, else GIVE / GET, which a platform without such sides takes as exactly what is
    sent and received."""

    GIVE = "give"  # the give amount before any give-side fees (a platform quoting fees apart adds them)
    GET = "get"  # the receive amount before any receive-side fees (a platform quoting them apart takes them)
    GIVE_WITH_FEES = "give_fees"  # exactly what the customer sends, fees included
    GET_WITH_FEES = "get_fees"  # exactly what the customer receives, fees deducted

    @property
    def is_give(self) -> bool:
        return self in (AmountSide.GIVE, AmountSide.GIVE_WITH_FEES)


class FieldKind(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    SELECT = "select"
    CHECKBOX = "checkbox"


class FieldPurpose(StrEnum):
    """What a value is, when the platform says: lets the bot remember and offer it in the right place."""

    OTHER = "other"
    GIVE_ACCOUNT = "give_account"  # where the customer pays from (card, wallet)
    GET_ACCOUNT = "get_account"  # where the customer receives (card, wallet, address)
    REFUND_ADDRESS = "refund_address"
    EMAIL = "email"
    PHONE = "phone"
    TELEGRAM = "telegram"
    NAME = "name"


class ValueKind(StrEnum):
    """What a typed value is, so the bot can check it as it is typed and remember it where it fits.
    An address names its ``FormField.network`` (and ``currency``) where the platform says."""

    TEXT = "text"  # anything; checked only against the platform's own rules
    CARD = "card"  # a bank card number
    ADDRESS = "address"  # a wallet address
    EMAIL = "email"
    PHONE = "phone"
    TELEGRAM = "telegram"  # a Telegram username
    NAME = "name"  # a person's full name
    FIRST_NAME = "first_name"
    MIDDLE_NAME = "middle_name"
    LAST_NAME = "last_name"


class FieldOption(NamedTuple):
    key: str
    label: str


class FormField(_Model):
    """One input of an order form. A select's ``options`` are real answers only (no placeholder);
    a ticked checkbox is answered with ``"1"``, an empty answer means skipped."""

    name: str
    kind: FieldKind = FieldKind.TEXT
    label: Text = ""
    required: bool = False
    hint: OptionalText = None
    options: list[FieldOption] = Field(default_factory=list)
    checkbox_text: OptionalText = None
    changes_price: bool = False
    purpose: FieldPurpose = FieldPurpose.OTHER
    max_length: int = 255
    # A regular expression a valid answer matches in full (checked before anything is sent), if known.
    pattern: str | None = None
    value_kind: ValueKind = ValueKind.TEXT  # what the answer is (a card, an address...), not the answer
    currency: OptionalText = None  # the ticker or ISO code the value belongs to (an address's coin, a card's)
    network: OptionalText = None  # an address's network as the platform names it ("Tron", "TRC20", ...)


class Pricing(_Model):
    """Rates, amounts and limits of a direction for one amount (shared by Direction and Quote)."""

    give_currency_code: Text = ""
    get_currency_code: Text = ""
    reserve: OptionalAmount = None
    give_rate: Amount
    get_rate: Amount
    give_amount: OptionalAmount = None
    give_amount_with_fees: OptionalAmount = None
    get_amount: OptionalAmount = None
    get_amount_with_fees: OptionalAmount = None
    give_fee_text: Text = ""
    get_fee_text: Text = ""
    min_give: OptionalAmount = None
    max_give: OptionalAmount = None
    min_get: OptionalAmount = None
    max_get: OptionalAmount = None
    floating_rate: bool = False  # the rate may move until the deposit arrives
    # The limits and the give amount in US dollars, where the platform states them.
    min_usd: OptionalAmount = None
    max_usd: OptionalAmount = None
    give_amount_usd: OptionalAmount = None

    def amount_on(self, side: AmountSide) -> Decimal | None:
        return {
            AmountSide.GIVE: self.give_amount,
            AmountSide.GET: self.get_amount,
            AmountSide.GIVE_WITH_FEES: self.give_amount_with_fees,
            AmountSide.GET_WITH_FEES: self.get_amount_with_fees,
        }[side]


class DirectionNotes(_Model):
    timeline: Text = ""  # shown with the direction
    frozen: Text = ""  # shown when the direction is paused
    before_confirm: Text = ""  # shown above Confirm


class Direction(Pricing):
    id: Id
    url: Text = ""
    fields: list[FormField] = Field(default_factory=list)
    notes: DirectionNotes = Field(default_factory=DirectionNotes)
    sides: tuple[AmountSide, ...] = (AmountSide.GIVE, AmountSide.GET)

    @property
    def price_fields(self) -> list[FormField]:
        """Inputs that change the price: ``quote`` takes their values."""
        return [f for f in self.fields if f.changes_price]


class Quote(Pricing):
    adjusted: bool = False  # the exchange moved the amount into its limits: show the new one


# -- orders ------------------------------------------------------------------------------------------


class OrderPhase(StrEnum):
    """Where an order is, in words a customer understands; the platform's own code stays beside it."""

    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMING_PAYMENT = "confirming_payment"
    PROCESSING = "processing"
    NEEDS_DECISION = "needs_decision"
    DONE = "done"
    CANCELLED = "cancelled"  # cancelled, refused or expired
    FAILED = "failed"


FINAL_PHASES = frozenset({OrderPhase.DONE, OrderPhase.CANCELLED, OrderPhase.FAILED})


class OrderStatus(_Model):
    """The platform's status ``code`` (and ``title`` where it gives one) with its phase."""

    code: str
    phase: OrderPhase
    title: Text = ""
    # Several platform codes share a phase; a status can move on without leaving its phase.
    rank: int = 0  # orders never move to a lower rank (stale observations)

    @property
    def is_final(self) -> bool:
        return self.phase in FINAL_PHASES


class OrderRef(_Model):
    """How to reach an order again: its id and, where the platform has one, a per-order secret
    (stored encrypted, never shown, logged or put in a button)."""

    id: Id
    secret: SecretStr | None = Field(default=None, repr=False)


class ActionMode(StrEnum):
    API = "api"
    LINK = "link"
    DISABLED = "disabled"


class ActionAccess(_Model):
    """How an order action is done: through the API, by sending the customer to ``url``, or not."""

    mode: ActionMode = ActionMode.DISABLED
    url: str | None = None


class DecisionReason(StrEnum):
    """Why an order waits for the customer's decision, where the platform says it in a known way."""

    AMOUNT_OUTSIDE_LIMITS = "amount_outside_limits"  # the deposit is below or above the limits
    UNDERPAID = "underpaid"
    OVERPAID = "overpaid"
    EXPIRED = "expired"  # the order ran out of time while waiting


class OrderActions(_Model):
    cancel: ActionAccess = Field(default_factory=ActionAccess)
    mark_paid: ActionAccess = Field(default_factory=ActionAccess)
    continue_at_current_rate: bool = False  # the emergency decision the customer can take


class PaymentDetails(_Model):
    """What the customer must do to pay, while the order waits for it."""

    instruction: Text = ""  # server HTML
    amount: OptionalAmount = None
    currency_code: Text = ""
    network: OptionalText = None
    address: OptionalText = None
    tag: OptionalText = None
    pay_url: OptionalText = None
    expires_at: int | None = None  # unix time
    seconds_left: int | None = None  # as the platform counted when the order was read


class Order(_Model):
    ref: OrderRef
    number: Text = ""  # what the customer calls it ("#1234"); the id when empty
    url: Text = ""
    status: OrderStatus
    give_title: Text = ""
    get_title: Text = ""
    give_currency_code: Text = ""
    get_currency_code: Text = ""
    give_amount: OptionalAmount = None
    get_amount: OptionalAmount = None
    give_rate: OptionalAmount = None
    get_rate: OptionalAmount = None
    payment: PaymentDetails | None = None
    actions: OrderActions = Field(default_factory=OrderActions)
    notes: list[str] = Field(default_factory=list)  # server HTML to show with the card
    refund_address: OptionalText = None
    # Why a decision is needed: DecisionReason values, or the platform's own words.
    decision_reasons: list[str] = Field(default_factory=list)
    # Blockchain transactions, once the platform reports them: the deposit, the payout, a refund.
    give_tx_id: OptionalText = None
    get_tx_id: OptionalText = None
    refund_tx_id: OptionalText = None

    @property
    def id(self) -> str:
        return self.ref.id

    @property
    def label(self) -> str:
        return self.number or self.ref.id

    @property
    def is_final(self) -> bool:
        return self.status.is_final


class OrderObservation(_Model):
    """A status seen by a feed, a push or a read. ``order`` is set when the source carried all of it."""

    order_id: Id
    status: OrderStatus
    changed_at: int | None = None  # the platform's clock
    idempotency_key: OptionalText = None
    order: Order | None = None


class Attribution(_Model):
    """Who brought the customer: a partner's id on the site, or a reference code."""

    partner: str
    campaign: str | None = None


class OrderRequest(_Model):
    """What placing an order sends; ``fields`` (personal data) and ``push_url`` stay out of repr."""

    direction_id: Id
    amount: Amount
    side: AmountSide = AmountSide.GIVE
    fields: dict[str, str] = Field(default_factory=dict, repr=False)
    attribution: Attribution | None = None
    push_url: str | None = Field(default=None, repr=False)


# -- partner cabinet ---------------------------------------------------------------------------------


class PayoutMethod(_Model):
    id: Id
    title: Text = ""
    fee_text: Text = ""  # as the site words it, e.g. "2%"
    available: OptionalAmount = None
    currency_code: Text = ""


class PartnerSummary(_Model):
    partner_id: Id
    balance: OptionalAmount = None
    balance_currency: Text = ""  # "" when the platform does not say
    min_payout: OptionalAmount = None
    methods: list[PayoutMethod] = Field(default_factory=list)
    status: Text = ""  # the partner's status as the platform words it ("active"), when it says
    referral_count: int | None = None  # registered clients brought, when the platform counts them
    reward_percent: OptionalAmount = None  # the partner's reward rate in percent, when the platform says
    # Rewards of completed exchanges per reward currency (never converted, never a balance: nothing
    # says what was paid out), when the platform computes the summary from the exchanges.
    earned: dict[str, Amount] = Field(default_factory=dict)
    exchanges: int | None = None  # exchanges referred, all time, when known
    completed_exchanges: int | None = None  # of those, completed
    as_of: int | None = None  # unix time the figures were read, when they may be older than now


class PartnerClick(_Model):
    id: Id
    time: int
    browser: Text = ""
    ip: Text = ""
    referrer: Text = ""
    visitor: Text = ""
    query_string: Text = ""


class PartnerExchange(_Model):
    id: Id
    time: int
    status: OrderStatus
    give_currency_code: Text = ""
    get_currency_code: Text = ""
    give_amount: OptionalAmount = None
    get_amount: OptionalAmount = None
    succeeded: bool = False
    accrued: bool = False
    reward: Amount = Decimal(0)
    reward_currency: Text = ""
    visitor: Text = ""
    date: Text = ""  # the site's own local time, as it shows it
    give_title: Text = ""
    get_title: Text = ""
    number: Text = ""  # the order's public number ("EX-001347"), when the platform has one
    completed_time: int | None = None  # unix time it completed, when the platform says
    # The exchange amount when the platform does not say on which side it is: show it with the pair
    # (``0.05 · USDTTRC20 → BTC``), never with one currency.
    amount: OptionalAmount = None
    # The platform only tells completed or not: an exchange not completed may be in progress or failed
    # (``status`` then says "not completed"; its reward is not final).
    completion_only: bool = False
    # Query parameters of the visit that brought the customer (UTM tags, custom ones): untrusted text.
    params: dict[str, str] = Field(default_factory=dict)


class PayoutStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class PartnerPayout(_Model):
    id: Id
    time: int
    method: Text = ""
    account: Text = ""
    amount: OptionalAmount = None
    currency_code: Text = ""
    original_amount: OptionalAmount = None
    original_currency_code: Text = ""
    status: PayoutStatus = PayoutStatus.UNKNOWN
    date: Text = ""
    number: Text = ""  # the payout's public id ("PO-000210"): keep it with the period to reconcile
    status_code: Text = ""  # the platform's own status word (shown as is when ``status`` is UNKNOWN)
    tx_id: OptionalText = None  # the transfer's transaction id, once paid
    paid_time: int | None = None  # unix time it was paid, when the platform says
    note: Text = ""  # the platform's comment, e.g. why it was rejected


class PartnerNewsKind(StrEnum):
    EXCHANGE_COMPLETED = "exchange_completed"  # a referred exchange completed (``exchange``)
    PAYOUT_CHANGED = "payout_changed"  # a payout appeared or changed status (``payout``)


class PartnerNews(_Model):
    """Something to tell a partner once (``PartnerCabinet.news``). ``key`` is unique per partner and
    event (the same event found by polling and by a push has the same key), so it is told once."""

    kind: PartnerNewsKind
    key: Id
    time: int | None = None
    exchange: PartnerExchange | None = None
    payout: PartnerPayout | None = None

    @property
    def campaign(self) -> str:
        return (self.exchange.params.get("utm_campaign", "") if self.exchange else "").strip()


class PartnerReferral(_Model):
    """A registered client the partner brought. ``email`` and ``name`` are the exchanger's customers'
    personal data: never shown unmasked (:attr:`masked`) and kept out of repr."""

    id: Id
    time: int | None = None
    client_id: OptionalText = None
    email: Text = Field(default="", repr=False)
    name: Text = Field(default="", repr=False)
    exchanges: int | None = None  # their exchanges, when the platform counts them
    date: Text = ""  # the registration time as the platform wrote it

    @property
    def masked(self) -> str:
        """``ar***95@example.net`` / ``A*** T***`` / ``#<client id>``: enough to recognise, not to reuse."""
        if self.email and "@" in self.email:
            local, _, domain = self.email.partition("@")
            shown = local[:2] + "***" + (local[-2:] if len(local) > 5 else "")
            return f"{shown}@{domain}"
        if self.name:
            return " ".join(word[:1] + "***" for word in self.name.split())
        return f"#{self.client_id or self.id}"


class PartnerStatsPoint(_Model):
    """One day (or other step) of a statistics series; None where the platform gave no figure."""

    date: Text = ""
    clicks: int | None = None
    registrations: int | None = None
    exchanges: int | None = None
    completed_exchanges: int | None = None
    accruals: OptionalAmount = None


class PartnerStats(_Model):
    """Statistics computed by the platform for a period. ``start``/``end``: the window the platform
    reports (unix seconds), None when it does not say (then label it by ``period``); ``accruals`` is in
    ``currency`` (never converted)."""

    period: Text = ""  # "day", "week", "month" or "custom"
    start: int | None = None
    end: int | None = None
    currency: Text = ""
    clicks: int | None = None
    registrations: int | None = None
    exchanges: int | None = None
    completed_exchanges: int | None = None
    accruals: OptionalAmount = None
    series: list[PartnerStatsPoint] = Field(default_factory=list)


# -- reference codes -------------------------------------------------------------------------------


class ReferenceCode(_Model):
    """One of the operator's reference codes: orders created with it are credited to it, and its
    markup (basis points; 0 means the account's default) is added to them."""

    code: str
    label: str | None = None
    markup_bps: int = 0
    enabled: bool = True
    created_at: str | None = None  # as the platform reports it
