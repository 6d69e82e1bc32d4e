"""Signed iEXExchanger webhooks end to end: a partner's key registers the bot's URL (the secret comes
once), the sandbox delivers a signed ``partner.payout.paid`` to a receiver on loopback, and the receiver
verifies exactly as documented: constant-time signatures over the raw body, forged, stale and malformed
deliveries refused, redeliveries recognised by event id."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.domain import errors
from bot.platforms.base import PushEvent, PushRejected
from bot.platforms.iexexchanger.adapter import IexPlatform
from bot.platforms.iexexchanger.receiver import IexWebhookReceiver
from bot.platforms.iexexchanger.sandbox import IexSandbox
from bot.platforms.iexexchanger.signing import webhook_signature
from bot.platforms.iexexchanger.webhooks_api import WebhooksApi
from tests.platforms.iexexchanger_support import cabinet_for, platform_fixture, sb_fixture  # noqa: F401

EXAMPLE_BODY = (
    b'{"id":"evt_01JZ8Q4V6T3M2N1P0R9S8T7U6V","type":"partner.payout.paid",'
    b'"created_at":"2026-06-23T10:00:00+00:00","data":{"payout":{"id":205,"public_id":"PO-000205",'
    b'"status":"paid","amount":"48.20","currency":"USDT","wallet":"TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",'
    b'"tx_id":"9f2c1e"}}}'
)
EXAMPLE_HEADERS = {
    "Content-Type": "application/json",
    "X-Webhook-Event-Id": "evt_01JZ8Q4V6T3M2N1P0R9S8T7U6V",
    "X-Webhook-Event-Type": "partner.payout.paid",
    "X-Webhook-Timestamp": "1782190000",
    "X-Webhook-Nonce": "wh_20260623_001",
    "X-Webhook-Signature": "sha256=781040512da4d45a763d7ea8a1c44f90ca0d662927433feada3b840882245bf4",
}
EXAMPLE_NOW = 1782190000 + 30


class Receiver:
    """What the bot's web route does: verify, store the event id, answer 2xx only after storing."""

    def __init__(self, platform: IexPlatform) -> None:
        self.platform = platform
        self.secrets: dict[str, str] = {}  # per-partner token → stored webhook secret
        self.stored: dict[str, PushEvent] = {}
        self.answers: list[int] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body = await request.read()
        receiver = self.platform.webhooks
        assert receiver is not None
        try:
            events = receiver.verify(
                request.headers, body, now=time.time(), token=token, secret=self.secrets.get(token)
            )
        except PushRejected as rejected:
            self.answers.append(rejected.status)
            return web.Response(status=rejected.status)
        for event in events:
            self.stored.setdefault(event.dedupe_key, event)  # a duplicate changes nothing
        self.answers.append(200)
        return web.Response(text="ok")


