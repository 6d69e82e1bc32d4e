"""The PremiumExchanger sandbox's transport, envelope, catalogue, calculator and faults, over loopback
HTTP: what the reference page says the real server does."""

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from bot.platforms.premiumexchanger.sandbox import SandboxExchanger, serve_forever
from bot.platforms.premiumexchanger.sandbox.keys import DEMO, IP_LOCKED, NEWBIE, RESTRICTED
from tests.platforms.premiumexchanger_sandbox_http import API, api_http, call, headers, ok, running_sandbox
from tests.sandbox_forms import FORM_102


@pytest.fixture
async def sb() -> AsyncIterator[SandboxExchanger]:
    async with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def http(sb: SandboxExchanger) -> AsyncIterator[httpx.AsyncClient]:
    async with api_http(sb) as client:
        yield client


async def test_test_method_reports_caller(http: httpx.AsyncClient) -> None:
    answer = await call(http, "test")
    assert answer["error"] == 0 and answer["error_text"] == ""
    assert answer["data"] == {"ip": "127.0.0.1", "user_id": 0, "locale": "en_US", "partner_id": 0}
    ru = ok(await call(http, "test", key=NEWBIE, lang="ru_RU"))
    assert ru["locale"] == "ru_RU" and ru["user_id"] == NEWBIE.user_id and ru["partner_id"] == 7


async def test_json_body_is_ignored_form_and_multipart_are_read(http: httpx.AsyncClient) -> None:
    as_json = await http.post("get_direction", json={"direction_id": "102"}, headers=headers())
    assert as_json.status_code == 200
    assert as_json.json() == {"error": "0", "error_text": "", "data": []}  # as if no direction was asked
    as_form = ok(await call(http, "get_direction", {"direction_id": "102"}))
    assert as_form["id"] == 102
    multipart = await http.post("get_direction", files={"direction_id": (None, "102")}, headers=headers())
    assert ok(multipart.json())["id"] == 102


async def test_auth_errors_are_http_200_with_string_codes(http: httpx.AsyncClient) -> None:
    disabled = {"error": "1", "error_text": "Api disabled", "data": []}
    bad_key = await http.post("test", headers={"API-LOGIN": DEMO.login, "API-KEY": "nope"})
    assert bad_key.status_code == 200 and bad_key.json() == disabled
    no_headers = await http.post("test")
    assert no_headers.status_code == 200 and no_headers.json() == disabled
    assert await call(http, "test", key=IP_LOCKED) == {"error": "2", "error_text": "IP blocked", "data": []}
    not_allowed = await call(http, "create_bid", {"direction_id": "102"}, key=RESTRICTED)
    assert not_allowed == {"error": "3", "error_text": "Method not supported", "data": []}
    assert ok(await call(http, "get_directions", key=RESTRICTED))
    unknown = await call(http, "frobnicate")
    assert unknown["error"] == "3" and unknown["error_text"] == "Method not supported"


async def test_error_is_int_in_some_methods_string_in_others(http: httpx.AsyncClient) -> None:
    assert (await call(http, "get_directions"))["error"] == 0
    calc = await call(http, "get_calc", {"direction_id": "102", "calc_amount": "10000", "calc_action": "1"})
    assert calc["error"] == "0"


async def test_answers_are_php_style_json(http: httpx.AsyncClient) -> None:
    raw = (await http.post("get_direction_currencies", headers=headers(lang="ru_RU"))).text
    assert "\\/" in raw and "\\u0421" in raw  # escaped slashes, \uXXXX for "С" of "Сбербанк"
    assert json.loads(raw)["data"]["give"][0]["logo"].startswith("http://")


async def test_empty_data_is_an_empty_list(http: httpx.AsyncClient) -> None:
    assert ok(await call(http, "get_directions", {"currency_id_give": "999"})) == []
    assert ok(await call(http, "get_direction_currencies", {"currency_id_give": "999"})) == []
    assert ok(await call(http, "get_exchanges")) == []


