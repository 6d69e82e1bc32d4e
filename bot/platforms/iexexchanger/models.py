"""API v3 partner answers in the site's own terms, read tolerantly (:mod:`.wire`).

None of the five partner ``result`` shapes is typed by the documentation: the field names here follow
the reference page's *assumed* shapes (v3 conventions, the filter names, v2), with the obvious synonyms
accepted. Every field but ``id`` is optional; a row without an id is dropped by the readers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

from bot.platforms.iexexchanger import wire
from bot.platforms.iexexchanger.scopes import scope_set

__all__ = [
    "ApiKeyInfo",
    "PartnerExchangeRow",
    "PartnerProfile",
    "PayoutRow",
    "ReferralRow",
    "Statistics",
    "StatisticsPoint",
    "WebhookEndpoint",
]

Row = Mapping[str, Any]


def _time(row: Row, *names: str) -> tuple[int | None, str]:
    return wire.parse_time(wire.first(row, *names))


def _currency(value: Any) -> str:
    return wire.text(value).upper()


@dataclass(frozen=True)
class PartnerProfile:
    """``GET /private/partner``: status, balance and basic figures (v2 names and v3 synonyms)."""

    id: str | None = None
    status: str = ""
    balance: Decimal | None = None
    currency: str = ""
    percent: Decimal | None = None
    referrals_count: int | None = None
    referral_hash: str | None = None
    totals_accrued: Decimal | None = None  # totals.balance: meaning unconfirmed (see the reference page)
    totals_withdrawn: Decimal | None = None
    created_at: int | None = None

    @classmethod
    def from_wire(cls, result: Any) -> PartnerProfile:
        row = wire.unwrap_object(
            result,
            ("partner", "summary", "profile", "data", "attributes"),
            expect=("balance", "status", "iso_code", "currency", "referral_hash"),
        )
        if isinstance(row.get("attributes"), Mapping) and "balance" not in row:  # v2-style JSON:API
            row = {**row, **row["attributes"]}
        totals = row.get("totals") if isinstance(row.get("totals"), Mapping) else {}
        balance = row.get("balance")
        if isinstance(balance, Mapping):  # {"amount": "...", "currency": "..."}
            currency = wire.first(balance, "currency", "iso_code")
            balance = balance.get("amount")
        else:
            currency = None
        return cls(
            id=wire.to_id(wire.first(row, "id", "partner_id", "client_id", "user_id")),
            status=wire.text(wire.first(row, "status", "partner_status", "state")),
            balance=wire.money(balance),
            currency=_currency(currency or wire.first(row, "iso_code", "currency", "balance_currency")),
            percent=wire.money(wire.first(row, "percent_referral", "percent", "reward_percent")),
            referrals_count=wire.opt_int(wire.first(row, "count_referral", "referrals_count", "referrals")),
            referral_hash=wire.opt_text(row.get("referral_hash")),
            totals_accrued=wire.money(totals.get("balance")),
            totals_withdrawn=wire.money(totals.get("withdrawal")),
            created_at=_time(row, "created_at")[0],
        )


@dataclass(frozen=True)
class StatisticsPoint:
    date: str
    clicks: int | None = None
    registrations: int | None = None
    exchanges: int | None = None
    completed_exchanges: int | None = None
    accruals: Decimal | None = None


def _counts(row: Row) -> dict[str, Any]:
    return {
        "clicks": wire.opt_int(wire.first(row, "clicks", "transitions", "visits")),
        "registrations": wire.opt_int(wire.first(row, "registrations", "referrals", "signups")),
        "exchanges": wire.opt_int(wire.first(row, "exchanges", "exchanges_count", "orders")),
        "completed_exchanges": wire.opt_int(wire.first(row, "completed_exchanges", "exchanges_completed")),
        "accruals": wire.money(wire.first(row, "accruals", "accrued", "bonus", "rewards")),
    }


@dataclass(frozen=True)
class Statistics:
    """``GET /private/partner/statistics``: aggregates over the window the server reports."""

    period: str = ""
    date_from: int | None = None
    date_to: int | None = None
    date_from_text: str = ""
    date_to_text: str = ""
    currency: str = ""
    clicks: int | None = None
    registrations: int | None = None
    exchanges: int | None = None
    completed_exchanges: int | None = None
    accruals: Decimal | None = None
    series: tuple[StatisticsPoint, ...] = ()

    @classmethod
    def from_wire(cls, result: Any) -> Statistics:
        row = wire.unwrap_object(
            result, ("statistics", "stats", "summary"), expect=("period", "clicks", "accruals", "series")
        )
        totals = row.get("totals") if isinstance(row.get("totals"), Mapping) else row
        start, start_text = _time(row, "date_from", "from", "start")
        end, end_text = _time(row, "date_to", "to", "end")
        series = []
        raw_series = row.get("series") or row.get("days") or row.get("chart")
        if isinstance(raw_series, list):
            for point in raw_series:
                if isinstance(point, Mapping):
                    day = wire.text(wire.first(point, "date", "day", "period"))
                    series.append(StatisticsPoint(date=day, **_counts(point)))
        return cls(
            period=wire.text(row.get("period")),
            date_from=start,
            date_to=end,
            date_from_text=start_text,
            date_to_text=end_text,
            currency=_currency(wire.first(row, "currency", "iso_code")),
            series=tuple(series),
            **_counts(totals),
        )


@dataclass(frozen=True)
class ReferralRow:
    id: str
    client_id: str | None = None
    email: str = field(default="", repr=False)
    name: str = field(default="", repr=False)
    exchanges_count: int | None = None
    created_at: int | None = None
    created_text: str = ""

    @classmethod
    def from_wire(cls, row: Row) -> ReferralRow | None:
        row_id = wire.to_id(row.get("id"))
        if row_id is None:
            return None
        created, created_text = _time(row, "created_at", "registered_at")
        return cls(
            id=row_id,
            client_id=wire.to_id(row.get("client_id")),
            email=wire.text(wire.first(row, "client_email", "email")),
            name=wire.text(wire.first(row, "client_name", "name")),
            exchanges_count=wire.opt_int(wire.first(row, "exchanges_count", "orders_count")),
            created_at=created,
            created_text=created_text,
        )


@dataclass(frozen=True)
class PartnerExchangeRow:
    id: str
    order_id: str | None = None
    order_public_id: str = ""
    order_tracking_id: str = ""
    client_id: str | None = None
    client_email: str = field(default="", repr=False)
    status: str = ""
    amount_give: Decimal | None = None
    currency_give: str = ""
    amount_receive: Decimal | None = None
    currency_receive: str = ""
    title_give: str = ""
    title_receive: str = ""
    bonus: Decimal | None = None
    bonus_currency: str = ""
    bonus_status: str = ""
    created_at: int | None = None
    created_text: str = ""
    completed_at: int | None = None

    @classmethod
    def from_wire(cls, row: Row) -> PartnerExchangeRow | None:
        row_id = wire.to_id(row.get("id"))
        if row_id is None:
            return None
        created, created_text = _time(row, "created_at", "date")
        return cls(
            id=row_id,
            order_id=wire.to_id(row.get("order_id")),
            order_public_id=wire.text(row.get("order_public_id")),
            order_tracking_id=wire.text(row.get("order_tracking_id")),
            client_id=wire.to_id(row.get("client_id")),
            client_email=wire.text(row.get("client_email")),
            status=wire.text(wire.first(row, "status", "order_status")).lower(),
            amount_give=wire.money(wire.first(row, "amount_give", "give_amount")),
            currency_give=_currency(wire.first(row, "currency_give", "give_currency")),
            amount_receive=wire.money(wire.first(row, "amount_receive", "receive_amount", "get_amount")),
            currency_receive=_currency(
                wire.first(row, "currency_receive", "receive_currency", "get_currency")
            ),
            title_give=wire.text(wire.first(row, "payment_system_give", "give_title")),
            title_receive=wire.text(wire.first(row, "payment_system_receive", "receive_title")),
            bonus=wire.money(wire.first(row, "bonus", "reward", "partner_reward")),
            bonus_currency=_currency(wire.first(row, "bonus_currency", "reward_currency")),
            bonus_status=wire.text(row.get("bonus_status")).lower(),
            created_at=created,
            created_text=created_text,
            completed_at=_time(row, "completed_at")[0],
        )


@dataclass(frozen=True)
class PayoutRow:
    id: str
    public_id: str = ""
    status: str = ""
    amount: Decimal | None = None
    currency: str = ""
    payment_system: str = ""
    wallet: str = field(default="", repr=False)
    tx_id: str | None = None
    comment: str = ""
    created_at: int | None = None
    created_text: str = ""
    paid_at: int | None = None
    updated_at: int | None = None

    @classmethod
    def from_wire(cls, row: Row) -> PayoutRow | None:
        row_id = wire.to_id(row.get("id"))
        if row_id is None:
            return None
        created, created_text = _time(row, "created_at", "date")
        return cls(
            id=row_id,
            public_id=wire.text(row.get("public_id")),
            status=wire.text(wire.first(row, "status", "payout_status")).lower(),
            amount=wire.money(row.get("amount")),
            currency=_currency(wire.first(row, "currency", "iso_code")),
            payment_system=wire.text(wire.first(row, "payment_system", "method")),
            wallet=wire.text(wire.first(row, "wallet", "account")),
            tx_id=wire.opt_text(wire.first(row, "tx_id", "txid", "transaction_id")),
            comment=wire.text(wire.first(row, "comment", "reason", "reject_reason")),
            created_at=created,
            created_text=created_text,
            paid_at=_time(row, "paid_at")[0],
            updated_at=_time(row, "updated_at")[0],
        )


@dataclass(frozen=True)
class ApiKeyInfo:
    """``GET /private/client``: who owns the key and how it is set up."""

    client_id: str | None = None
    key_name: str = ""
    scopes: frozenset[str] = frozenset()
    hmac_required: bool | None = None

    @classmethod
    def from_wire(cls, result: Any) -> ApiKeyInfo:
        row = result if isinstance(result, Mapping) else {}
        client = row.get("client") if isinstance(row.get("client"), Mapping) else row
        token = row.get("api_token") if isinstance(row.get("api_token"), Mapping) else {}
        security = token.get("security") if isinstance(token.get("security"), Mapping) else {}
        raw_scopes = token.get("scopes") if isinstance(token.get("scopes"), list) else []
        hmac_required = security.get("hmac_required")
        return cls(
            client_id=wire.to_id(wire.first(client, "id", "client_id")),
            key_name=wire.text(token.get("name")),
            scopes=scope_set(_scope_names(raw_scopes)),
            hmac_required=hmac_required if isinstance(hmac_required, bool) else None,
        )


def _scope_names(items: list[Any]) -> list[str]:
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, Mapping):
            name = wire.first(item, "scope", "name", "key")
            if isinstance(name, str):
                names.append(name)
    return names


def scopes_of(result: Any) -> frozenset[str]:
    """``GET /private/scopes``: ``result.scopes[]`` of ``{scope, ...}`` (or plain names), short spelling."""
    items: Any = result
    if isinstance(result, Mapping):
        items = result.get("scopes", result.get("items", []))
    return scope_set(_scope_names(items if isinstance(items, list) else []))


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str = ""
    name: str = ""
    status: str = ""
    events: tuple[str, ...] = ()
    secret: SecretStr | None = field(default=None, repr=False)  # only in the answer that created it

    @classmethod
    def from_wire(cls, result: Any) -> WebhookEndpoint | None:
        row = wire.unwrap_object(result, ("endpoint", "webhook"), expect=("id", "url"))
        row_id = wire.to_id(row.get("id"))
        if row_id is None:
            return None
        secret = wire.opt_text(wire.first(row, "secret", "signing_secret"))
        events = row.get("events") if isinstance(row.get("events"), list) else []
        return cls(
            id=row_id,
            url=wire.text(row.get("url")),
            name=wire.text(row.get("name")),
            status=wire.text(row.get("status")),
            events=tuple(wire.text(e) for e in events if wire.text(e)),
            secret=SecretStr(secret) if secret else None,
        )
