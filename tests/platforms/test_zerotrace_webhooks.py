"""0trace webhooks end to end on loopback: the sandbox signs and delivers to a real HTTP receiver at
``/webhooks/0trace``; the adapter's receiver verifies the raw bytes (signature with the webhook secret,
the -60..+300 s window) and turns each event into a PushEvent with 0trace's dedupe key."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from decimal import Decimal

import pytest
from aiohttp import web

from bot.domain.models import OrderPhase, OrderRequest
from bot.platforms.base import PushRejected
from bot.platforms.registry import PlatformConfig, open_platform
from bot.platforms.zerotrace.adapter import ZeroTracePlatform
from bot.platforms.zerotrace.info import WEBHOOK_PATH
from bot.platforms.zerotrace.sandbox.keys import DEMO
from tests.platforms.zerotrace_harness import BTC_ADDRESS, TRON_ADDRESS


class Receiver:
    """A bot-side HTTP endpoint that keeps each delivery's raw headers and body."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[dict[str, str], bytes]] = asyncio.Queue()
        self.fail_next = 0

    async def hit(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=500)
        self.received.put_nowait((dict(request.headers), body))
        return web.Response(text="ok")

    async def next(self) -> tuple[dict[str, str], bytes]:
        return await asyncio.wait_for(self.received.get(), 10)


@pytest.fixture
async def setup() -> AsyncIterator[tuple[ZeroTracePlatform, Receiver]]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, receiver.hit)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    public_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with AsyncExitStack() as stack:
            config = PlatformConfig(
                name="0trace", site_url=None, sandbox_step_seconds=None, public_url=public_url
            )
            platform = await open_platform(config, stack)
            assert isinstance(platform, ZeroTracePlatform) and platform.sandbox is not None
            platform.sandbox.webhooks.ladder = (0.05, 0.05)
            yield platform, receiver
    finally:
        await runner.cleanup()


async def place(platform: ZeroTracePlatform):
    request = OrderRequest(
        direction_id="usdt_trc20:btc", amount=Decimal(100),
        fields={"toAddress": BTC_ADDRESS, "refundAddress": TRON_ADDRESS},
    )  # fmt: skip
    await platform.customer().direction(request.direction_id)
    key = platform.placement.new_key()
    prepared = platform.placement.prepare(request, key)
    return await platform.placement.place(request, key, prepared, reserved_at=int(time.time()), retry=False)


def resign(headers: dict[str, str], body: bytes, secret: str) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {**headers, "X-Partner-Webhook-Sign": signature}


async def test_each_change_arrives_signed_and_verifies(setup) -> None:
    platform, receiver = setup
    assert platform.webhooks is not None and platform.webhooks.path == "/webhooks/0trace"
    order = await place(platform)
    token = order.ref.secret.get_secret_value()
    platform.sandbox.advance(order.id)
    platform.sandbox.advance(order.id)
    events = []
    for _ in range(2):
        headers, body = await receiver.next()
        assert token.encode() not in body
        events += platform.webhooks.verify(headers, body, now=time.time())
    assert [e.dedupe_key for e in events] == [f"order:{order.id}:PENDING", f"order:{order.id}:EXCHANGE"]
    first, second = (e.observation for e in events)
    assert first.order_id == order.id and first.order is not None and first.order.ref.secret is None
    assert first.status.phase is OrderPhase.CONFIRMING_PAYMENT and first.changed_at
    # Out of order: the later status never ranks below the earlier one (the core never goes back).
    assert second.status.rank > first.status.rank and first.order.give_tx_id


async def test_forged_stale_and_future_pushes_are_refused(setup) -> None:
    platform, receiver = setup
    order = await place(platform)
    platform.sandbox.advance(order.id)
    headers, body = await receiver.next()
    sent_at = int(headers["X-Partner-Webhook-Timestamp"])
    verify = platform.webhooks.verify

    forged = body.replace(b'"PENDING"', b'"DONE"')
    with pytest.raises(PushRejected) as info:
        verify(headers, forged, now=sent_at)
    assert info.value.status == 401
    with pytest.raises(PushRejected):  # signed with the API secret, not the webhook secret
        verify(resign(headers, body, DEMO.secret), body, now=sent_at)
    with pytest.raises(PushRejected):
        verify({k: v for k, v in headers.items() if k != "X-Partner-Webhook-Sign"}, body, now=sent_at)
    with pytest.raises(PushRejected):  # the timestamp header isn't signed, but it must be a number
        verify({**headers, "X-Partner-Webhook-Timestamp": "soon"}, body, now=sent_at)

    assert verify(headers, body, now=sent_at + 300)
    assert verify(headers, body, now=sent_at - 60)
    for now in (sent_at + 301, sent_at - 61):
        with pytest.raises(PushRejected) as info:
            verify(headers, body, now=now)
        assert 400 <= info.value.status < 500
    lowercase = {k.lower(): v for k, v in headers.items()}
    assert verify(lowercase, body, now=sent_at)


async def test_a_redelivery_has_the_same_dedupe_key(setup) -> None:
    platform, receiver = setup
    order = await place(platform)
    receiver.fail_next = 1  # the first delivery gets a 500: 0trace sends it again
    platform.sandbox.advance(order.id)
    headers, body = await receiver.next()
    await platform.sandbox.drain_webhooks()
    attempts = [r for r in platform.sandbox.webhooks.records if r.body == body]
    assert [r.ok for r in attempts] == [False, True]
    [event] = platform.webhooks.verify(headers, body, now=time.time())
    [again] = platform.webhooks.verify(resign(headers, attempts[0].body, DEMO.webhook_secret),
                                       attempts[0].body, now=time.time())  # fmt: skip
    assert event.dedupe_key == again.dedupe_key == f"order:{order.id}:PENDING"


async def test_other_events(setup) -> None:
    platform, _ = setup
    verify = platform.webhooks.verify

    def signed(payload: dict) -> tuple[dict[str, str], bytes]:
        body = json.dumps(payload).encode()
        headers = {"X-Partner-Webhook-Timestamp": str(int(time.time()))}
        return resign(headers, body, DEMO.webhook_secret), body

    payout = {"event": "partner.paid_out", "payout": {"paidOutAt": 1716800000}}
    [paid] = verify(*signed(payout), now=time.time())
    assert paid.kind == "payout_paid" and paid.dedupe_key == "paid_out:1716800000"
    assert paid.observation is None
    assert verify(*signed({"event": "something.new", "thing": {}}), now=time.time()) == []
    headers, _ = signed({})
    with pytest.raises(PushRejected) as info:
        verify(resign(headers, b"not json", DEMO.webhook_secret), b"not json", now=time.time())
    assert info.value.status == 400
    with pytest.raises(PushRejected):
        verify(*signed({"event": "order.status_changed", "order": {"status": "NEW"}}), now=time.time())
