"""Requesting a payout exactly once, however many times Confirm is pressed."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import ExchangerError, PayoutRefused, TransportError, UnexpectedResponse
from bot.domain.models import PartnerSummary, PayoutMethod
from bot.platforms.base import PartnerCabinet
from bot.storage.payouts import PayoutRequestRepository, PayoutState

MAX_ACCOUNT_LENGTH = 200


class RefusalReason(StrEnum):
    METHOD = "method"
    ACCOUNT = "account"
    MINIMUM = "minimum"
    OTHER = "other"


# Refusal texts servers send that we know (compared case-insensitively), so we can translate them.
_KNOWN_REFUSALS = {
    "payout method not found": RefusalReason.METHOD,
    "account is empty": RefusalReason.ACCOUNT,
    "payout amount is less than minimum": RefusalReason.MINIMUM,
}


def refusal_reason(text: str) -> RefusalReason:
    return _KNOWN_REFUSALS.get(plain(text).strip().rstrip(".!").lower(), RefusalReason.OTHER)


def plain(text: str) -> str:
    """A server text without its HTML tags and entities (escape it again before showing it)."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", text or "")).split())


def below_minimum(summary: PartnerSummary) -> bool:
    return (
        summary.min_payout is not None
        and summary.balance is not None
        and summary.balance < summary.min_payout
    )


def find_method(summary: PartnerSummary, method_id: str) -> PayoutMethod | None:
    return next((method for method in summary.methods if method.id == method_id), None)


class AccountError(ValueError):
    pass


def clean_account(text: str | None) -> str:
    account = " ".join((text or "").split())
    if not account or len(account) > MAX_ACCOUNT_LENGTH or account.startswith("/"):
        raise AccountError(account[:20])
    return account


class Outcome(StrEnum):
    CREATED = "created"
    REFUSED = "refused"
    UNKNOWN = "unknown"  # the answer was lost; the payout may exist
    ALREADY = "already"  # this request was handled before (double Confirm)


@dataclass(frozen=True)
class PayoutResult:
    outcome: Outcome
    payout_id: str | None = None
    refusal: str = ""  # the server's raw text
    state: PayoutState | None = None  # for ALREADY: what became of the first attempt


async def request_payout(
    repo: PayoutRequestRepository,
    cabinet: PartnerCabinet,
    chat_id: int,
    platform: str,
    request_key: str,
    method_id: str,
    account: str,
) -> PayoutResult:
    """Ask for the payout once per ``request_key``. Errors other than a refusal or a lost answer are
    re-raised after the request is marked ``failed`` (nothing was created; Confirm may retry)."""
    if not await repo.claim(chat_id=chat_id, platform=platform, request_key=request_key, method_id=method_id):
        previous = await repo.get(chat_id=chat_id, request_key=request_key)
        return PayoutResult(
            Outcome.ALREADY,
            payout_id=previous.payout_id if previous else None,
            state=previous.state if previous else None,
        )
    try:
        payout_id = await cabinet.request_payout(method_id, account)
    except PayoutRefused as exc:
        await repo.finish(request_key, PayoutState.REFUSED)
        return PayoutResult(Outcome.REFUSED, refusal=exc.text)
    except (TransportError, UnexpectedResponse) as exc:
        if isinstance(exc, TransportError) and not exc.may_have_been_processed:
            await repo.finish(request_key, PayoutState.FAILED)
            raise
        await repo.finish(request_key, PayoutState.UNKNOWN)
        return PayoutResult(Outcome.UNKNOWN)
    except ExchangerError:
        await repo.finish(request_key, PayoutState.FAILED)
        raise
    except BaseException:
        # Cancelled or crashed mid-call: we can't know whether the server got it.
        await repo.finish(request_key, PayoutState.UNKNOWN)
        raise
    await repo.finish(request_key, PayoutState.DONE, payout_id)
    return PayoutResult(Outcome.CREATED, payout_id=payout_id)
