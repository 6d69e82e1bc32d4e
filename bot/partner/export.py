"""CSV exports of partner exchanges and payouts, for reconciliation with the site.

One row per record; amounts exactly as the API wrote them (the Decimal's own digits, never rounded,
converted or written with an exponent); UTF-8 with a header row. ``status`` is the platform's own
code, ``phase`` the bot's word for it; ``amount`` is an exchange amount on a side the platform does
not name; ``params`` the visit's query parameters (URL-encoded), where the platform records
them. Columns a platform does not fill stay empty. Payout accounts are masked like on screen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

from bot.domain.models import PartnerExchange, PartnerPayout

EXCHANGE_COLUMNS = (
    "id", "time_unix", "time_utc", "date_server", "status", "phase", "completed", "give_title",
    "give_currency", "amount_give", "get_title", "get_currency", "amount_get", "partner_reward",
    "reward_currency", "accrued", "number", "amount", "completed_time_unix", "params",
)  # fmt: skip
PAYOUT_COLUMNS = (
    "id", "time_unix", "time_utc", "date_server", "status", "method", "account", "pay_amount",
    "pay_currency", "original_amount", "original_currency", "number", "status_code", "tx_id",
    "paid_time_unix", "note",
)  # fmt: skip


def utc_text(unix_time: int) -> str:
    return datetime.fromtimestamp(unix_time, UTC).strftime("%Y-%m-%d %H:%M:%S")


def decimal_text(value: Decimal | None) -> str:
    """Every digit the value has, without an exponent: ``1E+1`` → ``10``, ``1.50`` stays ``1.50``."""
    if value is None:
        return ""
    return format(value, "f")


def _optional(value: int | None) -> str:
    return "" if value is None else str(value)


def mask_account(account: str) -> str:
    """``TQn9…LSE``-style: the first 4 and last 4 characters of longer accounts, stars in between."""
    account = account.strip()
    if len(account) <= 4:
        return "*" * len(account)
    if len(account) <= 8:
        return account[:2] + "*" * (len(account) - 4) + account[-2:]
    return account[:4] + "****" + account[-4:]


def _csv(columns: tuple[str, ...], rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def exchanges_csv(exchanges: Iterable[PartnerExchange]) -> bytes:
    return _csv(
        EXCHANGE_COLUMNS,
        (
            [
                e.id,
                str(e.time),
                utc_text(e.time),
                e.date,
                e.status.code,
                e.status.phase.value,
                "1" if e.succeeded else "0",
                e.give_title,
                e.give_currency_code,
                decimal_text(e.give_amount),
                e.get_title,
                e.get_currency_code,
                decimal_text(e.get_amount),
                decimal_text(e.reward),
                e.reward_currency,
                "1" if e.accrued else "0",
                e.number,
                decimal_text(e.amount),
                _optional(e.completed_time),
                urlencode(e.params),
            ]
            for e in exchanges
        ),
    )


def payouts_csv(payouts: Iterable[PartnerPayout]) -> bytes:
    return _csv(
        PAYOUT_COLUMNS,
        (
            [
                p.id,
                str(p.time),
                utc_text(p.time),
                p.date,
                p.status.value,
                p.method,
                mask_account(p.account),
                decimal_text(p.amount),
                p.currency_code,
                decimal_text(p.original_amount),
                p.original_currency_code,
                p.number,
                p.status_code,
                p.tx_id or "",
                _optional(p.paid_time),
                p.note,
            ]
            for p in payouts
        ),
    )
