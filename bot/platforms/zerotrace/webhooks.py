"""0trace's signed webhooks at ``POST {PUBLIC_URL}/webhooks/0trace`` (:class:`WebhookReceiver`).

The receiver contract of the reference page: the signature (``X-Partner-Webhook-Sign``, HMAC-SHA256
with the *webhook* secret over the raw body) is checked in constant time before anything is parsed,
then ``-60 <= now - X-Partner-Webhook-Timestamp <= 300``; only then the body is read, and its
``event`` (not the header) decides. Each change carries the full order DTO (never the token), so the
observation holds the whole order. The dedupe keys are 0trace's own: ``order:<id>:<status>``,
``paid_out:<paidOutAt>``, ``cleared:<clearedAt>``; storing them (and never moving an order back) is the
core's part. Unknown event types are accepted and ignored: 0trace may add opt-in events at any time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal

from pydantic import SecretStr

from bot.domain.errors import ExchangerError
from bot.domain.models import OrderObservation
from bot.platforms.base import PushEvent, PushRejected
from bot.platforms.zerotrace import mapping
from bot.platforms.zerotrace.info import WEBHOOK_PATH
from bot.platforms.zerotrace.signing import signature_matches

__all__ = ["EARLIEST", "LATEST", "ZeroTraceWebhooks"]

SIGN_HEADER = "x-partner-webhook-sign"
TIME_HEADER = "x-partner-webhook-timestamp"
EARLIEST = 300  # seconds a push may be old
LATEST = 60  # seconds a push may be ahead of our clock
MAX_BODY = 256 * 1024


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, found in headers.items():
            if key.lower() == name:
                return found
    return value


class ZeroTraceWebhooks:
    path = WEBHOOK_PATH
    per_partner_token = False

    def __init__(
        self, secret: SecretStr, assets: Callable[[], Mapping[str, mapping.Asset]] | None = None
    ) -> None:
        self._secret = secret
        self._assets = assets or dict

    def __repr__(self) -> str:
        return f"ZeroTraceWebhooks({self.path!r})"

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        now: float,
        token: str | None = None,
        secret: str | None = None,
    ) -> list[PushEvent]:
        """``token`` and ``secret`` are unused: 0trace signs every push with the one webhook secret."""
        if len(body) > MAX_BODY:
            raise PushRejected("webhook body too large", status=413)
        signature = _header(headers, SIGN_HEADER)
        if not signature or not signature_matches(self._secret.get_secret_value(), body, signature):
            raise PushRejected("webhook signature missing or wrong", status=401)
        stamp = (_header(headers, TIME_HEADER) or "").strip()
        if not stamp.isdigit():
            raise PushRejected("webhook timestamp missing or malformed", status=400)
        age = now - int(stamp)
        if age > EARLIEST or age < -LATEST:
            raise PushRejected(f"webhook timestamp outside the window ({int(age)} s old)", status=401)
        try:
            payload = json.loads(body, parse_float=Decimal)
        except ValueError:
            raise PushRejected("webhook body is not JSON", status=400) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
            raise PushRejected("webhook body has no event", status=400)
        return self._events(payload)

    def _events(self, payload: Mapping[str, object]) -> list[PushEvent]:
        event = payload["event"]
        if event == "order.status_changed":
            raw = payload.get("order")
            try:
                order = mapping.order(raw, assets=self._assets())
            except ExchangerError:
                raise PushRejected("order event without a readable order", status=400) from None
            assert isinstance(raw, Mapping)
            observation = OrderObservation(
                order_id=order.id, status=order.status, changed_at=mapping.changed_at(raw), order=order
            )
            return [PushEvent(f"order:{order.id}:{order.status.code}", observation=observation)]
        if event == "partner.paid_out":
            return [self._partner(payload, "payout", "paidOutAt", "paid_out", "payout_paid")]
        if event == "earnings.cleared":
            return [self._partner(payload, "earnings", "clearedAt", "cleared", "earnings_cleared")]
        return []

    @staticmethod
    def _partner(
        payload: Mapping[str, object], resource: str, when: str, prefix: str, kind: str
    ) -> PushEvent:
        body = payload.get(resource)
        if not isinstance(body, Mapping) or body.get(when) in (None, ""):
            raise PushRejected(f"{payload['event']} without {resource}.{when}", status=400)
        return PushEvent(f"{prefix}:{body[when]}", kind=kind, payload=dict(body))
