"""Signed platform pushes at ``POST /webhooks/<platform>[/<token>]``: verified, stored, handled once.

PremiumExchanger has no signed webhooks, so the platform here is the real PremiumExchanger adapter and
sandbox with :class:`SignedPushes` as its webhook receiver: a test double of an external platform's
signing scheme (HMAC-SHA256 of the raw body), not of our code. Everything behind the route is real.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiogram import Bot

from bot.app.web import start_web_server
from bot.app.wiring import Services, open_services
from bot.domain.models import OrderObservation, OrderRequest
from bot.notifications import TEXT_KIND, Notifications, build_notifications
from bot.notifications.pushes import PUSH_SECRET_EXTRA, push_url_for
from bot.platforms.base import PushEvent, PushRejected
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.statuses import status_of
from bot.platforms.registry import PLATFORMS
from bot.storage.repositories import LinkedCredentials
from tests.conftest import make_settings
from tests.sandbox_forms import FIELDS_102
from tests.test_notifications import CHAT, FAST, PE, FakeClock, headings, place_order, texts

ACCOUNT_SECRET = "whsec-account-0123456789abcdef"
PARTNER_CHAT = 7001
PARTNER_TOKEN = "PartnerToken0123456789abcdefABCD"
PARTNER_SECRET = "whsec-partner-0123456789abcdef"


class SignedPushes:
    """A platform's webhooks: ``X-Sign`` = HMAC-SHA256(secret, raw body), ``at`` within 5 minutes.
    Account-wide (one secret) or per partner (the secret the core passes for the URL's token)."""

    def __init__(self, secret: str | None, *, per_partner_token: bool = False) -> None:
        self.path = f"/webhooks/{PE}"
        self.per_partner_token = per_partner_token
        self._secret = secret

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        now: float,
        token: str | None = None,
        secret: str | None = None,
    ) -> list[PushEvent]:
        key = secret if self.per_partner_token else self._secret
        if not key:
            raise PushRejected("no partner registered at this URL", status=404)
        expected = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("X-Sign", "")):
            raise PushRejected("signature does not match", status=401)
        try:
            payload = json.loads(body)
        except ValueError:
            raise PushRejected("body is not JSON", status=400) from None
        if abs(now - payload["at"]) > 300:
            raise PushRejected("stale", status=401)
        if payload["event"] == "order":
            observation = OrderObservation(
                order_id=payload["order"],
                status=status_of(payload["status"]),
                idempotency_key=payload.get("key"),
                order=payload.get("full"),
            )
            return [PushEvent(f"order:{payload['order']}:{payload['status']}", observation=observation)]
        return [PushEvent(f"payout:{payload['payout']}", kind="payout_paid", payload=payload)]


class PushingPlatform:
    """The real adapter, with a webhook receiver."""

    def __init__(self, platform: Any, receiver: SignedPushes) -> None:
        self._platform = platform
        self.webhooks = receiver

    def __getattr__(self, name: str) -> Any:
        return getattr(self._platform, name)


def signed(payload: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"at": int(time.time()), **payload}).encode()
    return body, {"X-Sign": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def pushing(services: Services, receiver: SignedPushes) -> Services:
    return dataclasses.replace(services, platform=PushingPlatform(services.platform, receiver))


@pytest.fixture
def account_wide(services: Services) -> Services:
    return pushing(services, SignedPushes(ACCOUNT_SECRET))


@pytest.fixture
def per_partner(services: Services) -> Services:
    return pushing(services, SignedPushes(None, per_partner_token=True))


async def serve(services: Services, notifications: Notifications) -> AsyncIterator[str]:
    runner = await start_web_server(services, notifications)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
def notifications(account_wide: Services, bot: Bot) -> Notifications:
    return build_notifications(account_wide, bot, FAST, FakeClock())


@pytest.fixture
async def url(account_wide: Services, notifications: Notifications) -> AsyncIterator[str]:
    async for base in serve(account_wide, notifications):
        yield base + f"/webhooks/{PE}"


async def test_push_urls() -> None:
    assert push_url_for(None, SignedPushes("s")) is None
    assert push_url_for("https://bot.example/", SignedPushes("s")) == f"https://bot.example/webhooks/{PE}"
    per = SignedPushes(None, per_partner_token=True)
    assert push_url_for("https://bot.example", per, "tok") == f"https://bot.example/webhooks/{PE}/tok"


async def test_a_signed_order_push_is_recorded_once(
    account_wide: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications, url: str
) -> None:
    placed = await place_order(account_wide)
    sandbox.advance(placed.bid_id)
    body, headers = signed({"event": "order", "order": str(placed.bid_id), "status": "payed"}, ACCOUNT_SECRET)
    async with httpx.AsyncClient() as http:
        first = await http.post(url, content=body, headers=headers)
        again = await http.post(url, content=body, headers=headers)  # the platform's redelivery
    assert (first.status_code, first.content, again.status_code) == (200, b"", 200)
    await notifications.sender.drain()
    assert headings(bot) == [f"🔔 Order #{placed.bid_id}: Order is paid (confirmation from client)"]

    # A push delivered late, about an older status: acknowledged, the order does not move back.
    body, headers = signed({"event": "order", "order": str(placed.bid_id), "status": "new"}, ACCOUNT_SECRET)
    async with httpx.AsyncClient() as http:
        late = await http.post(url, content=body, headers=headers)
    assert late.status_code == 200
    stored = await account_wide.orders.get(placed.local_id)
    assert stored is not None and stored.status_code == "payed"
    # An order that is not the bot's: acknowledged and ignored.
    body, headers = signed({"event": "order", "order": "999999", "status": "success"}, ACCOUNT_SECRET)
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, content=body, headers=headers)).status_code == 200
    await notifications.sender.drain()
    assert len(texts(bot)) == 1


