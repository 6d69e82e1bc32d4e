"""CSV exports of partner exchanges and payouts, for reconciliation with the site.

One row per record; amounts exactly as the API wrote them (``str`` of the Decimal, never rounded or
converted); UTF-8 with a header row. Payout accounts are masked like on screen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from bot.exchanger.models import PartnerExchange, PartnerPayout

EXCHANGE_COLUMNS = (
    "id", "time_unix", "time_utc", "date_server", "status", "completed", "give_payment_system",
    "give_currency", "amount_give", "get_payment_system", "get_currency", "amount_get", "partner_reward",
    "accrued",
)  # fmt: skip
PAYOUT_COLUMNS = (
    "id", "time_unix", "time_utc", "date_server", "status", "method_id", "account", "pay_amount",
    "pay_currency", "original_amount", "original_currency",
)  # fmt: skip


def utc_text(unix_time: int) -> str:
    return datetime.fromtimestamp(unix_time, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _amount(value: Decimal | None) -> str:
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
                e.status,
                "1" if e.succeeded else "0",
                e.give_payment_system,
                e.give_currency_code,
                _amount(e.give_amount),
                e.get_payment_system,
                e.get_currency_code,
                _amount(e.get_amount),
                _amount(e.partner_reward),
                "1" if e.accrued else "0",
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
                p.method_id,
                mask_account(p.account),
                _amount(p.pay_amount),
                p.pay_currency_code,
                _amount(p.original_amount),
                p.original_currency_code,
            ]
            for p in payouts
        ),
    )
