"""The 0trace sandbox's own rules, over raw HTTP: auth codes, nonces, idempotency replays, the
automatic state machine, and the demo controls the terminal chat uses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
from bot.platforms.zerotrace.sandbox.keys import DEMO
from bot.platforms.zerotrace.signing import body_bytes, new_nonce, sign
from tests.platforms.zerotrace_harness import BTC_ADDRESS, TRON_ADDRESS

CREATE = {"type": "float", "fromCcy": "usdt_trc20", "toCcy": "btc", "direction": "from", "amount": "100",
          "toAddress": BTC_ADDRESS, "refundAddress": TRON_ADDRESS}  # fmt: skip


@pytest.fixture
async def api() -> AsyncIterator[tuple[ZeroTraceSandbox, httpx.AsyncClient]]:
    sb = ZeroTraceSandbox(step_seconds=None)
    url = await sb.start()
    async with httpx.AsyncClient(base_url=url) as http:
        yield sb, http
    await sb.stop()


def signed(body: bytes, *, nonce: str | None = None, key: str = DEMO.key) -> dict[str, str]:
    return {"X-API-KEY": key, "X-API-SIGN": sign(DEMO.secret, body), "X-API-NONCE": nonce or new_nonce()}


async def call(http: httpx.AsyncClient, name: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    response = await http.post(f"/api/v1/{name}", content=body, headers=headers)
    return response.status_code, json.loads(response.content)


async def test_auth_codes(api) -> None:
    _, http = api
    body = b'{"id":"x","token":"y"}'
    full = signed(body)

    async def code(headers: dict[str, str]) -> int:
        return (await call(http, "order", body, headers))[1]["code"]

    assert await code({}) == 2  # unsigned is for catalogue and price only
    assert await code({k: v for k, v in full.items() if k != "X-API-SIGN"}) == 2
    assert await code({k: v for k, v in full.items() if k != "X-API-NONCE"}) == 3
    assert await code(signed(body, nonce="short")) == 3
    assert await code({**full, "X-API-SIGN": sign(DEMO.secret, body + b" ")}) == 3
    assert await code({**full, "X-API-KEY": DEMO.key + ".NOSUCH"}) == 3
    status, answer = await call(http, "order", body, full)
    assert (status, answer) == (404, {"code": 6, "msg": "NOT_FOUND"})  # signed fine: the order is unknown
    assert (await call(http, "order", body, full))[1]["code"] == 3  # the same nonce again
    status, answer = await call(http, "currencies", b"{}", {})
    assert status == 200 and answer["code"] == 0 and answer["data"]


async def test_replay_returns_the_order_without_its_token(api) -> None:
    sb, http = api
    body = body_bytes(CREATE)
    headers = {**signed(body), "Idempotency-Key": "key-000000001"}
    _, first = await call(http, "create", body, headers)
    token = first["data"]["token"]
    assert len(token) == 43
    _, again = await call(http, "create", body, {**signed(body), "Idempotency-Key": "key-000000001"})
    assert again["data"]["token"] is None and again["data"]["id"] == first["data"]["id"]
    assert len(sb.orders) == 1
    other = body_bytes({**CREATE, "amount": "101"})
    headers = {**signed(other), "Idempotency-Key": "key-000000001"}
    status, conflict = await call(http, "create", other, headers)
    assert (status, conflict["code"]) == (409, 1)
    status, short = await call(http, "create", body, {**signed(body), "Idempotency-Key": "short"})
    assert short["code"] == 1
    read = body_bytes({"id": first["data"]["id"], "token": token})
    _, order = await call(http, "order", read, signed(read))
    assert order["data"]["status"] == "NEW" and "token" not in order["data"]


async def test_control_endpoints_and_automatic_steps(api) -> None:
    sb, http = api
    sb.step_seconds = 0.05
    body = body_bytes(CREATE)
    _, created = await call(http, "create", body, {**signed(body), "Idempotency-Key": "key-000000002"})
    order_id = created["data"]["id"]
    answer = (await http.post("/sandbox/deposit", json={"id": order_id, "amount": "1"})).json()
    assert answer["data"]["status"] == "EMERGENCY"
    sb.orders[order_id].choice = "EXCHANGE"
    sb.on_choice(sb.orders[order_id])
    for _ in range(100):
        if sb.orders[order_id].status == "DONE":
            break
        await asyncio.sleep(0.02)
    assert sb.orders[order_id].status == "DONE" and sb.orders[order_id].to_amount < Decimal("0.001")
    listed = (await http.get("/sandbox/orders")).json()["data"]
    assert [o["id"] for o in listed] == [order_id]


async def test_public_rates_feed(api) -> None:
    _, http = api
    first = await http.get("/api/rates.xml")
    assert first.status_code == 200 and "<from>USDTTRC20</from>" in first.text
    assert "<to>DASH</to>" not in first.text
    etag = first.headers["ETag"]
    assert len(etag) == 18 and (await http.get("/rates/float.xml")).content == first.content
    assert (await http.get("/api/rates.xml", headers={"If-None-Match": etag})).status_code == 304