async def test_rejected_pushes_change_nothing(
    account_wide: Services, sandbox: SandboxExchanger, notifications: Notifications, url: str
) -> None:
    placed = await place_order(account_wide)
    event = {"event": "order", "order": str(placed.bid_id), "status": "success"}
    body, headers = signed(event, ACCOUNT_SECRET)
    forged_body, forged_headers = signed(event, "not-the-secret")
    stale = json.dumps({"at": int(time.time()) - 3600, **event}).encode()
    stale_headers = {"X-Sign": hmac.new(ACCOUNT_SECRET.encode(), stale, hashlib.sha256).hexdigest()}
    garbage = b"{not json"
    garbage_headers = {"X-Sign": hmac.new(ACCOUNT_SECRET.encode(), garbage, hashlib.sha256).hexdigest()}
    async with httpx.AsyncClient() as http:
        answers = [
            await http.post(url, content=body, headers={}),  # unsigned
            await http.post(url, content=body + b" ", headers=headers),  # body changed after signing
            await http.post(url, content=forged_body, headers=forged_headers),
            await http.post(url, content=stale, headers=stale_headers),
            await http.post(url, content=garbage, headers=garbage_headers),
        ]
        wrong_method = await http.get(url)
        with_token = await http.post(f"{url}/sometoken", content=body, headers=headers)
    assert [(a.status_code, a.content) for a in answers] == [
        (401, b""),
        (401, b""),
        (401, b""),
        (401, b""),
        (400, b""),
    ]
    assert wrong_method.status_code == 405 and with_token.status_code == 404
    stored = await account_wide.orders.get(placed.local_id)
    assert stored is not None and stored.status_code == "new"
    assert await notifications.outbox.pending_count() == 0
    # Nothing was remembered as handled: the genuine push still counts.
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, content=body, headers=headers)).status_code == 200
    stored = await account_wide.orders.get(placed.local_id)
    assert stored is not None and stored.status_code == "success"


