"""What a customer has chosen so far in the exchange conversation; kept in the FSM data (JSON)."""

from __future__ import annotations

import json
import secrets
import time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.models import AmountSide, OrderRequest, Quote
from bot.storage.crypto import DecryptionError, SecretBox

DRAFT_KEY = "exchange"


def new_flow_token() -> str:
    """Marks every button of one conversation, so buttons of an older one can be told apart."""
    return secrets.token_hex(3)


class QuoteSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    give_amount: Decimal | None
    give_amount_with_fees: Decimal | None
    get_amount: Decimal | None
    get_amount_with_fees: Decimal | None
    give_code: str
    get_code: str
    taken_at: int
    floating_rate: bool = False
    give_usd: Decimal | None = None  # what the give amount is worth in US dollars, where the platform says

    @classmethod
    def of(cls, quote: Quote) -> QuoteSnapshot:
        return cls(
            give_amount=quote.give_amount,
            give_amount_with_fees=quote.give_amount_with_fees,
            get_amount=quote.get_amount,
            get_amount_with_fees=quote.get_amount_with_fees,
            give_code=quote.give_currency_code,
            get_code=quote.get_currency_code,
            taken_at=int(time.time()),
            floating_rate=quote.floating_rate,
            give_usd=quote.give_amount_usd,
        )

    def is_stale(self, max_age: int = 60) -> bool:
        return time.time() - self.taken_at > max_age

    @property
    def pays(self) -> Decimal | None:
        """What the customer sends, fees included."""
        return self.give_amount_with_fees or self.give_amount

    @property
    def receives(self) -> Decimal | None:
        """What the customer gets, fees deducted."""
        return self.get_amount_with_fees or self.get_amount


class ExchangeDraft(BaseModel):
    """`fields`, `offers`, `rejected` and `order_request` hold the customer's personal data (cards,
    wallets, e-mails): in the FSM data they are kept only sealed with the bot's SecretBox, bound to
    the chat."""

    flow: str = Field(default_factory=new_flow_token)
    give_id: str | None = None
    direction_id: str | None = None
    side: AmountSide = AmountSide.GIVE
    amount: Decimal | None = None
    fields: dict[str, str] = Field(default_factory=dict)  # name -> value to post ("" = skipped)
    field_index: int = 0
    editing: bool = False  # the step was opened from the summary: go back there when done
    page: int = 0
    offers: list[str] = Field(default_factory=list)  # remembered values shown as buttons right now
    # The exchange refused these fields at create: the names still to fix, and its words by name.
    fixing: list[str] = Field(default_factory=list)
    rejected: dict[str, str] = Field(default_factory=dict)
    contact_keyboard: bool = False  # the "share my phone number" reply keyboard is open
    quote: QuoteSnapshot | None = None
    order_key: str | None = None  # the idempotency key of this draft's order, stored before the first send
    # What was sent under ``order_key``: every retry sends it again, never what the draft shows later.
    order_request: OrderRequest | None = None

    @field_validator("fixing", mode="before")
    @classmethod
    def _names_only(cls, value: object) -> object:
        # Drafts stored before fields were fixed by name held positions: those are dropped.
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else value

    def dump(self, box: SecretBox, chat_id: int) -> dict[str, object]:
        public = self.model_dump(mode="json", exclude=_PRIVATE)
        private = json.dumps(self.model_dump(mode="json", include=_PRIVATE), ensure_ascii=False)
        public["sealed"] = box.seal(private, aad=_aad(chat_id))
        return {DRAFT_KEY: public}

    @classmethod
    def load(cls, data: dict[str, object], box: SecretBox, chat_id: int) -> ExchangeDraft | None:
        """None when there is no draft, or it can't be opened (SECRET_KEY changed): start anew."""
        raw = data.get(DRAFT_KEY)
        if not isinstance(raw, dict):
            return None
        raw = dict(raw)
        try:
            private = json.loads(box.unseal(str(raw.pop("sealed", "")), aad=_aad(chat_id)))
        except (DecryptionError, ValueError):
            return None
        return cls.model_validate({**raw, **private})


_PRIVATE = {"fields", "offers", "rejected", "order_request"}


def _aad(chat_id: int) -> bytes:
    return f"exchange-draft:{chat_id}".encode()
