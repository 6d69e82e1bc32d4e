"""PremiumExchanger sandbox partner program: demo clicks, exchanges, payouts and payout requests."""

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.bids import SERVER_TZ
from bot.platforms.premiumexchanger.sandbox.keys import DEMO, NEWBIE, PARTNER, DemoKey
from tests.platforms.premiumexchanger_sandbox_http import api_http, ok, running_sandbox
from tests.platforms.premiumexchanger_sandbox_http import call as raw_call
from tests.sandbox_forms import FORM_102

DAY = 86400


@pytest.fixture
async def sb() -> AsyncIterator[SandboxExchanger]:
    async with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def http(sb: SandboxExchanger) -> AsyncIterator[httpx.AsyncClient]:
    async with api_http(sb) as client:
        yield client


async def call(
    http: httpx.AsyncClient, method: str, data: dict | None = None, key: DemoKey = PARTNER
) -> dict:
    """As the demo partner unless told otherwise."""
    return await raw_call(http, method, data, key=key)


async def all_items(http: httpx.AsyncClient, method: str, data: dict | None = None) -> list[dict]:
    items: list[dict] = []
    while True:
        page = ok(await call(http, method, {**(data or {}), "limit": "500", "offset": str(len(items))}))
        if page == []:
            return items
        assert len(page["items"]) <= 500
        items += page["items"]


async def test_system_key_has_no_partner_id(http: httpx.AsyncClient) -> None:
    for method in (
        "get_partner_info",
        "get_partner_links",
        "get_partner_exchanges",
        "get_partner_payouts",
        "add_partner_payout",
    ):
        assert await call(http, method, key=DEMO) == {"error": "1", "error_text": "no partner id", "data": []}


async def test_partner_info_spells_comission(http: httpx.AsyncClient) -> None:
    info = ok(await call(http, "get_partner_info"))
    assert info["partner_id"] == PARTNER.user_id
    assert Decimal(info["balance"]) >= Decimal(info["min_payout"]) == Decimal(10)
    assert [i["id"] for i in info["items"]] == [1, 2, 3]
    assert all(
        "comission" in i and "commission" not in i and i["comission"].endswith("%") for i in info["items"]
    )
    usdt = info["items"][0]
    assert Decimal(usdt["amount"]) == (Decimal(info["balance"]) * Decimal("0.98")).quantize(Decimal("0.01"))


async def test_links_need_paging_and_cover_every_period(http: httpx.AsyncClient) -> None:
    now = int(time.time())
    month = ok(await call(http, "get_partner_links", {"start_time": str(now - 30 * DAY), "limit": "500"}))
    assert len(month["items"]) == 500
    clicks = await all_items(http, "get_partner_links", {"start_time": str(now - 30 * DAY)})
    assert len(clicks) > 500 and len({c["id"] for c in clicks}) == len(clicks)
    assert [c["time"] for c in clicks] == sorted((c["time"] for c in clicks), reverse=True)
    everything = await all_items(http, "get_partner_links")
    assert len(everything) >= 1200
    assert len({c["user_hash"] for c in everything}) < len(everything)
    assert any(c["time"] >= now - 900 for c in everything)  # today, whatever the time zone
    first_of_month = datetime.fromtimestamp(now, SERVER_TZ).replace(day=1, hour=0, minute=0, second=0)
    previous = (first_of_month - timedelta(days=1)).replace(day=1)
    assert any(previous.timestamp() <= c["time"] < first_of_month.timestamp() for c in everything)
    queries = [c["query_string"] for c in everything]
    assert all(q.startswith("rid=7") for q in queries)
    assert any("utm_source=telegram&utm_medium=channel&utm_campaign=spring" in q for q in queries)
    assert any("utm_source=google" in q for q in queries) and "rid=7" in queries
    sample = everything[0]
    assert {"id", "time", "date", "browser", "ip", "referrer", "user_hash", "query_string"} <= sample.keys()
    by_ip = ok(await call(http, "get_partner_links", {"ip": sample["ip"]}))["items"]
    assert by_ip and all(c["ip"] == sample["ip"] for c in by_ip)


async def test_partner_exchanges_are_consistent(http: httpx.AsyncClient) -> None:
    exchanges = await all_items(http, "get_partner_exchanges")
    assert len(exchanges) >= 150
    statuses = {e["status"] for e in exchanges}
    assert {"success", "cancel"} <= statuses
    for item in exchanges:
        assert item["accrued"] == item["exchange_success"] == (1 if item["status"] == "success" else 0)
        assert Decimal(item["partner_reward"]) > 0
    one = exchanges[10]
    detailed = ok(await call(http, "get_partner_exchanges", {"id": str(one["id"]), "status_history": "1"}))
    assert [i["id"] for i in detailed["items"]] == [one["id"]]
    assert detailed["items"][0]["statuses"][0]["status"] == "new"
    assert detailed["items"][0]["statuses"][-1]["status"] == one["status"]