async def test_no_webhook_route_where_the_platform_has_none(
    services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    assert services.platform.webhooks is None
    notifications = build_notifications(services, bot, FAST, FakeClock())
    async for base in serve(services, notifications):
        body, headers = signed({"event": "order", "order": "1", "status": "payed"}, ACCOUNT_SECRET)
        async with httpx.AsyncClient() as http:
            answer = await http.post(f"{base}/webhooks/{PE}", content=body, headers=headers)
        assert answer.status_code == 404


async def test_a_push_adopts_an_order_whose_create_answer_was_lost(
    account_wide: Services, sandbox: SandboxExchanger, bot: Bot, notifications: Notifications, url: str
) -> None:
    placement = account_wide.platform.placement
    key = placement.new_key()
    await account_wide.orders.reserve(CHAT, PE, key, "102")
    request = OrderRequest(direction_id="102", amount=Decimal("10000"), fields=FIELDS_102)
    created = await placement.place(request, key, None, reserved_at=account_wide.db.now(), retry=False)
    full = created.model_dump(mode="json")
    full["ref"]["secret"] = created.ref.secret.get_secret_value() if created.ref.secret else None
    push = {"event": "order", "order": created.id, "status": "new", "key": key, "full": full}
    body, headers = signed(push, ACCOUNT_SECRET)
    async with httpx.AsyncClient() as http:
        # Its create may still be under way: left to the placer.
        assert (await http.post(url, content=body, headers=headers)).status_code == 200
        assert (await account_wide.orders.get_by_key(PE, key)).order_id is None  # type: ignore[union-attr]
        notifications.pushes.adopt_after = 0
        sandbox.set_status(int(created.id), "techpay")  # the next change is pushed
        body, headers = signed({**push, "status": "techpay"}, ACCOUNT_SECRET)
        assert (await http.post(url, content=body, headers=headers)).status_code == 200
    stored = await account_wide.orders.get_by_key(PE, key)
    assert stored is not None and stored.order_id == created.id and stored.secret is not None
    await notifications.sender.drain()
    assert headings(bot) == ["🔔 Your order was created after all: the exchange confirmed it late."]
    assert f"Order #{created.id}" in texts(bot)[0] and "How to make payment" in texts(bot)[0]


async def test_per_partner_pushes_reach_their_handler_once(
    per_partner: Services, bot: Bot, sandbox: SandboxExchanger
) -> None:
    credentials = per_partner.platform.credentials({"login": "partner", "key": "k" * 32})
    await per_partner.partner_credentials.save(
        PARTNER_CHAT, credentials, "7", extra={PUSH_SECRET_EXTRA: PARTNER_SECRET}
    )
    assert await per_partner.partner_credentials.set_push_token(PARTNER_CHAT, PE, PARTNER_TOKEN)
    notifications = build_notifications(per_partner, bot, FAST, FakeClock())
    handled: list[tuple[str, int | None]] = []
    failures = [RuntimeError("the partner's payout list could not be read")]

    async def payout_paid(event: PushEvent, partner: LinkedCredentials | None) -> None:
        if failures:
            raise failures.pop()
        handled.append((event.dedupe_key, partner.chat_id if partner else None))
        await notifications.notify(
            PARTNER_CHAT,
            TEXT_KIND,
            {"msgid": "🔔 Order #{id}: {status}", "params": {"id": "P1", "status": "paid"}},
        )

    notifications.pushes.on("payout_paid", payout_paid)
    async for base in serve(per_partner, notifications):
        url = f"{base}/webhooks/{PE}/{PARTNER_TOKEN}"
        body, headers = signed({"event": "payout", "payout": "P1"}, PARTNER_SECRET)
        other_body, other_headers = signed({"event": "payout", "payout": "P1"}, ACCOUNT_SECRET)
        async with httpx.AsyncClient() as http:
            failed = await http.post(url, content=body, headers=headers)  # the handler fails: retry welcome
            delivered = await http.post(url, content=body, headers=headers)
            redelivered = await http.post(url, content=body, headers=headers)
            unknown = await http.post(f"{base}/webhooks/{PE}/{'x' * 32}", content=body, headers=headers)
            wrong_secret = await http.post(url, content=other_body, headers=other_headers)
            bad_token = await http.post(f"{base}/webhooks/{PE}/{'é' * 4}", content=body, headers=headers)
            account_url = await http.post(f"{base}/webhooks/{PE}", content=body, headers=headers)
    assert [failed.status_code, delivered.status_code, redelivered.status_code] == [500, 200, 200]
    assert [unknown.status_code, wrong_secret.status_code, bad_token.status_code] == [404, 401, 404]
    assert account_url.status_code in (404, 405)
    assert handled == [("payout:P1", PARTNER_CHAT)]
    await notifications.sender.drain()
    assert texts(bot, PARTNER_CHAT) == ["🔔 Order #P1: paid"]


# -- a platform that signs its pushes: 0trace's sandbox and receiver, end to end ----------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif("0trace" not in PLATFORMS, reason="the 0trace adapter is not registered")
async def test_0trace_webhooks_reach_the_chat_once(tmp_path: Path, bot: Bot) -> None:
    from tests.platforms.zerotrace_harness import BTC_ADDRESS, TRON_ADDRESS

    port = _free_port()
    settings = make_settings(
        tmp_path,
        None,
        exchanger_platform="0trace",
        public_url=f"http://127.0.0.1:{port}",
        http_port=port,
    )
    async with open_services(settings, sandbox_step_seconds=None) as services:
        platform = services.platform
        sandbox = platform.sandbox  # type: ignore[attr-defined]
        assert platform.webhooks is not None and platform.webhooks.path == "/webhooks/0trace"
        notifications = build_notifications(services, bot, FAST, FakeClock())
        async for _ in serve(services, notifications):
            direction = await platform.customer().direction("usdt_trc20:btc")
            placed = await services.ordering.place(
                chat_id=CHAT,
                key=services.ordering.new_key(),
                direction=direction,
                request=OrderRequest(
                    direction_id=direction.id,
                    amount=Decimal(100),
                    fields={"toAddress": BTC_ADDRESS, "refundAddress": TRON_ADDRESS},
                ),
            )
            before = await services.orders.get(placed.local_id)
            assert before is not None and before.push_token  # stored, but never sent: no callbacks here
            sandbox.deposit(placed.order.id)
            await sandbox.drain_webhooks()
            stored = await services.orders.get(placed.local_id)
            assert stored is not None and stored.status_code != before.status_code
            await notifications.sender.drain()
            assert len(texts(bot)) == 1
            assert sandbox.webhooks.records and all(record.ok for record in sandbox.webhooks.records)
