"""Webhook management of API v3 (scopes ``webhooks:read`` / ``webhooks:write``, outside the partner
preset). Endpoints belong to the account of the key's owner; the secret comes back **once**, in the
answer to the creation or a rotation.

* ``GET /private/webhooks`` → ``result.endpoints[]``, ``events[]``, ``limits`` (webhooks:read)
* ``POST /private/webhooks`` ``{name, url, events[]}`` → 201 ``result.endpoint`` with the one-time
  ``secret``; takes an ``Idempotency-Key`` (webhooks:write)
* ``GET / PATCH / DELETE /private/webhooks/{id}`` (read / write)
* ``POST /private/webhooks/{id}/rotate-secret`` → a new one-time secret (webhooks:write)
* ``POST /private/webhooks/test`` ``{endpoint_id?, event_type, payload?}`` (webhooks:write)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from bot.domain.errors import UnexpectedResponse
from bot.logs import REDACTOR
from bot.platforms.iexexchanger import wire
from bot.platforms.iexexchanger.envelope import NotFound
from bot.platforms.iexexchanger.models import WebhookEndpoint
from bot.platforms.iexexchanger.scopes import WEBHOOK_READ, WEBHOOK_WRITE

if TYPE_CHECKING:
    from bot.platforms.iexexchanger.client import IexClient

__all__ = ["WebhooksApi"]

PATH = "/private/webhooks"
MAX_NAME = 80
MAX_URL = 500


def _endpoint_path(endpoint_id: str) -> str:
    return f"{PATH}/{quote(str(endpoint_id), safe='')}"


class WebhooksApi:
    def __init__(self, client: IexClient) -> None:
        self._client = client

    async def endpoints(self) -> list[WebhookEndpoint]:
        result = (await self._client.get(PATH, scope=WEBHOOK_READ)).result
        rows = wire.rows_of(result, ("endpoints",))
        return [e for e in (WebhookEndpoint.from_wire(row) for row in rows) if e is not None]

    async def create(
        self,
        url: str,
        events: Sequence[str],
        *,
        name: str = "exchanger-bot",
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Register ``url``; the answer's one-time secret is registered with the log redactor at once.
        Sent with an ``Idempotency-Key`` (a retry after a lost answer replays the same creation)."""
        if len(url) > MAX_URL:
            raise ValueError(f"a webhook URL has at most {MAX_URL} characters")
        body = {"name": name[:MAX_NAME], "url": url, "events": list(events)}
        envelope = await self._client.post(
            PATH, body, scope=WEBHOOK_WRITE, idempotency_key=idempotency_key or f"bot-{uuid.uuid4().hex}"
        )
        return self._with_secret(envelope.result, "POST /private/webhooks")

    async def delete(self, endpoint_id: str) -> bool:
        """True when deleted now, False when the server no longer has it."""
        try:
            await self._client.delete(_endpoint_path(endpoint_id), scope=WEBHOOK_WRITE)
        except NotFound:
            return False
        return True

    async def rotate_secret(self, endpoint_id: str) -> WebhookEndpoint:
        envelope = await self._client.post(
            f"{_endpoint_path(endpoint_id)}/rotate-secret", {}, scope=WEBHOOK_WRITE
        )
        return self._with_secret(envelope.result, "POST /private/webhooks/{id}/rotate-secret")

    async def test(self, event_type: str, *, endpoint_id: str | None = None) -> None:
        body: dict[str, object] = {"event_type": event_type}
        if endpoint_id is not None:
            body["endpoint_id"] = endpoint_id
        await self._client.post(f"{PATH}/test", body, scope=WEBHOOK_WRITE)

    @staticmethod
    def _with_secret(result: object, method: str) -> WebhookEndpoint:
        endpoint = WebhookEndpoint.from_wire(result)
        if endpoint is None:
            raise UnexpectedResponse("the answer names no webhook endpoint", method=method)
        if endpoint.secret is None:
            raise UnexpectedResponse("the answer carries no webhook secret", method=method)
        REDACTOR.add(endpoint.secret.get_secret_value())
        return endpoint