@pytest.fixture
async def receiver(platform: IexPlatform) -> AsyncIterator[Receiver]:
    hook = Receiver(platform)
    app = web.Application()
    app.router.add_post("/webhooks/iexexchanger/{token}", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield hook
    finally:
        await runner.cleanup()


async def test_register_deliver_verify_and_dedupe(
    platform: IexPlatform, sb: IexSandbox, receiver: Receiver
) -> None:
    cabinet = cabinet_for(platform, "full")
    url = f"{receiver.url}/webhooks/iexexchanger/tok-partner-1"
    registration = await cabinet.register_push(url)
    secret = registration.secret.get_secret_value()
    assert secret.startswith("whsec_") and secret not in repr(registration)
    assert registration.events == ("partner.payout.paid",)
    listed = await WebhooksApi(cabinet.client).endpoints()
    assert [e.url for e in listed] == [url] and all(e.secret is None for e in listed)  # the secret came once
    receiver.secrets["tok-partner-1"] = secret

    payout = sb.new_payout()
    event, deliveries = await sb.pay_payout(payout.id)
    assert event is not None and [d.http_status for d in deliveries] == [200]
    assert len(receiver.stored) == 1
    (push,) = receiver.stored.values()
    assert push.kind == "payout_paid" and event.id in push.dedupe_key
    assert push.payload["payout_id"] == str(payout.id) and push.payload["status"] == "paid"
    assert push.payload["amount"] == str(payout.amount) and push.payload["tx_id"] == payout.tx_id
    # the list stays the source of truth
    again = await cabinet.payout(str(payout.id))
    assert again is not None and again.status.value == "paid" and again.tx_id == payout.tx_id

    await sb.webhooks.redeliver(event.id, 501)  # a retry: re-signed, same event id
    await sb.webhooks.redeliver(event.id, 501, same_signature=True)  # a byte-exact replay
    assert receiver.answers == [200, 200, 200] and len(receiver.stored) == 1

    assert await cabinet.unregister_push(registration.endpoint_id)
    assert not await cabinet.unregister_push(registration.endpoint_id)
    assert await WebhooksApi(cabinet.client).endpoints() == []


async def test_a_registration_replaces_the_old_one_at_the_same_url(
    platform: IexPlatform, sb: IexSandbox
) -> None:
    cabinet = cabinet_for(platform, "full")
    first = await cabinet.register_push("https://bot.example/webhooks/iexexchanger/abc")
    second = await cabinet.register_push("https://bot.example/webhooks/iexexchanger/abc")
    assert first.endpoint_id != second.endpoint_id and first.secret != second.secret
    assert [e.id for e in sb.webhooks.of_client(501)] == [int(second.endpoint_id)]


async def test_without_webhook_scopes_registration_is_refused(platform: IexPlatform, sb: IexSandbox) -> None:
    with pytest.raises(errors.PermissionMissing) as info:
        await cabinet_for(platform, "preset").register_push("https://bot.example/webhooks/iexexchanger/x")
    assert info.value.permission == "webhooks:write" and not sb.webhooks.endpoints


async def test_a_wrong_secret_or_another_partner_is_refused(
    platform: IexPlatform, sb: IexSandbox, receiver: Receiver
) -> None:
    cabinet = cabinet_for(platform, "full")
    registration = await cabinet.register_push(f"{receiver.url}/webhooks/iexexchanger/tok-2")
    receiver.secrets["tok-2"] = "whsec_of_someone_else"
    event, deliveries = await sb.pay_payout(sb.new_payout().id)
    assert [d.http_status for d in deliveries] == [401] and not receiver.stored
    receiver.secrets["tok-2"] = registration.secret.get_secret_value()
    assert event is not None
    await sb.webhooks.redeliver(event.id, 501)
    assert receiver.answers == [401, 200] and len(receiver.stored) == 1


def _receiver() -> IexWebhookReceiver:
    return IexWebhookReceiver()


def _verify(headers: dict[str, str], body: bytes = EXAMPLE_BODY, now: float = EXAMPLE_NOW) -> list[PushEvent]:
    return _receiver().verify(headers, body, now=now, token="t", secret="whsec_example")


def test_the_worked_example_verifies() -> None:
    (event,) = _verify(EXAMPLE_HEADERS)
    assert event.kind == "payout_paid" and event.payload["payout_id"] == "205"
    assert event.payload["amount"] == "48.20" and event.payload["number"] == "PO-000205"
    bare = dict(EXAMPLE_HEADERS, **{"X-Webhook-Signature": EXAMPLE_HEADERS["X-Webhook-Signature"][7:]})
    assert _verify(bare)[0].dedupe_key == event.dedupe_key
    lower = {k.lower(): v for k, v in EXAMPLE_HEADERS.items()}
    assert _verify(lower)[0].dedupe_key == event.dedupe_key


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"X-Webhook-Signature": "sha256=" + "0" * 64}, 401),
        ({"X-Webhook-Nonce": "wh_20260623_002"}, 401),  # signed values are bound
        ({"X-Webhook-Event-Type": "order.created"}, 401),
        ({"X-Webhook-Timestamp": "1782190001"}, 401),
        ({"X-Webhook-Signature": ""}, 400),
        ({"X-Webhook-Event-Id": ""}, 400),
    ],
)
def test_forged_headers_are_refused(change: dict[str, str], status: int) -> None:
    with pytest.raises(PushRejected) as info:
        _verify(dict(EXAMPLE_HEADERS, **change))
    assert info.value.status == status and "whsec_example" not in str(info.value)


