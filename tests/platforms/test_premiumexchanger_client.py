"""The wire-level PremiumExchangerClient against the sandbox over loopback HTTP: filters, retries,
faults, paging and secrets, below the neutral interface. What the adapter maps (and the contract suite
checks for every platform) is tested in test_premiumexchanger.py and test_contract.py.

Ids and field kinds are discovered through the API, not hard-coded.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from pydantic import SecretStr

from bot.domain import errors
from bot.domain.models import ActionMode, AmountSide, FieldOption, PayoutStatus
from bot.platforms.premiumexchanger.client import PremiumExchangerClient
from bot.platforms.premiumexchanger.customer import PremiumExchangerCustomer
from bot.platforms.premiumexchanger.models import (
    ApiCredentials,
    CalcAction,
    Direction,
    FieldSpec,
    FieldType,
    Order,
    OrderRequest,
)
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import DEMO, IP_LOCKED, NEWBIE, PARTNER, RESTRICTED, DemoKey

ALL_KEYS = (DEMO, PARTNER, RESTRICTED, NEWBIE, IP_LOCKED)
_api_ids = itertools.count(int(time.time() * 1000))


def creds(key: DemoKey) -> ApiCredentials:
    return ApiCredentials(login=key.login, key=SecretStr(key.key))


def next_api_id() -> str:
    return str(next(_api_ids))


@dataclass
class Env:
    sb: SandboxExchanger
    url: str
    client: PremiumExchangerClient

    def make(self, key: DemoKey = DEMO, **kwargs: object) -> PremiumExchangerClient:
        kwargs.setdefault("backoff", 0.01)
        return PremiumExchangerClient(self.url, creds(key), **kwargs)  # type: ignore[arg-type]

    def as_key(self, key: DemoKey) -> PremiumExchangerClient:
        return self.client.scoped(credentials=creds(key))


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    sb = SandboxExchanger(step_seconds=None)
    url = await sb.start("127.0.0.1", 0)
    client = PremiumExchangerClient(url, creds(DEMO), timeout=5.0, retries=2, backoff=0.01, lang="en")
    try:
        yield Env(sb, url, client)
    finally:
        await client.aclose()
        await sb.stop()


def choices(field: FieldSpec) -> list[FieldOption]:
    """The options a customer may pick: never the "0" "No selected" placeholder."""
    return [o for o in field.options if o.key != "0"]


# Valid test values, chosen from what the field says about itself (label, tooltip, name).
def value_for(field: FieldSpec) -> str:
    if field.type is FieldType.SELECT:
        return choices(field)[0].key
    if field.type is FieldType.CHECKBOX:
        return field.checkbox_value or "1"
    hint = f"{field.name} {field.label} {field.tooltip or ''}".lower()
    if "card" in hint and "holder" not in hint and field.name.startswith("account"):
        return "4276380012345678"
    if "trc20" in hint:
        return "T" + "9" * 33
    if "erc20" in hint or "0x" in hint:
        return "0x" + "ab" * 20
    if "bitcoin" in hint or "bc1" in hint:
        return "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
    if "payeer" in hint:
        return "P1234567"
    if "mail" in hint:
        return "client@example.com"
    if "phone" in hint:
        return "+79001234567"
    if "telegram" in hint:
        return "@client"
    return "Ivan Petrov"


def fill(direction: Direction) -> dict[str, str]:
    return {f.name: value_for(f) for f in direction.fields if f.required or f.type is not FieldType.CHECKBOX}


def good_amount(direction: Direction) -> Decimal:
    amount = direction.give_amount or direction.min_give or Decimal(100)
    if direction.min_give is not None and amount < direction.min_give:
        amount = direction.min_give
    # the sandbox ends amounts whose integer part ends in 13/66 in error/cancel: stay clear of them
    if int(amount) % 100 in (13, 66):
        amount += 1
    return amount


async def all_directions(client: PremiumExchangerClient) -> list[Direction]:
    return [await client.get_direction(s.id) for s in await client.list_directions()]


async def create(
    client: PremiumExchangerClient, direction: Direction, **kwargs: object
) -> tuple[Order, OrderRequest]:
    request = OrderRequest(
        direction_id=direction.id,
        amount=good_amount(direction),
        action=CalcAction.GIVE,
        fields=fill(direction),
        api_id=kwargs.pop("api_id", next_api_id()),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    return await client.create_order(request), request


async def api_direction(client: PremiumExchangerClient, pay: ActionMode = ActionMode.API) -> Direction:
    """A direction whose orders can be paid (or not) through the API: found by creating one."""
    for direction in await all_directions(client):
        try:
            order, _ = await create(client, direction)
        except errors.ExchangerError:
            continue
        if order.actions.pay.mode is pay and order.actions.cancel.mode is ActionMode.API:
            return direction
    raise AssertionError(f"no direction with pay={pay}")


# Catalogue


async def test_whoami(env: Env):
    me = await env.client.whoami()
    assert me.user_id == "0" and me.is_system_user and me.partner_id is None
    assert me.ip
    partner = await env.as_key(PARTNER).whoami()
    assert partner.user_id == str(PARTNER.user_id) and not partner.is_system_user


async def test_currencies_and_filters(env: Env):
    lists = await env.client.list_currencies()
    assert lists.give and lists.get
    assert all(c.id and c.title for c in lists.give)
    give_id = lists.give[0].id
    filtered = await env.client.list_currencies(give_id=give_id)
    assert filtered.get and {c.id for c in filtered.get} <= {c.id for c in lists.get}
    directions = await env.client.list_directions(give_id=give_id)
    assert directions and all(d.give.id == give_id for d in directions)
    assert {d.get.id for d in directions} == {c.id for c in filtered.get}


async def test_directions_by_id_and_pair(env: Env):
    summaries = await env.client.list_directions()
    assert len(summaries) > 3
    first = summaries[0]
    by_id = await env.client.get_direction(first.id)
    by_pair = await env.client.get_direction(give_id=first.give.id, get_id=first.get.id)
    assert by_id.id == by_pair.id == first.id
    assert by_id.url.startswith("http")
    assert by_id.give_rate > 0 and by_id.get_rate > 0
    assert isinstance(by_id.reserve, Decimal)
    with pytest.raises(ValueError):
        await env.client.get_direction(give_id=first.give.id)


async def test_every_odd_value_of_directions_is_read(env: Env):
    directions = await all_directions(env.client)
    fields = [f for d in directions for f in d.fields]
    types = {f.type for f in fields}
    assert types >= {FieldType.TEXT, FieldType.TEXTAREA, FieldType.SELECT, FieldType.CHECKBOX}
    assert any(f.changes_price for f in fields)
    assert any(f.required for f in fields) and any(not f.required for f in fields)
    assert any(f.format == "purse" for f in fields)
    assert any(f.tooltip for f in fields)
    # required select with the "0" placeholder: not offered as a choice
    placeholder = [f for f in fields if f.required and f.options and f.options[0].key == "0"]
    assert placeholder and all(o.key != "0" for f in placeholder for o in choices(f))
    checkbox = next(f for f in fields if f.type is FieldType.CHECKBOX)
    assert checkbox.checkbox_text and checkbox.checkbox_value
    # "no" limits and empty field groups
    assert any(d.min_give is None or d.max_give is None or d.max_get is None for d in directions)
    assert any(not d.fields for d in directions)
    assert any(d.give_fields == [] and d.get_fields for d in directions)
    # raw HTML is kept in commission and info texts
    texts = [d.give_commission_text + d.get_commission_text + d.info.timeline_text for d in directions]
    assert any("<" in t for t in texts)


async def test_language_scope_and_shared_pool(env: Env):
    ru = env.client.scoped(lang="ru")
    en = await env.client.list_currencies()
    ru_lists = await ru.list_currencies()
    assert [c.id for c in en.give] == [c.id for c in ru_lists.give]
    assert any(any("а" <= ch <= "я" for ch in c.title.lower()) for c in ru_lists.give)
    assert not any(any("а" <= ch <= "я" for ch in c.title.lower()) for c in en.give)
    assert ru._conn is env.client._conn and ru.lang == "ru" and env.client.lang == "en"
    await ru.aclose()  # a view never closes the shared pool
    assert not env.client._conn.http.is_closed
    await env.client.whoami()


# Quoting


async def test_quote_refusals(env: Env):
    direction = next(d for d in await all_directions(env.client) if d.min_give is not None)
    quote = await env.client.quote(direction.id, good_amount(direction), CalcAction.GIVE)
    assert env.sb.last_form["get_calc"]["calc_action"] == "1" and not quote.changed
    with pytest.raises(errors.DirectionUnavailable):  # get_calc: "direction not found"
        await env.client.quote(999_999, Decimal(1))
    with pytest.raises(TypeError):
        await env.client.quote(direction.id, 1.5)  # type: ignore[arg-type]


async def test_price_fields_round_trip_odd_values_through_cd(env: Env):
    """Through the neutral CustomerApi: price fields travel to get_calc in ``cd``."""
    customer = PremiumExchangerCustomer(env.client)
    direction = next(d for d in await all_directions(env.client) if d.price_fields)
    field = direction.price_fields[0]
    assert len(choices(field)) >= 2
    amount = good_amount(direction)
    quotes = {}
    for option in choices(field):
        q = await customer.quote(direction.id, amount, AmountSide.GIVE, {field.name: option.key})
        quotes[option.key] = q.get_amount_with_fees
    assert len(set(quotes.values())) > 1, "cd fields must change the price"
    # a value with &, =, spaces and Cyrillic must not leak into other cd fields
    cheap = min(quotes, key=lambda k: quotes[k])
    dear = max(quotes, key=lambda k: quotes[k])
    odd = {field.name: dear, "zz": f"a b&{field.name}={cheap}&x=Привет мир"}
    q = await customer.quote(direction.id, amount, AmountSide.GIVE, odd)
    assert q.get_amount_with_fees == quotes[dear]


# Orders


async def test_order_lifecycle(env: Env):
    client = env.client
    direction = await api_direction(client)
    since = int(time.time()) - 5
    order, request = await create(client, direction)
    assert order.status == "new" and order.status_title and not order.is_final
    assert order.actions.pay.mode is ActionMode.API and order.actions.cancel.mode is ActionMode.API
    assert order.actions.pay_amount == order.give_amount
    assert order.actions.instruction

    by_id = await client.get_order(order_id=order.id)
    by_hash = await client.get_order(order_hash=order.hash)
    assert by_id.id == by_hash.id == order.id

    assert await client.mark_paid(order_id=order.id) == "payed"
    paid = await client.get_order(order.id)
    assert paid.status == "payed" and paid.actions.type == "finished"
    assert paid.actions.pay.mode is ActionMode.DISABLED
    assert await client.mark_success(order_hash=order.hash) == "success"
    assert (await client.get_order(order.id)).is_final

    records = await client.list_orders(start_time=since, status_history=True)
    record = next(r for r in records if r.id == order.id)
    assert record.api_id == request.api_id
    assert record.succeeded is True  # exchange_success 1 = success
    assert [s.status for s in record.status_history][-1] == "success"
    assert record.give_amount == order.give_amount
    found = await client.find_order_by_api_id(request.api_id, since)  # type: ignore[arg-type]
    assert found is not None and found.id == order.id
    assert await client.find_order_by_api_id("999999999999", since) is None

    # after a final status the actions answer "no bid exists": the order did not vanish
    with pytest.raises(errors.OrderNotFound):
        await client.cancel_order(order_id=order.id)


async def test_cancel_and_status_changes(env: Env):
    direction = await api_direction(env.client)
    order, _ = await create(env.client, direction)
    assert await env.client.cancel_order(order_hash=order.hash) == "cancel"
    try:  # idempotent, or "no bid exists" once the status no longer allows it
        assert await env.client.cancel_order(order_id=order.id) == "cancel"
    except errors.OrderNotFound:
        pass
    assert (await env.client.get_order(order.id)).status == "cancel"

    other, _ = await create(env.client, direction)
    env.sb.advance(int(other.id))
    moved = await env.client.get_order(other.id)
    assert moved.status != "new"
    env.sb.set_status(int(other.id), "my_custom_status")
    custom = await env.client.get_order(other.id)
    assert custom.status == "my_custom_status" and not custom.is_final


async def test_list_orders_paging(env: Env):
    direction = await api_direction(env.client)
    for _ in range(4):
        await create(env.client, direction)
    since = 0
    first_page = await env.client.list_orders(start_time=since, limit=2)
    second_page = await env.client.list_orders(start_time=since, limit=2, offset=2)
    assert len(first_page) == 2 and len(second_page) == 2
    assert not {r.id for r in first_page} & {r.id for r in second_page}
    everything = [r async for r in env.client.iter_orders(start_time=since, page_size=2)]
    assert len(everything) == len(env.sb.bids) and len({r.id for r in everything}) == len(everything)
    with pytest.raises(ValueError):
        await env.client.list_orders(limit=501)


async def test_create_order_validation_errors(env: Env):
    direction = next(
        d for d in await all_directions(env.client) if any(f.format == "purse" for f in d.fields)
    )
    fields = fill(direction)
    purse = next(f for f in direction.fields if f.format == "purse")
    fields[purse.name] = "definitely not an account"
    request = OrderRequest(
        direction_id=direction.id, amount=good_amount(direction), fields=fields, api_id=next_api_id()
    )
    with pytest.raises(errors.ValidationFailed) as info:
        await env.client.create_order(request)
    assert purse.name in info.value.field_errors
    assert info.value.method == "create_bid"

    limited = next(d for d in await all_directions(env.client) if d.min_give is not None)
    low = OrderRequest(
        direction_id=limited.id, amount=limited.min_give / 10, fields=fill(limited), api_id=next_api_id()
    )  # type: ignore[operator]
    with pytest.raises(errors.ValidationFailed) as info:
        await env.client.create_order(low)
    assert set(info.value.field_errors) & {"sum1", "sum2", "sum1c", "sum2c"}

    with pytest.raises(ValueError):
        await env.client.create_order(
            OrderRequest(direction_id=direction.id, amount=Decimal(1), fields={"api_id": "1"})
        )


async def test_api_id_is_unique(env: Env):
    direction = await api_direction(env.client)
    api_id = next_api_id()
    await create(env.client, direction, api_id=api_id)
    with pytest.raises(errors.IdempotencyConflict):
        await create(env.client, direction, api_id=api_id)


async def test_no_bid(env: Env):
    with pytest.raises(errors.OrderNotFound):
        await env.client.get_order(order_id=99_999_999)
    with pytest.raises(errors.OrderNotFound):
        await env.client.mark_paid(order_hash="f" * 32)
    with pytest.raises(ValueError):
        await env.client.get_order()


# Key-level errors


async def test_key_level_errors(env: Env):
    bad = env.client.scoped(credentials=ApiCredentials(login="demo", key=SecretStr("wrong-key-xyz")))
    with pytest.raises(errors.CredentialsRejected) as info:  # "Api disabled"
        await bad.whoami()
    assert isinstance(info.value, errors.ExchangerUnavailable)
    with pytest.raises(errors.IpNotAllowed):
        await env.as_key(IP_LOCKED).list_directions()
    restricted = env.as_key(RESTRICTED)
    await restricted.list_directions()
    with pytest.raises(errors.PermissionMissing):  # "Method not supported"
        await restricted.list_orders()
    with pytest.raises(errors.PermissionMissing):
        await restricted.partner_info()


# Transport faults and retries


async def test_read_retried_after_html_page(env: Env):
    env.sb.faults.next("get_directions", "html")
    assert await env.client.list_directions()
    assert len(env.sb.faults) == 0


@pytest.mark.parametrize("kind", ["html", "maintenance_page", "http502"])
async def test_unexpected_bodies(env: Env, kind: str):
    client = env.make(retries=0)
    try:
        env.sb.faults.next("test", kind)
        with pytest.raises(errors.UnexpectedResponse) as info:
            await client.whoami()
        assert info.value.transient and info.value.snippet
        assert len(info.value.snippet) < 200 and "<" not in info.value.snippet
        if kind == "http502":
            assert info.value.status_code == 502
        env.sb.faults.next("test", kind)
        env.sb.faults.next("test", kind)
        with pytest.raises(errors.UnexpectedResponse):
            await env.make(retries=1).whoami()
        env.sb.faults.next("test", kind)
        env.sb.faults.next("test", kind)
        assert (await env.make(retries=2).whoami()).user_id == "0"
    finally:
        await client.aclose()


async def test_writes_are_not_retried(env: Env):
    direction = await api_direction(env.client)
    before = len(env.sb.bids)
    env.sb.faults.next("create_bid", "http502")
    with pytest.raises(errors.UnexpectedResponse):
        await create(env.client, direction)
    assert len(env.sb.bids) == before and len(env.sb.faults) == 0


async def test_disconnect_on_create_then_find_by_api_id(env: Env):
    direction = await api_direction(env.client)
    before = len(env.sb.bids)
    since = int(time.time()) - 60
    env.sb.faults.next("create_bid", "disconnect")
    api_id = next_api_id()
    with pytest.raises(errors.TransportError) as info:
        await create(env.client, direction, api_id=api_id)
    assert info.value.may_have_been_processed
    assert len(env.sb.bids) == before + 1
    found = await env.client.find_order_by_api_id(api_id, since)
    assert found is not None and found.api_id == api_id


async def test_timeout_on_create_then_find_by_api_id(env: Env):
    direction = await api_direction(env.client)
    client = env.make(timeout=0.5, retries=2)
    try:
        before = len(env.sb.bids)
        env.sb.faults.next("create_bid", "delay", seconds=2)
        api_id = next_api_id()
        with pytest.raises(errors.ExchangerTimeout) as info:
            await create(client, direction, api_id=api_id)
        assert info.value.may_have_been_processed and info.value.method == "create_bid"
        assert len(env.sb.bids) == before + 1
        found = await client.find_order_by_api_id(api_id, int(time.time()) - 60)
        assert found is not None
    finally:
        await client.aclose()


async def test_read_retried_after_timeout(env: Env):
    client = env.make(timeout=0.5, retries=1)
    try:
        env.sb.faults.next("get_directions", "delay", seconds=2)
        assert await client.list_directions()
        env.sb.faults.next("test", "delay", seconds=2)
        with pytest.raises(errors.ExchangerTimeout):
            await env.make(timeout=0.5, retries=0).whoami()
    finally:
        await client.aclose()


async def test_connection_refused():
    client = PremiumExchangerClient("http://127.0.0.1:9", creds(DEMO), retries=1, backoff=0.01)
    try:
        with pytest.raises(errors.TransportError) as info:
            await client.whoami()
        assert not info.value.may_have_been_processed
    finally:
        await client.aclose()


# Partner cabinet


async def test_partner_methods_need_a_real_user(env: Env):
    with pytest.raises(errors.NotAPartner):
        await env.client.partner_info()
    with pytest.raises(errors.NotAPartner):
        await env.client.partner_clicks()


async def test_partner_info(env: Env):
    info = await env.as_key(PARTNER).partner_info()
    assert info.partner_id == str(PARTNER.user_id) and info.balance > 0
    assert info.items and all(i.commission.endswith("%") for i in info.items)
    assert info.min_payout is not None
    newbie = await env.as_key(NEWBIE).partner_info()
    assert newbie.balance == 0


async def test_partner_clicks_paging(env: Env):
    partner = env.as_key(PARTNER)
    start = int(time.time()) - 30 * 86400
    page = await partner.partner_clicks(start_time=start, limit=500)
    assert len(page) == 500
    clicks = [c async for c in partner.iter_partner_clicks(start_time=start)]
    assert len(clicks) > 500 and len({c.id for c in clicks}) == len(clicks)
    small_pages = [c async for c in partner.iter_partner_clicks(start_time=start, page_size=200)]
    assert {c.id for c in small_pages} == {c.id for c in clicks}
    assert any("utm_source" in c.query_string for c in clicks)
    assert [c async for c in env.as_key(NEWBIE).iter_partner_clicks()] == []


async def test_partner_exchanges_and_payouts(env: Env):
    partner = env.as_key(PARTNER)
    exchanges = [e async for e in partner.iter_partner_exchanges(status_history=True, page_size=100)]
    assert len(exchanges) > 100
    assert any(e.accrued for e in exchanges) and any(not e.accrued for e in exchanges)
    assert all(e.succeeded == (e.status == "success") for e in exchanges)
    assert all(isinstance(e.partner_reward, Decimal) for e in exchanges)
    assert any(e.status_history for e in exchanges)
    one = await partner.partner_exchanges(order_id=exchanges[0].id)
    assert [e.id for e in one] == [exchanges[0].id]

    payouts = [p async for p in partner.iter_partner_payouts(page_size=2)]
    assert {p.status for p in payouts} >= {
        PayoutStatus.PENDING,
        PayoutStatus.PAID,
        PayoutStatus.REFUSED,
        PayoutStatus.CANCELLED,
    }
    assert (await partner.partner_payouts(payout_id=payouts[0].id))[0].id == payouts[0].id


async def test_request_payout(env: Env):
    with pytest.raises(errors.PayoutRefused) as info:
        await env.as_key(NEWBIE).request_payout(1, "T" + "9" * 33)
    assert info.value.text
    partner = env.as_key(PARTNER)
    info_before = await partner.partner_info()
    with pytest.raises(errors.PayoutRefused):
        await partner.request_payout(999, "T" + "9" * 33)
    payout_id = await partner.request_payout(info_before.items[0].id, "T" + "9" * 33)
    payouts = await partner.partner_payouts(payout_id=payout_id)
    assert payouts and payouts[0].status is PayoutStatus.PENDING


# Secrets


async def test_secrets_never_in_errors_or_logs(env: Env, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    raised: list[BaseException] = []
    direction = await api_direction(env.client)
    card = "4276380099998888"

    async def expect_error(coro) -> None:
        try:
            await coro
        except errors.ExchangerError as exc:
            raised.append(exc)
        else:
            raise AssertionError("expected an error")

    wrong = ApiCredentials(login="demo", key=SecretStr("wrong-secret-key-42"))
    await expect_error(env.client.scoped(credentials=wrong).whoami())
    await expect_error(env.as_key(IP_LOCKED).whoami())
    await expect_error(env.as_key(RESTRICTED).list_orders())
    await expect_error(env.client.partner_info())
    await expect_error(env.client.get_direction(999_999))
    bad_fields = {**fill(direction), "account2": "x", "account1": "y"}
    await expect_error(
        env.client.create_order(
            OrderRequest(direction_id=direction.id, amount=good_amount(direction), fields=bad_fields)
        )
    )
    for kind in ("html", "http502", "disconnect"):
        env.sb.faults.next("create_bid", kind)
        fields = {**fill(direction), "cf11": card}
        await expect_error(create_with(env.client, direction, fields))
    short = env.make(timeout=0.3, retries=0)
    env.sb.faults.next("test", "delay", seconds=1)
    await expect_error(short.whoami())
    await short.aclose()
    await expect_error(env.as_key(NEWBIE).request_payout(1, "T-payout-account-secret"))

    assert len(raised) >= 10
    secrets = [k.key for k in ALL_KEYS] + ["wrong-secret-key-42", "T-payout-account-secret", card]
    for exc in raised:
        for text in (str(exc), repr(exc), str(exc.args)):
            for secret in secrets:
                assert secret not in text, (type(exc), secret)
        assert exc.method
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in logged
    assert "create_bid" in caplog.text and "get_direction" in caplog.text


async def create_with(client: PremiumExchangerClient, direction: Direction, fields: dict[str, str]) -> Order:
    return await client.create_order(
        OrderRequest(
            direction_id=direction.id, amount=good_amount(direction), fields=fields, api_id=next_api_id()
        )
    )


# What real servers do differently (see the reference page)


async def test_clicks_without_id_are_read_with_stable_ids(env: Env):
    partner = env.as_key(PARTNER)
    start = int(time.time()) - 30 * 86400
    with_ids = [c async for c in partner.iter_partner_clicks(start_time=start)]
    env.sb.clicks_without_id = True
    first = [c async for c in partner.iter_partner_clicks(start_time=start)]
    second = [c async for c in partner.iter_partner_clicks(start_time=start, page_size=100)]
    assert len(first) == len(with_ids) and {c.id for c in first} == {c.id for c in second}
    assert [c.query_string for c in first] == [c.query_string for c in with_ids]


async def test_listing_sees_a_bid_that_moves_to_the_top_mid_walk():
    clock = [1_700_000_000.0]
    sb = SandboxExchanger(step_seconds=None, now=lambda: clock[0])
    client = PremiumExchangerClient(await sb.start(), creds(DEMO), backoff=0.01)
    try:
        direction = await client.get_direction(102)
        created = []
        for _ in range(5):
            created.append((await create(client, direction))[0])
            clock[0] += 10
        oldest = created[0]
        # the second page is asked for after the oldest bid changed: it jumps to the top, already read
        sb.faults.next("get_exchanges", "hook", hook=lambda: None)
        sb.faults.next("get_exchanges", "hook", hook=lambda: sb.advance(int(oldest.id)))
        walked = [r async for r in client.iter_orders(page_size=2)]
        assert sb.bids[int(oldest.id)].status == "payed" and len(sb.faults) == 0
        assert [r.id for r in walked][:4] == [o.id for o in reversed(created)][:4]
        assert {r.id for r in walked} == {o.id for o in created} and len(walked) == 5
    finally:
        await client.aclose()
        await sb.stop()
