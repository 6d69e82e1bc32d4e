"""Signed webhooks from iEXExchanger (:class:`~bot.platforms.base.WebhookReceiver`).

A partner's endpoint is ``POST {PUBLIC_URL}/webhooks/iexexchanger/<token>``: the per-partner token picks
the partner and the webhook secret their key's ``POST /private/webhooks`` returned. The core passes that
stored secret to :meth:`IexWebhookReceiver.verify` (``secret=``), or binds tokens beforehand
(:meth:`IexWebhookReceiver.bind`), or gives a ``resolve`` callable.

Verification, in this order (every failure raises :class:`PushRejected`, nothing is changed):

1. the token is bound (404 otherwise);
2. the five headers are there: ``X-Webhook-Event-Id``, ``-Event-Type``, ``-Timestamp`` (unix seconds),
   ``-Nonce``, ``-Signature`` (400);
3. ``HMAC-SHA256(secret, "v1\\n" + id + "\\n" + type + "\\n" + timestamp + "\\n" + nonce + "\\n" +
   sha256hex(raw body))`` equals the signature, compared in constant time, with or without ``sha256=``
   (401: forged; a previous secret is still accepted during a rotation);
4. the timestamp is within the window (401: stale). The docs state no tolerance and not whether a retry
   is re-signed, so the window is wide (a day back): a replay inside it is the same event id, which the
   core drops by ``dedupe_key``; the payout list stays the source of truth;
5. the body is a JSON object whose ``id`` and ``type`` equal the headers' (400).

``partner.payout.paid`` → ``PushEvent(kind="payout_paid")``; other event types are verified and answered
(an empty list: 2xx, nothing to do).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.logs import REDACTOR
from bot.platforms.base import PushEvent, PushRejected
from bot.platforms.iexexchanger import wire
from bot.platforms.iexexchanger.models import PayoutRow
from bot.platforms.iexexchanger.signing import signature_matches, webhook_signature

__all__ = ["WEBHOOK_PATH", "IexWebhookReceiver", "WebhookBinding"]

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/iexexchanger"
MAX_AGE = 24 * 3600  # seconds a delivery's timestamp may lie in the past
MAX_SKEW = 300  # seconds it may lie in the future
MAX_BODY = 256 * 1024

_HEADERS = {
    "event_id": "x-webhook-event-id",
    "event_type": "x-webhook-event-type",
    "timestamp": "x-webhook-timestamp",
    "nonce": "x-webhook-nonce",
    "signature": "x-webhook-signature",
}
KINDS = {"partner.payout.paid": "payout_paid"}


@dataclass(frozen=True)
class WebhookBinding:
    """Who a per-partner token belongs to and the webhook secret(s) to check with (the current one
    first; a previous one while a rotation settles)."""

    partner_id: str
    secrets: tuple[str, ...] = field(repr=False)


class IexWebhookReceiver:
    path = WEBHOOK_PATH
    per_partner_token = True

    def __init__(
        self,
        resolve: Callable[[str], WebhookBinding | None] | None = None,
        *,
        max_age: float = MAX_AGE,
        max_skew: float = MAX_SKEW,
    ) -> None:
        self._resolve = resolve
        self._bindings: dict[str, WebhookBinding] = {}
        self.max_age = max_age
        self.max_skew = max_skew

    def __repr__(self) -> str:
        return f"IexWebhookReceiver({len(self._bindings)} partners)"

    def url_for(self, public_url: str, token: str) -> str:
        """The URL to register for a partner: ``{PUBLIC_URL}/webhooks/iexexchanger/<token>``."""
        return f"{public_url.rstrip('/')}{self.path}/{token}"

    def bind(self, token: str, partner_id: str, secret: str, *previous: str) -> None:
        if not token or not secret:
            raise ValueError("a binding needs a token and a secret")
        for value in (secret, *previous, token):
            REDACTOR.add(value)
        self._bindings[token] = WebhookBinding(partner_id, (secret, *previous))

    def unbind(self, token: str) -> None:
        self._bindings.pop(token, None)

    def _binding(self, token: str | None) -> WebhookBinding | None:
        if not token:
            return None
        binding = self._bindings.get(token)
        if binding is None and self._resolve is not None:
            binding = self._resolve(token)
        return binding

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        now: float,
        token: str | None = None,
        secret: str | None = None,
    ) -> list[PushEvent]:
        binding = self._binding(token)
        if secret:
            binding = WebhookBinding(binding.partner_id if binding else "", (secret,))
        if binding is None:
            raise PushRejected("no partner is registered at this webhook URL", status=404)
        lower = {k.lower(): v for k, v in headers.items()}
        values = {name: (lower.get(header) or "").strip() for name, header in _HEADERS.items()}
        absent = [name for name, value in values.items() if not value]
        if absent:
            raise PushRejected(f"webhook headers missing: {', '.join(absent)}", status=400)
        if len(body) > MAX_BODY:
            raise PushRejected("webhook body too large", status=413)
        event_id, event_type = values["event_id"], values["event_type"]
        timestamp, nonce = values["timestamp"], values["nonce"]
        if not all(v.isascii() and v.isprintable() for v in values.values()):
            raise PushRejected("webhook headers are not printable ASCII", status=400)
        if not any(
            signature_matches(
                webhook_signature(secret, event_id, event_type, timestamp, nonce, body), values["signature"]
            )
            for secret in binding.secrets
        ):
            raise PushRejected("webhook signature does not match", status=401)
        if not timestamp.isdigit():
            raise PushRejected("webhook timestamp is not unix seconds", status=400)
        age = now - int(timestamp)
        if age > self.max_age or -age > self.max_skew:
            raise PushRejected(f"stale webhook: timestamp {age:+.0f} s from now", status=401)
        try:
            payload = wire.decode_json(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise PushRejected("webhook body is not JSON", status=400) from None
        if not isinstance(payload, dict):
            raise PushRejected("webhook body is not a JSON object", status=400)
        if wire.to_id(payload.get("id")) != event_id:
            raise PushRejected("webhook event id differs from the header's", status=400)
        body_type = wire.text(payload.get("type"))
        if body_type and body_type != event_type:
            raise PushRejected("webhook event type differs from the header's", status=400)
        kind = KINDS.get(event_type)
        if kind is None:
            log.info("webhook %s of type %s: nothing to do", event_id, event_type)
            return []
        data = payload.get("data") if isinstance(payload.get("data"), Mapping) else {}
        scope = hashlib.sha256(token.encode()).hexdigest()[:12] if token else "-"
        return [self._payout_event(event_id, event_type, payload, data, binding.partner_id, scope)]

    @staticmethod
    def _payout_event(
        event_id: str,
        event_type: str,
        payload: Mapping[str, object],
        data: Mapping[str, object],
        partner_id: str,
        scope: str,
    ) -> PushEvent:
        """``data`` is not documented; assumed ``{"payout": {...}}`` (a bare payout is accepted too)."""
        raw = data.get("payout") if isinstance(data.get("payout"), Mapping) else data
        row = PayoutRow.from_wire(raw) if isinstance(raw, Mapping) else None
        details: dict[str, object] = {
            "event_id": event_id,
            "event_type": event_type,
            "created_at": wire.text(payload.get("created_at")),
        }
        if row is not None:
            details.update(
                payout_id=row.id,
                number=row.public_id,
                status=row.status or "paid",
                amount=None if row.amount is None else format(row.amount, "f"),
                currency=row.currency,
                tx_id=row.tx_id,
            )
        return PushEvent(
            dedupe_key=f"iexexchanger:{scope}:{event_id}",  # per endpoint: a redelivery has the same id
            kind="payout_paid",
            partner_id=partner_id or None,
            payload=details,
        )