async def test_currencies_and_directions(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    currencies = ok(await call(http, "get_direction_currencies"))
    ids = {c["id"] for c in currencies["give"]} | {c["id"] for c in currencies["get"]}
    assert len(ids) >= 8
    assert all(c["logo"].startswith(sb.url + "/") for c in currencies["give"])
    logo = await http.get(currencies["give"][0]["logo"])
    assert logo.status_code == 200 and logo.content.startswith(b"\x89PNG")
    directions = ok(await call(http, "get_directions"))
    assert len(directions) >= 10
    filtered = ok(await call(http, "get_directions", {"currency_id_give": "6"}))
    assert {d["direction_id"] for d in filtered} == {104, 110}
    assert all(d["currency_give_id"] == 6 for d in filtered)
    pair = ok(await call(http, "get_direction_currencies", {"currency_id_give": "5"}))
    assert [c["id"] for c in pair["give"]] == [5] and [c["id"] for c in pair["get"]] == [3]


async def test_get_direction_by_id_or_pair_and_unknown(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    by_pair = ok(await call(http, "get_direction", {"currency_id_give": "1", "currency_id_get": "5"}))
    assert by_pair["id"] == 101 and by_pair["url"] == f"{sb.url}/exchange_btc_to_sberbank/"
    # success with empty data, like the real server: it sets error "0" before the look-up
    assert await call(http, "get_direction", {"direction_id": "9999"}) == {
        "error": "0",
        "error_text": "",
        "data": [],
    }
    page = await http.get(by_pair["url"])
    assert page.status_code == 200 and "Bitcoin" in page.text


async def test_closed_direction_is_hidden_and_answers_empty(
    http: httpx.AsyncClient, sb: SandboxExchanger
) -> None:
    sb.closed_directions.add(102)
    assert await call(http, "get_direction", {"direction_id": "102"}) == {
        "error": "0",
        "error_text": "",
        "data": [],
    }
    assert 102 not in {d["direction_id"] for d in ok(await call(http, "get_directions"))}
    calc = await call(http, "get_calc", {"direction_id": "102", "calc_amount": "10000"})
    assert calc["error_text"] == "direction not found"
    assert (await call(http, "create_bid", FORM_102))["error_text"] == "direction not found"
    sb.closed_directions.clear()
    assert ok(await call(http, "get_direction", {"direction_id": "102"}))["id"] == 102


async def test_field_descriptors_cover_every_shape(http: httpx.AsyncClient) -> None:
    d102 = ok(await call(http, "get_direction", {"direction_id": "102"}))
    account1 = d102["give_fields"]["account1"]
    assert account1["format"] == "purse" and account1["req"] == 1 and account1["tooltip"]
    assert {"value", "id", "class", "autocomplete"} <= account1.keys()
    assert d102["give_fields"]["cfgive8"]["req"] == "1"
    fee = d102["get_fields"]["cfget2"]
    assert fee["type"] == "select" and fee["cd"] == 1 and fee["options"] == {"1": "Normal", "2": "Fast"}
    agree = d102["dir_fields"]["cf12"]
    assert agree["type"] == "checkbox" and agree["value"] == "1" and agree["text"]
    d103 = ok(await call(http, "get_direction", {"direction_id": "103"}))
    assert d103["give_fields"] == []
    assert d103["get_fields"]["cfget3"]["options"]["0"] == "No selected"
    assert d103["dir_fields"]["cf13"]["req"] == 0
    d105 = ok(await call(http, "get_direction", {"direction_id": "105"}))
    assert isinstance(d105["give_fields"], list) and d105["give_fields"][0]["name"] == "account1"
    assert any(f["type"] == "textarea" for f in d105["dir_fields"])
    d108 = ok(await call(http, "get_direction", {"direction_id": "108"}))
    assert d108["give_fields"] == [] and d108["get_fields"] == [] and d108["dir_fields"] == []


async def test_limits_no_and_html_texts(http: httpx.AsyncClient) -> None:
    d108 = ok(await call(http, "get_direction", {"direction_id": "108"}))
    assert [d108[k] for k in ("min_give", "max_give", "min_get", "max_get")] == ["no"] * 4
    d106 = ok(await call(http, "get_direction", {"direction_id": "106"}))
    assert (d106["min_give"], d106["max_give"], d106["min_get"], d106["max_get"]) == (
        "0.01",
        "no",
        "no",
        "3000000",
    )
    d104 = ok(await call(http, "get_direction", {"direction_id": "104"}))
    assert "<span" in d104["com_give"] and "<span" in d104["com_get"]
    assert "<p>" in d104["info"]["timeline_text"] and "<br>" in d104["info"]["timeline_text"]
    assert "<a href" in d104["info"]["before_button_text"]


async def quote(http: httpx.AsyncClient, direction: int, amount: str, action: int, **extra: str) -> dict:
    data = {"direction_id": str(direction), "calc_amount": amount, "calc_action": str(action), **extra}
    return ok(await call(http, "get_calc", data))


async def test_calc_actions_are_consistent_with_commissions(http: httpx.AsyncClient) -> None:
    q1 = await quote(http, 104, "58000", 1)
    assert q1["changed"] == 0
    assert (q1["sum_give"], q1["sum_give_com"], q1["sum_get"], q1["sum_get_com"]) == (
        "58000",
        "58580",
        "0.01",
        "0.0098",
    )
    q2 = await quote(http, 104, q1["sum_get"], 2)
    assert q2["sum_give"] == "58000"
    q3 = await quote(http, 104, q1["sum_give_com"], 3)
    assert (q3["sum_give"], q3["sum_get"]) == ("58000", "0.01")
    q4 = await quote(http, 104, q1["sum_get_com"], 4)
    assert (q4["sum_get"], q4["sum_give"]) == ("0.01", "58000")
    plain = await quote(http, 101, "0.5", 1)
    assert plain["sum_give"] == plain["sum_give_com"] == "0.5"
    assert plain["sum_get"] == plain["sum_get_com"] == "2850000"
    assert (await quote(http, 101, "2850000", 4))["sum_give"] == "0.5"


async def test_calc_clamps_to_limits_with_changed(http: httpx.AsyncClient) -> None:
    low = await quote(http, 102, "500", 1)
    assert low["changed"] == 1 and low["sum_give"] == "1000"
    high_get = await quote(http, 102, "490000", 1)
    assert high_get["changed"] == 1 and high_get["sum_get"] == "5000" and high_get["sum_give"] == "475000"
    min_get = await quote(http, 103, "900", 2)
    assert min_get["changed"] == 1 and min_get["sum_get"] == "1000"
    junk = await quote(http, 102, "abc", 1)
    assert junk["changed"] == 1 and junk["sum_give"] == "1000"
    zero = await quote(http, 108, "0", 1)
    assert zero["changed"] == 0 and zero["sum_give"] == "0" and zero["sum_get_com"] == "0"
    assert Decimal((await quote(http, 102, "1 000,50", 1))["sum_give"]) == Decimal("1000.5")


async def test_cd_field_changes_the_quote(http: httpx.AsyncClient) -> None:
    normal = await quote(http, 102, "10000", 1, cd="cfget2%3D1")
    fast = await quote(http, 102, "10000", 1, cd="cfget2%3D2")  # the reference's urlencode("cfget2=2")
    assert normal["sum_get"] == fast["sum_get"] == "105.26"
    assert (normal["sum_get_com"], fast["sum_get_com"]) == ("104.26", "102.26")
    assert "3 USDT" in fast["com_get"]
    assert (await quote(http, 102, "10000", 1, cd="cfget2=2"))["sum_get_com"] == "102.26"


async def test_russian_texts(http: httpx.AsyncClient) -> None:
    currencies = ok(await call(http, "get_direction_currencies", lang="ru_RU"))
    assert "Сбербанк RUB" in [c["title"] for c in currencies["give"]]
    d = ok(await call(http, "get_direction", {"direction_id": "102"}, lang="ru_RU"))
    assert d["give_fields"]["account1"]["label"] == "С карты"
    assert d["get_fields"]["cfget2"]["options"]["2"] == "Быстрый"
    assert "Обмен" in d["info"]["timeline_text"]
    en = ok(await call(http, "get_direction", {"direction_id": "102"}, lang="en_US"))
    assert en["give_fields"]["account1"]["label"] == "From card"


async def test_maintenance_blocks_exchange_methods_only(
    http: httpx.AsyncClient, sb: SandboxExchanger
) -> None:
    sb.maintenance = True
    answer = await call(http, "get_calc", {"direction_id": "102", "calc_amount": "1000"})
    assert answer == {"error": "2", "error_text": "Maintenance", "data": []}
    assert (await call(http, "create_bid", {"direction_id": "102"}))["error_text"] == "Maintenance"
    ru = await call(http, "bid_info", {"id": "1"}, lang="ru_RU")
    assert ru == {"error": "2", "error_text": "Техническое обслуживание", "data": []}
    sb.maintenance_text = "Back at 17:00"
    assert (await call(http, "pay_bid", {"id": "1"}))["error_text"] == "Back at 17:00"
    assert ok(await call(http, "get_directions"))
    sb.maintenance = False
    assert ok(await call(http, "get_calc", {"direction_id": "102", "calc_amount": "1000"}))


async def test_fault_pages_are_one_shot_and_in_order(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    sb.faults.next("test", "html")
    sb.faults.next("*", "http502")
    sb.faults.next("test", "maintenance_page")
    first = await http.post("test", headers=headers())
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/html")
    assert "critical error" in first.text
    second = await http.post("get_directions", headers=headers())
    assert second.status_code == 502 and "Bad Gateway" in second.text
    third = await http.post("test", headers=headers())
    assert third.status_code == 200 and "maintenance" in third.text.lower()
    with pytest.raises(json.JSONDecodeError):
        json.loads(third.text)
    assert ok(await call(http, "test"))["user_id"] == 0
    assert len(sb.faults) == 0


async def test_fault_html_page_does_not_process_the_method(
    http: httpx.AsyncClient, sb: SandboxExchanger
) -> None:
    sb.faults.next("create_bid", "http502")
    response = await http.post("create_bid", data=FORM_102, headers=headers())
    assert response.status_code == 502 and not sb.bids
    sb.faults.next("create_bid", "html", processed=True)
    response = await http.post("create_bid", data=FORM_102, headers=headers())
    assert "<html" in response.text and len(sb.bids) == 1


async def test_fault_delay_processes_then_times_out(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    sb.faults.next("create_bid", "delay", seconds=3)
    with pytest.raises(httpx.ReadTimeout):
        await http.post("create_bid", data={**FORM_102, "api_id": "42"}, headers=headers(), timeout=0.3)
    assert [b.api_id for b in sb.bids.values()] == ["42"]
    retry = await call(http, "create_bid", {**FORM_102, "api_id": "42"})
    assert retry == {"error": "1", "error_text": "api id not unique", "data": []}
    listed = ok(await call(http, "get_exchanges"))
    assert [i["api_id"] for i in listed["items"]] == ["42"]


async def test_fault_delay_answers_in_the_end(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    sb.faults.next("test", "delay", seconds=0.2)
    assert ok(await call(http, "test"))["ip"] == "127.0.0.1"


async def test_fault_disconnect_after_creating(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    sb.faults.next("create_bid", "disconnect")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("create_bid", data=FORM_102, headers=headers())
    assert len(sb.bids) == 1
    assert ok(await call(http, "create_bid", FORM_102))["id"] == 1002


async def test_fault_empty_response_and_hook(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    sb.faults.next("get_exchanges", "empty_response")
    assert await call(http, "get_exchanges") == {"error": "1", "error_text": "Empty Response", "data": []}
    seen: list[int] = []
    sb.faults.next("test", "hook", hook=lambda: seen.append(len(sb.bids)))
    assert ok(await call(http, "test"))["user_id"] == 0 and seen == [0]
    with pytest.raises(ValueError):
        sb.faults.next("test", "hook")


def test_unknown_fault_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        SandboxExchanger().faults.next("test", "teapot")


async def test_stop_is_idempotent_and_start_returns_url() -> None:
    sandbox = SandboxExchanger(step_seconds=None)
    url = await sandbox.start()
    assert url == sandbox.url and url.startswith("http://127.0.0.1:")
    await sandbox.stop()
    await sandbox.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.post(url + API + "test")


async def test_serve_forever_prints_url_and_keys(capsys: pytest.CaptureFixture[str]) -> None:
    task = asyncio.create_task(serve_forever("127.0.0.1", 0, None))
    out = ""
    for _ in range(200):
        await asyncio.sleep(0.02)
        out += capsys.readouterr().out
        if "Press Ctrl+C" in out:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "Sandbox exchanger running at http://127.0.0.1:" in out
    for key in (DEMO, RESTRICTED, IP_LOCKED):
        assert key.login in out and key.key in out