async def test_bids_with_partner_id_are_credited(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    before = Decimal(ok(await call(http, "get_partner_info"))["balance"])
    bid = ok(await call(http, "create_bid", {**FORM_102, "partner_id": str(PARTNER.user_id)}, key=DEMO))
    item = ok(await call(http, "get_partner_exchanges", {"id": str(bid["id"])}))["items"][0]
    assert (item["accrued"], item["partner_reward"], item["status"]) == (0, "0.53", "new")
    for _ in range(4):
        sb.advance(bid["id"])
    item = ok(await call(http, "get_partner_exchanges", {"id": str(bid["id"])}))["items"][0]
    assert (item["accrued"], item["exchange_success"]) == (1, 1)
    assert Decimal(ok(await call(http, "get_partner_info"))["balance"]) == before + Decimal("0.53")
    assert ok(await call(http, "get_exchanges", key=PARTNER)) == []  # not created with the partner's key


async def test_payouts_and_payout_requests(http: httpx.AsyncClient) -> None:
    payouts = ok(await call(http, "get_partner_payouts"))["items"]
    assert {p["status"] for p in payouts} == {0, 1, 2, 3}
    assert [p["id"] for p in payouts] == sorted((p["id"] for p in payouts), reverse=True)
    for p in payouts:
        assert p["original_currency_code"] == "USD" and Decimal(p["pay_amount"]) > 0 and p["account"]
        assert p["method_id"] in (1, 2, 3)
    recent = ok(await call(http, "get_partner_payouts", {"start_time": str(int(time.time()) - 5 * DAY)}))
    assert [p["status"] for p in recent["items"]] == [0]

    unknown = await call(http, "add_partner_payout", {"method_id": "99", "account": "P1234567"})
    assert unknown["error"] == "1" and unknown["error_text"]
    empty = await call(http, "add_partner_payout", {"method_id": "2", "account": " "})
    assert empty["error"] == "1" and "account" in empty["error_text"]
    balance = ok(await call(http, "get_partner_info"))["balance"]
    made = ok(await call(http, "add_partner_payout", {"method_id": "2", "account": "P7654321"}))
    listed = ok(await call(http, "get_partner_payouts", {"id": str(made["payout_id"])}))["items"]
    assert len(listed) == 1 and listed[0]["status"] == 0 and listed[0]["original_amount"] == balance
    assert listed[0]["pay_amount"] == str((Decimal(balance) * Decimal("0.99")).quantize(Decimal("0.01")))
    assert ok(await call(http, "get_partner_info"))["balance"] == "0"
    again = await call(http, "add_partner_payout", {"method_id": "2", "account": "P7654321"})
    assert again == {"error": "1", "error_text": "Payout amount is less than minimum", "data": []}


async def test_newbie_partner_is_empty(http: httpx.AsyncClient) -> None:
    info = ok(await call(http, "get_partner_info", key=NEWBIE))
    assert info["balance"] == "0" and info["min_payout"] == "10"
    assert all(i["amount"] == "0" for i in info["items"])
    for method in ("get_partner_links", "get_partner_exchanges", "get_partner_payouts"):
        assert ok(await call(http, method, key=NEWBIE)) == []
    refused = await call(
        http, "add_partner_payout", {"method_id": "1", "account": "T" + "9" * 33}, key=NEWBIE
    )
    assert refused["error_text"] == "Payout amount is less than minimum"


async def test_clicks_without_id_and_offset_ignored(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    sb.clicks_without_id = True
    page = ok(await call(http, "get_partner_links", {"limit": "3"}))["items"]
    assert len(page) == 3 and all("id" not in c and c["time"] and c["user_hash"] for c in page)
    sb.ignore_offset.add("get_partner_links")
    again = ok(await call(http, "get_partner_links", {"limit": "3", "offset": "3"}))["items"]
    assert again == page
    older = ok(await call(http, "get_partner_links", {"limit": "3", "end_time": str(page[-1]["time"] - 1)}))
    assert all(c["time"] < page[-1]["time"] for c in older["items"])


async def test_partner_program_off(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    sb.partner_program = False
    off = {"error": "1", "error_text": "No active partner program", "data": []}
    for method in ("get_partner_info", "get_partner_links", "get_partner_exchanges", "get_partner_payouts"):
        assert await call(http, method) == off, method
    assert await call(http, "get_partner_info", key=DEMO) == {
        "error": "1",
        "error_text": "no partner id",
        "data": [],
    }
    bid = ok(await call(http, "create_bid", {**FORM_102, "partner_id": str(PARTNER.user_id)}, key=DEMO))
    sb.partner_program = True
    assert ok(await call(http, "get_partner_exchanges", {"id": str(bid["id"])})) == []  # nobody credited


async def test_site_visits_with_rid_are_clicks(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    async def newest() -> dict:
        return ok(await call(http, "get_partner_links", {"limit": "1"}))["items"][0]

    before = await newest()
    visitor = {"User-Agent": "Mozilla/5.0 (demo)", "Referer": "https://t.me/channel"}
    page = await http.get(f"{sb.url}/?rid=7&utm_source=telegram&utm_campaign=spring%202024", headers=visitor)
    assert page.status_code == 200
    click = await newest()
    assert click["id"] > before["id"] and click["time"] >= int(time.time()) - 5
    assert click["query_string"] == "rid=7&utm_source=telegram&utm_campaign=spring%202024"
    assert (click["referrer"], click["browser"], click["ip"]) == (
        "https://t.me/channel",
        "Mozilla/5.0 (demo)",
        "127.0.0.1",
    )
    direction = ok(await call(http, "get_direction", {"direction_id": "102"}, key=DEMO))
    await http.get(f"{direction['url']}?rid=7", headers={"User-Agent": "x"})
    assert (await newest())["query_string"] == "rid=7"
    # not counted: a click from the site's own pages, an unknown partner, the affiliate module off
    counted = (await newest())["id"]
    await http.get(f"{sb.url}/?rid=7", headers={"Referer": f"{sb.url}/exchange_btc_to_sberbank/"})
    await http.get(f"{sb.url}/?rid=4242")
    sb.partner_program = False
    await http.get(f"{sb.url}/?rid=7")
    sb.partner_program = True
    assert (await newest())["id"] == counted
