"""Webhook endpoints of the sandbox's clients and signed deliveries to them.

A delivery is a ``POST`` of the raw event JSON with ``X-Webhook-Event-Id``, ``-Event-Type``,
``-Timestamp`` (unix seconds), ``-Nonce``, ``-Signature: sha256=<hex>`` over
``"v1\\n" + id + "\\n" + type + "\\n" + timestamp + "\\n" + nonce + "\\n" + sha256hex(body)``,
``X-Request-Id`` and ``X-Correlation-Id``. A retry of the same event is signed again (a fresh
timestamp and nonce) and keeps the event id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["EVENT_TYPES", "Delivery", "Endpoint", "Event", "WebhookBook", "sign"]

EVENT_TYPES = (
    "order.created",
    "order.status_changed",
    "order.paid",
    "order.completed",
    "order.cancelled",
    "partner.payout.paid",
    "webhook.test",
)
MAX_ENDPOINTS = 10


def sign(secret: str, event_id: str, event_type: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = "\n".join(["v1", event_id, event_type, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return "sha256=" + hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass
class Endpoint:
    id: int
    client_id: int
    name: str
    url: str
    events: list[str]
    secret: str = field(repr=False)
    status: str = "active"
    created_at: int = 0
    description: str | None = None

    def public(self, iso: Callable[[int], str]) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "url": self.url, "events": list(self.events),
                "status": self.status, "description": self.description,
                "created_at": iso(self.created_at)}  # fmt: skip


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    body: bytes  # the exact bytes every delivery of it carries


@dataclass
class Delivery:
    id: int
    event_id: str
    event_type: str
    endpoint_id: int
    url: str
    status: str  # succeeded, failed
    http_status: int | None
    headers: dict[str, str]
    body: bytes


class WebhookBook:
    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.endpoints: dict[int, Endpoint] = {}
        self.events: dict[str, Event] = {}
        self.deliveries: list[Delivery] = []
        self._next_id = 11
        self._http: httpx.AsyncClient | None = None

    def of_client(self, client_id: int) -> list[Endpoint]:
        return [e for e in self.endpoints.values() if e.client_id == client_id]

    def create(
        self, client_id: int, name: str, url: str, events: list[str], description: str | None
    ) -> Endpoint:
        endpoint = Endpoint(
            self._next_id, client_id, name, url, events, "whsec_" + secrets.token_urlsafe(24),
            created_at=int(self.now()), description=description,
        )  # fmt: skip
        self._next_id += 1
        self.endpoints[endpoint.id] = endpoint
        return endpoint

    def event(self, event_type: str, data: dict[str, Any], iso: Callable[[int], str]) -> Event:
        event_id = "evt_" + secrets.token_hex(13).upper()
        payload = {"id": event_id, "type": event_type, "created_at": iso(int(self.now())), "data": data}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        event = Event(event_id, event_type, body)
        self.events[event_id] = event
        return event

    async def deliver(self, event: Event, client_id: int, *, only: int | None = None) -> list[Delivery]:
        """Send ``event`` to each active endpoint of the client subscribed to it (or to ``only``)."""
        done = []
        for endpoint in self.of_client(client_id):
            if only is not None and endpoint.id != only:
                continue
            if only is None and (endpoint.status != "active" or event.type not in endpoint.events):
                continue
            done.append(await self._send(endpoint, event))
        return done

    async def redeliver(
        self, event_id: str, client_id: int, *, same_signature: bool = False
    ) -> list[Delivery]:
        """Send an event again: re-signed (new timestamp and nonce), or byte for byte the last delivery."""
        event = self.events[event_id]
        if not same_signature:
            return await self.deliver(event, client_id)
        done = []
        latest = {d.endpoint_id: d for d in self.deliveries if d.event_id == event_id}
        for old in latest.values():
            done.append(await self._post(self.endpoints[old.endpoint_id], event, dict(old.headers)))
        return done

    async def _send(self, endpoint: Endpoint, event: Event) -> Delivery:
        timestamp, nonce = str(int(self.now())), "wh_" + secrets.token_hex(8)
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Event-Id": event.id,
            "X-Webhook-Event-Type": event.type,
            "X-Webhook-Timestamp": timestamp,
            "X-Webhook-Nonce": nonce,
            "X-Webhook-Signature": sign(endpoint.secret, event.id, event.type, timestamp, nonce, event.body),
            "X-Request-Id": "req_" + secrets.token_hex(8),
            "X-Correlation-Id": "cor_" + secrets.token_hex(8),
        }
        return await self._post(endpoint, event, headers)

    async def _post(self, endpoint: Endpoint, event: Event, headers: dict[str, str]) -> Delivery:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        try:
            response = await self._http.post(endpoint.url, content=event.body, headers=headers)
            status: int | None = response.status_code
        except httpx.HTTPError:
            status = None
        delivery = Delivery(
            len(self.deliveries) + 1, event.id, event.type, endpoint.id, endpoint.url,
            "succeeded" if status is not None and 200 <= status < 300 else "failed", status, headers,
            event.body,
        )  # fmt: skip
        self.deliveries.append(delivery)
        return delivery

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
