"""What the contract suite needs from a platform besides the neutral interface: a way to drive its
test server (its sandbox) and the data it was seeded with. One subclass per platform."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from decimal import Decimal

from bot.domain.models import Order
from bot.platforms.base import Platform


class Harness(ABC):
    platform: Platform
    # A direction whose orders can be cancelled and marked paid through the API, a valid amount
    # (on the give side) and a complete valid form for it.
    direction_id: str
    amount: Decimal
    fields: Mapping[str, str]
    unknown_direction_id: str
    # What a partner types to link a key: one with partner data, one valid key without a partner account.
    partner_credentials: Mapping[str, str] | None = None
    non_partner_credentials: Mapping[str, str] | None = None
    # A partner id the sandbox credits (for placing an attributed order), and an account the first
    # payout method of that partner accepts.
    partner_id: str | None = None
    payout_account: str = ""
    # Whether the platform names its statuses (a title beside the code).
    gives_status_titles: bool = True
    # Whether the per-order secret comes only in the create answer (lost with it).
    secret_lost_with_answer: bool = False

    @abstractmethod
    def lose_next_placement(self, *, lookup_fails: bool = False) -> None:
        """The next order creation is processed by the server but its answer never arrives; with
        ``lookup_fails`` the look-up that follows fails too."""

    @abstractmethod
    async def advance(self, order: Order) -> None:
        """Move the order one status on, server side (as if the customer paid or the operator acted)."""

    @abstractmethod
    def orders_created(self) -> int:
        """How many orders the server holds for the bot's key."""

    @abstractmethod
    def partner_counts(self, start: int, end: int) -> Mapping[str, int]:
        """The seeded partner's clicks / exchanges / payouts in a period (the platform's clock)."""

    @abstractmethod
    def busy_period(self) -> tuple[int, int]:
        """A period (the platform's clock) with more clicks than one page holds."""
