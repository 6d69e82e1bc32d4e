"""PremiumExchanger sandbox bids: create_bid validation, actions, status paths, callbacks, get_exchanges."""

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import DEMO, PARTNER, DemoKey
from tests.platforms.premiumexchanger_sandbox_http import API, api_http, call, ok, running_sandbox
from tests.sandbox_forms import FORM_102, FORMS


@pytest.fixture
async def sb() -> AsyncIterator[SandboxExchanger]:
    async with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def http(sb: SandboxExchanger) -> AsyncIterator[httpx.AsyncClient]:
    async with api_http(sb) as client:
        yield client


async def create(http: httpx.AsyncClient, direction: int = 102, key: DemoKey = DEMO, **extra: str) -> dict:
    form = {"direction_id": str(direction), "calc_action": "1", **FORMS[direction], **extra}
    return ok(await call(http, "create_bid", form, key=key))


async def test_create_bid_returns_the_bid_object(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    bid = await create(http)
    assert bid["id"] == 1001 and re.fullmatch(r"[0-9a-f]{32}", bid["hash"])
    assert bid["url"] == f"{sb.url}/hst_{bid['hash']}/"
    assert (bid["status"], bid["status_title"]) == ("new", "Accepted, waiting to be paid")
    assert (bid["psys_give"], bid["psys_get"], bid["currency_code_give"], bid["currency_code_get"]) == (
        "Sberbank",
        "Tether TRC20",
        "RUB",
        "USDT",
    )
    assert (bid["amount_give"], bid["amount_get"], bid["course_give"], bid["course_get"]) == (
        "10000",
        "104.26",
        "95",
        "1",
    )
    actions = bid["api_actions"]
    assert (actions["type"], actions["pay"], actions["cancel"], actions["pay_amount"]) == (
        "default",
        "api",
        "api",
        "10000",
    )
    assert "<p>" in actions["instruction"] and actions["address"] == "" and actions["dest_tag"] == ""
    assert (await create(http))["id"] == 1002
    assert sb.bids[1001].fields["account1"] == "2200700123456789"
    page = await http.get(bid["url"])
    assert page.status_code == 200 and "Accepted" in page.text


async def test_create_bid_field_validation(http: httpx.AsyncClient) -> None:
    answer = await call(
        http, "create_bid", {"direction_id": "102", "calc_amount": "10000", "calc_action": "1"}
    )
    assert answer["error"] == "3" and answer["data"] == []
    assert set(answer["error_fields"]) == {"account1", "cfgive8", "account2", "cfget2", "cf6", "cf12"}
    assert all(v.startswith("<span") for v in answer["error_fields"].values())
    bad = await call(
        http,
        "create_bid",
        {
            **FORM_102,
            "account1": "1234",
            "account2": "X" * 34,
            "cf12": "0",
            "cfget2": "7",
            "cf6": "not-an-email",
        },
    )
    assert set(bad["error_fields"]) == {"account1", "account2", "cf12", "cfget2", "cf6"}
    assert "16 digits" in bad["error_fields"]["account1"]
    no_select = await call(http, "create_bid", {"direction_id": "103", **FORMS[103], "cfget3": "0"})
    assert set(no_select["error_fields"]) == {"cfget3"}
    ru = await call(http, "create_bid", {**FORM_102, "account1": ""}, lang="ru_RU")
    assert ru["error_text"].startswith("Ошибка") and "обязательно" in ru["error_fields"]["account1"]


async def test_create_bid_amount_limits(http: httpx.AsyncClient) -> None:
    low = await call(http, "create_bid", {**FORM_102, "calc_amount": "500"})
    assert low["error"] == "3" and list(low["error_fields"]) == ["sum1"]
    assert "1000 RUB" in low["error_fields"]["sum1"]
    low_com = await call(http, "create_bid", {**FORM_102, "calc_amount": "500", "calc_action": "3"})
    assert list(low_com["error_fields"]) == ["sum1c"]
    high_get = await call(http, "create_bid", {**FORM_102, "calc_amount": "5200", "calc_action": "2"})
    assert list(high_get["error_fields"]) == ["sum2"] and "5000 USDT" in high_get["error_fields"]["sum2"]
    high_get_com = await call(http, "create_bid", {**FORM_102, "calc_amount": "5200", "calc_action": "4"})
    assert list(high_get_com["error_fields"]) == ["sum2c"]
    zero = await call(http, "create_bid", {"direction_id": "108", "calc_amount": "0"})
    assert list(zero["error_fields"]) == ["sum1"]


async def test_create_bid_direction_errors(http: httpx.AsyncClient) -> None:
    prohibited = await call(http, "create_bid", {"direction_id": "109", "calc_amount": "0.01"})
    assert prohibited["error"] == "3"
    assert prohibited["error_text"] == "Error! Direction prohibited by settings API"
    assert ok(await call(http, "get_direction", {"direction_id": "109"}))["id"] == 109
    missing = await call(http, "create_bid", {"direction_id": "4242"})
    assert missing == {"error": "1", "error_text": "direction not found", "data": []}


async def test_api_id_is_unique_per_login_and_numeric(http: httpx.AsyncClient) -> None:
    await create(http, api_id="555")
    again = await call(http, "create_bid", {**FORM_102, "api_id": "555"})
    assert again == {"error": "1", "error_text": "api id not unique", "data": []}
    assert (await create(http, key=PARTNER, api_id="555"))["id"] == 1002
    assert (await call(http, "create_bid", {**FORM_102, "api_id": "abc"}))["error"] == "1"
    assert (await call(http, "create_bid", {**FORM_102, "api_id": "9" * 101}))["error"] == "1"
    assert (await create(http, api_id="9" * 100))["id"] == 1003


async def test_api_actions_variants(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    btc = (await create(http, 101))["api_actions"]
    assert (
        btc["type"] == "address"
        and re.fullmatch(r"bc1[a-z0-9]{25,59}", btc["address"])
        and btc["dest_tag"] == ""
    )
    assert btc["address"] in btc["instruction"]
    trc = (await create(http, 103))["api_actions"]
    assert re.fullmatch(r"T[1-9A-HJ-NP-Za-km-z]{33}", trc["address"])
    xrp = (await create(http, 107))["api_actions"]
    assert (
        xrp["address"].startswith("r") and xrp["dest_tag"].isdigit() and xrp["dest_tag"] in xrp["instruction"]
    )
    link_bid = await create(http, 104)
    link = link_bid["api_actions"]
    assert link["type"] == "link" and link["cancel"] == "api"
    assert link["pay"] == f"{sb.url}/merchant/pay/{link_bid['hash']}/"
    disabled = (await create(http, 108))["api_actions"]
    assert (disabled["pay"], disabled["cancel"]) == ("disabled", "disabled")


async def test_bid_info_only_for_the_creating_login(http: httpx.AsyncClient) -> None:
    bid = await create(http)
    assert ok(await call(http, "bid_info", {"hash": bid["hash"]}))["id"] == bid["id"]
    assert ok(await call(http, "bid_info", {"id": str(bid["id"])}))["hash"] == bid["hash"]
    foreign = await call(http, "bid_info", {"id": str(bid["id"])}, key=PARTNER)
    assert foreign == {"error": "1", "error_text": "no bid exists", "data": []}
    assert (await call(http, "bid_info", {"id": "999999"}))["error_text"] == "no bid exists"


async def test_require_hash_finds_bids_by_hash_only(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    bid = await create(http)
    sb.require_hash = True
    no_bid = {"error": "1", "error_text": "no bid exists", "data": []}
    for method in ("bid_info", "cancel_bid", "pay_bid", "success_bid"):
        assert await call(http, method, {"id": str(bid["id"])}) == no_bid, method
    wrong_id = {"id": str(bid["id"] + 1), "hash": bid["hash"]}
    assert await call(http, "bid_info", wrong_id) == no_bid
    both = {"id": str(bid["id"]), "hash": bid["hash"]}
    assert ok(await call(http, "bid_info", both))["id"] == bid["id"]
    assert ok(await call(http, "pay_bid", both)) == "payed"
    assert ok(await call(http, "bid_info", {"hash": bid["hash"]}))["status"] == "payed"


async def test_cancel_and_pay_rules(http: httpx.AsyncClient) -> None:
    bid = await create(http)
    assert ok(await call(http, "cancel_bid", {"id": str(bid["id"])})) == "cancel"
    no_bid = {"error": "1", "error_text": "no bid exists", "data": []}
    assert await call(http, "pay_bid", {"id": str(bid["id"])}) == no_bid
    assert await call(http, "cancel_bid", {"hash": bid["hash"]}) == no_bid
    paid = await create(http)
    assert ok(await call(http, "pay_bid", {"hash": paid["hash"]})) == "payed"
    assert await call(http, "pay_bid", {"hash": paid["hash"]}) == no_bid
    assert await call(http, "cancel_bid", {"hash": paid["hash"]}) == no_bid
    info = ok(await call(http, "bid_info", {"id": str(paid["id"])}))
    assert info["status"] == "payed"
    assert (info["api_actions"]["type"], info["api_actions"]["pay"], info["api_actions"]["cancel"]) == (
        "finished",
        "disabled",
        "disabled",
    )
    assert ok(await call(http, "success_bid", {"id": str(paid["id"])})) == "success"
    assert await call(http, "success_bid", {"id": str(paid["id"])}) == no_bid
    assert await call(http, "success_bid", {"id": str((await create(http))["id"])}) == no_bid


async def test_disabled_actions(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    disabled = {"error": "2", "error_text": "action disabled", "data": []}
    merchant = await create(http, 104)
    assert await call(http, "pay_bid", {"id": str(merchant["id"])}) == disabled
    site_only = await create(http, 108)
    assert await call(http, "cancel_bid", {"id": str(site_only["id"])}) == disabled
    assert await call(http, "pay_bid", {"id": str(site_only["id"])}) == disabled
    assert ok(await call(http, "cancel_bid", {"id": str(merchant["id"])})) == "cancel"
    other = await create(http, 104)
    paid = await http.post(f"{sb.url}/merchant/pay/{other['hash']}/", follow_redirects=False)
    assert paid.status_code == 302 and sb.bids[other["id"]].status == "payed"


async def test_status_paths_via_advance(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    happy = await create(http)
    steps = [sb.advance(happy["id"]) for _ in range(5)]
    assert steps == ["payed", "realpay", "verify", "success", "success"]
    assert [s for _, s in sb.bids[happy["id"]].history] == ["new", "payed", "realpay", "verify", "success"]
    cancelled = await create(http, 105)
    assert [sb.advance(cancelled["id"]) for _ in range(3)] == ["payed", "cancel", "cancel"]
    failed = await create(http, 106)
    assert [sb.advance(failed["id"]) for _ in range(4)] == ["payed", "realpay", "error", "error"]
    by_amount = await create(http, calc_amount="10013")
    assert [sb.advance(by_amount["id"]) for _ in range(3)] == ["payed", "realpay", "error"]
    by_amount = await create(http, calc_amount="10066")
    assert [sb.advance(by_amount["id"]) for _ in range(2)] == ["payed", "cancel"]
    info = ok(await call(http, "bid_info", {"id": str(happy["id"])}, lang="ru_RU"))
    assert (info["status"], info["status_title"]) == ("success", "Заявка выполнена")
    sb.set_status(happy["id"], "my_custom")
    assert ok(await call(http, "bid_info", {"id": str(happy["id"])}))["status"] == "my_custom"


async def wait_for(predicate, seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_automatic_schedule_after_payment() -> None:
    sandbox = SandboxExchanger(step_seconds=0.02)
    await sandbox.start()
    try:
        async with httpx.AsyncClient(base_url=sandbox.url + API, timeout=10) as http:
            bid = await create(http)
            await asyncio.sleep(0.1)
            assert sandbox.bids[bid["id"]].status == "new"  # unpaid bids do not move
            ok(await call(http, "pay_bid", {"id": str(bid["id"])}))

            async def finished() -> bool:
                return ok(await call(http, "bid_info", {"id": str(bid["id"])}))["status"] == "success"

            await wait_for(finished)
            assert [s for _, s in sandbox.bids[bid["id"]].history] == [
                "new",
                "payed",
                "realpay",
                "verify",
                "success",
            ]
    finally:
        await sandbox.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    async def handle(request: web.Request) -> web.Response:
        received.append({"path": request.path, "form": dict(await request.post())})
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", received
    finally:
        await runner.cleanup()


async def test_callbacks_on_every_change_but_the_first_new(
    http: httpx.AsyncClient, sb: SandboxExchanger, receiver: tuple[str, list[dict]]
) -> None:
    base, received = receiver
    url = f"{base}/hook/s3cret"
    bid = await create(http, callback_url=url)
    ok(await call(http, "pay_bid", {"id": str(bid["id"])}))
    sb.advance(bid["id"])
    sb.advance(bid["id"])
    sb.set_status(bid["id"], "success")
    await sb.drain_callbacks(max_wait=5)
    statuses = [r["form"]["status"] for r in received]
    assert statuses == ["payed", "realpay", "verify", "success"]
    assert all(r["path"] == "/hook/s3cret" and r["form"]["bid_id"] == str(bid["id"]) for r in received)
    assert [c["form"]["status"] for c in sb.callbacks] == statuses
    assert all(c["ok"] and c["url"] == url for c in sb.callbacks)
    silent = await create(http)  # no callback_url: nothing sent
    sb.advance(silent["id"])
    await sb.drain_callbacks(max_wait=5)
    assert len(sb.callbacks) == 4


async def test_failed_callbacks_are_recorded_and_harmless(
    http: httpx.AsyncClient, sb: SandboxExchanger
) -> None:
    bid = await create(http, callback_url="http://127.0.0.1:9/nothing-listens")
    assert ok(await call(http, "cancel_bid", {"id": str(bid["id"])})) == "cancel"
    await sb.drain_callbacks(max_wait=5)
    assert len(sb.callbacks) == 1
    assert sb.callbacks[0]["ok"] is False and sb.callbacks[0]["form"] == {
        "bid_id": str(bid["id"]),
        "status": "cancel",
    }


async def test_get_exchanges_filters_and_api_id_bug(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    first = await create(http, api_id="777")
    second = await create(http, api_id=str(first["id"]))
    await create(http, key=PARTNER)
    by_api_id = ok(await call(http, "get_exchanges", {"api_id": str(first["id"])}))
    assert [i["id"] for i in by_api_id["items"]] == [first["id"]]  # the bid whose ID matches, not its api_id
    assert by_api_id["items"][0]["api_id"] == "777"
    assert ok(await call(http, "get_exchanges", {"api_id": "777"})) == []
    everything = ok(await call(http, "get_exchanges"))["items"]
    assert [i["id"] for i in everything] == [second["id"], first["id"]]  # newest first, own bids only
    item = everything[0]
    assert item["exchange_success"] == 0 and item["user_ip"] == "127.0.0.1" and item["user_hash"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", item["date"]) and "statuses" not in item
    assert [i["id"] for i in ok(await call(http, "get_exchanges", {"hash": first["hash"]}))["items"]] == [
        first["id"]
    ]
    assert [i["id"] for i in ok(await call(http, "get_exchanges", {"id": str(second["id"])}))["items"]] == [
        second["id"]
    ]
    assert ok(await call(http, "get_exchanges", {"ip": "10.1.1.1"})) == []
    sb.advance(first["id"])
    sb.set_status(first["id"], "success")
    done = ok(await call(http, "get_exchanges", {"id": str(first["id"]), "status_history": "1"}))["items"][0]
    assert done["exchange_success"] == 1
    assert [s["status"] for s in done["statuses"]] == ["new", "payed", "success"]


async def test_get_exchanges_time_window_and_paging() -> None:
    clock = [1_700_000_000.0]
    sandbox = SandboxExchanger(step_seconds=None, now=lambda: clock[0])
    await sandbox.start()
    try:
        async with httpx.AsyncClient(base_url=sandbox.url + API, timeout=10) as http:
            ids = []
            for _ in range(5):
                ids.append((await create(http))["id"])
                clock[0] += 100
            sandbox.advance(ids[0])  # last change of the oldest bid is now the newest time
            t0 = 1_700_000_000
            late = ok(await call(http, "get_exchanges", {"start_time": str(t0 + 250)}))["items"]
            # newest change first (ORDER BY edit_date DESC): the changed bid jumps to the top
            assert [i["id"] for i in late] == [ids[0], ids[4], ids[3]]
            assert late[0]["time"] == t0 + 500
            early = ok(
                await call(http, "get_exchanges", {"start_time": str(t0 + 100), "end_time": str(t0 + 300)})
            )
            assert [i["id"] for i in early["items"]] == [ids[3], ids[2], ids[1]]
            page = ok(await call(http, "get_exchanges", {"limit": "2", "offset": "1"}))["items"]
            assert [i["id"] for i in page] == [ids[4], ids[3]]
            assert len(ok(await call(http, "get_exchanges", {"limit": "0"}))["items"]) == 5
            assert ok(await call(http, "get_exchanges", {"offset": "5"})) == []
    finally:
        await sandbox.stop()


async def test_time_carries_the_sites_utc_offset() -> None:
    clock = [1_700_000_000.0]
    offset = -10 * 3600  # a site west of UTC: its `time` runs behind the real moment
    sandbox = SandboxExchanger(step_seconds=None, now=lambda: clock[0], utc_offset=offset)
    await sandbox.start()
    try:
        async with httpx.AsyncClient(base_url=sandbox.url + API, timeout=10) as http:
            bid = await create(http)
            t0 = 1_700_000_000
            item = ok(await call(http, "get_exchanges"))["items"][0]
            assert item["id"] == bid["id"] and item["time"] == t0 + offset
            # filters compare in the same shifted clock
            assert ok(await call(http, "get_exchanges", {"start_time": str(t0 - 60)})) == []
            shifted = ok(await call(http, "get_exchanges", {"start_time": str(t0 + offset - 60)}))
            assert [i["id"] for i in shifted["items"]] == [bid["id"]]
            history = ok(await call(http, "get_exchanges", {"status_history": "1"}))["items"][0]
            assert history["statuses"][0]["time"] == t0 + offset
    finally:
        await sandbox.stop()


async def test_ignore_offset_answers_the_first_page(http: httpx.AsyncClient, sb: SandboxExchanger) -> None:
    for _ in range(3):
        await create(http)
    sb.ignore_offset.add("get_exchanges")
    first = ok(await call(http, "get_exchanges", {"limit": "2"}))["items"]
    again = ok(await call(http, "get_exchanges", {"limit": "2", "offset": "2"}))["items"]
    assert [i["id"] for i in again] == [i["id"] for i in first]
