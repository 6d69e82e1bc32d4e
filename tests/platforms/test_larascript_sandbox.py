"""The Lara sandbox itself, over raw HTTP: the documented envelope and errors, and Laravel's habits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.platforms.larascript.sandbox import LaraSandbox
from bot.platforms.larascript.sandbox.keys import DEMO, SECOND

PATH = "/api/v1/partner/referral-exchanges"
JSON = {"Accept": "application/json"}


@pytest.fixture
async def sb() -> AsyncIterator[LaraSandbox]:
    sandbox = LaraSandbox(step_seconds=None)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
async def http(sb: LaraSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sb.url, timeout=10) as client:
        yield client


async def test_the_documented_envelope(sb: LaraSandbox, http: httpx.AsyncClient) -> None:
    answer = await http.get(PATH, headers={"X-API-Key": SECOND.key, **JSON})
    body = answer.json()
    assert answer.status_code == 200 and set(body) == {"data", "links", "counts"}
    assert body["counts"] == {"total": 8, "last_page": 1} and body["links"]["next_page"] is None
    item = body["data"][0]
    assert item["type"] == "referral_exchange" and isinstance(item["id"], int)
    assert isinstance(item["attributes"]["exchange_amount"], str)
    assert isinstance(item["attributes"]["referral_reward"], str)
    big = await http.get(PATH, headers={"X-API-Key": DEMO.key, **JSON})
    assert big.json()["counts"]["last_page"] == -(-902 // 15)  # Laravel's default page size
    assert big.json()["links"]["next_page"] == f"{sb.url}{PATH}?page=2"  # only ?page=N, absolute


async def test_the_documented_errors(http: httpx.AsyncClient) -> None:
    missing = await http.get(PATH, headers=JSON)
    assert missing.status_code == 401
    assert missing.json() == {"errors": [{"message": "Invalid API key.", "code": "4004"}]}
    too_big = await http.get(PATH, params={"perPage": 201}, headers={"X-API-Key": DEMO.key})
    assert too_big.status_code == 422 and too_big.json() == {
        "errors": [
            {"message": "The per page field value must not exceed 200.", "code": "0001", "field": "perPage"}
        ]
    }
    too_small = await http.get(PATH, params={"perPage": 0}, headers={"X-API-Key": DEMO.key})
    assert too_small.status_code == 422 and too_small.json()["errors"][0]["code"] == "0001"


async def test_laravel_renders_its_own_errors_as_json_only_when_asked(sb: LaraSandbox, http) -> None:
    assert (await http.get("/api/v1/nothing", headers=JSON)).json() == {"message": "Not Found"}
    html = await http.get("/api/v1/nothing")
    assert html.status_code == 404 and html.text.lstrip().startswith("<!DOCTYPE html>")
    posted = await http.post(PATH, headers=JSON)
    assert posted.status_code == 405 and posted.json() == {"message": "Method Not Allowed"}
    sb.faults.next("http429", seconds=7)
    throttled = await http.get(PATH, headers={"X-API-Key": DEMO.key, **JSON})
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    assert throttled.json() == {"message": "Too Many Attempts."}


async def test_odd_values_on_the_wire(http: httpx.AsyncClient) -> None:
    answer = await http.get(PATH, params={"perPage": 200}, headers={"X-API-Key": DEMO.key})
    raw = answer.text
    items = json.loads(raw)["data"]
    params = [i["attributes"].get("transition_query_params", "absent") for i in items]
    assert [] in params and None in params and "absent" in params and {} in params
    assert any(isinstance(i["id"], str) for i in items) and any(i["id"] is None for i in items)
    assert any(isinstance(i["attributes"].get("exchange_amount"), int) for i in items)
    assert "весна_2024" in raw and "<b>promo</b>&x=1" in raw