def test_a_tampered_body_is_refused() -> None:
    reencoded = json.dumps(json.loads(EXAMPLE_BODY)).encode()  # same JSON, other bytes
    for body in (EXAMPLE_BODY.replace(b"48.20", b"480.20"), reencoded, EXAMPLE_BODY + b"\n"):
        with pytest.raises(PushRejected) as info:
            _verify(EXAMPLE_HEADERS, body)
        assert info.value.status == 401


def test_stale_and_future_deliveries_are_refused() -> None:
    with pytest.raises(PushRejected, match="stale") as info:
        _verify(EXAMPLE_HEADERS, now=1782190000 + 2 * 86400)
    assert info.value.status == 401
    with pytest.raises(PushRejected, match="stale"):
        _verify(EXAMPLE_HEADERS, now=1782190000 - 3600)


def _signed(body: bytes, event_id: str, event_type: str = "partner.payout.paid") -> dict[str, str]:
    timestamp, nonce = "1782190000", "n-1"
    signature = webhook_signature("whsec_example", event_id, event_type, timestamp, nonce, body)
    return {"X-Webhook-Event-Id": event_id, "X-Webhook-Event-Type": event_type,
            "X-Webhook-Timestamp": timestamp, "X-Webhook-Nonce": nonce,
            "X-Webhook-Signature": signature}  # fmt: skip


def test_body_must_match_the_signed_headers() -> None:
    with pytest.raises(PushRejected) as info:  # a valid signature, but the body names another event
        _verify(_signed(EXAMPLE_BODY, "evt_other"))
    assert info.value.status == 400
    for body in (b"not json", b"[1,2]"):
        with pytest.raises(PushRejected) as info:
            _verify(_signed(body, "evt_x"), body)
        assert info.value.status == 400


def test_other_events_are_verified_and_ignored() -> None:
    body = b'{"id":"evt_2","type":"webhook.test","created_at":"2026-06-23T10:00:00+00:00","data":{}}'
    assert _verify(_signed(body, "evt_2", "webhook.test"), body) == []


def test_an_unknown_partner_token_is_not_found() -> None:
    with pytest.raises(PushRejected) as info:
        _receiver().verify(EXAMPLE_HEADERS, EXAMPLE_BODY, now=EXAMPLE_NOW, token="nobody")
    assert info.value.status == 404


def test_bound_tokens_accept_the_previous_secret_during_a_rotation() -> None:
    receiver = _receiver()
    receiver.bind("tok", "Gz", "whsec_new_one", "whsec_example")
    (event,) = receiver.verify(EXAMPLE_HEADERS, EXAMPLE_BODY, now=EXAMPLE_NOW, token="tok")
    assert event.partner_id == "Gz"
    receiver.unbind("tok")
    with pytest.raises(PushRejected):
        receiver.verify(EXAMPLE_HEADERS, EXAMPLE_BODY, now=EXAMPLE_NOW, token="tok")


def test_dedupe_keys_are_per_event_and_per_endpoint() -> None:
    (one,) = _verify(EXAMPLE_HEADERS)
    retried = dict(_signed(EXAMPLE_BODY, "evt_01JZ8Q4V6T3M2N1P0R9S8T7U6V"), **{"X-Webhook-Nonce": "n-1"})
    (two,) = _verify(retried)
    assert one.dedupe_key == two.dedupe_key
    (other,) = _receiver().verify(
        EXAMPLE_HEADERS, EXAMPLE_BODY, now=EXAMPLE_NOW, token="u", secret="whsec_example"
    )
    assert other.dedupe_key != one.dedupe_key


def test_the_signature_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)  # the standard library's, observed only
    _verify(EXAMPLE_HEADERS)
    expected = EXAMPLE_HEADERS["X-Webhook-Signature"][7:].encode()
    assert (expected, expected) in compared
    with pytest.raises(PushRejected):
        _verify(dict(EXAMPLE_HEADERS, **{"X-Webhook-Signature": "sha256=" + "f" * 64}))
    assert compared[-1] == (expected, b"f" * 64)
    assert (
        hashlib.sha256(EXAMPLE_BODY).hexdigest()
        == "37316dd162dcf8e826121d75d9e353c78532beddf24a5884462427e84a115c74"
    )
