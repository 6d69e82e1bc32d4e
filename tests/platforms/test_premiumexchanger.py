"""The PremiumExchanger adapter against its sandbox over loopback HTTP: the mapping to neutral models
and every behaviour of the real server the reference page lists."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from bot.domain import errors
from bot.domain.capabilities import Capability, PartnerCredentials
from bot.domain.models import (
    AMOUNT_FIELD,
    ActionMode,
    AmountSide,
    FieldKind,
    FieldOption,
    FieldPurpose,
    Order,
    OrderPhase,
    OrderRef,
    OrderRequest,
)
from bot.logs import REDACTOR
from bot.platforms.base import PlacementUncertain
from bot.platforms.premiumexchanger import INFO, check_config, open_platform
from bot.platforms.premiumexchanger.adapter import PremiumExchangerPlatform
from bot.platforms.premiumexchanger.client import PremiumExchangerClient
from bot.platforms.premiumexchanger.feed import PremiumExchangerFeed
from bot.platforms.premiumexchanger.info import api_locale
from bot.platforms.premiumexchanger.models import ApiCredentials
from bot.platforms.premiumexchanger.placement import UTC_OFFSET_ALLOWANCE, lookup_since
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import DEMO, IP_LOCKED, PARTNER, RESTRICTED, DemoKey
from bot.platforms.premiumexchanger.statuses import status_of
from bot.platforms.registry import PlatformConfig, PlatformConfigError
from tests.sandbox_forms import FIELDS_102, FORMS

DAY = 86400


@asynccontextmanager
async def opened(sb: SandboxExchanger, key: DemoKey = DEMO) -> AsyncIterator[PremiumExchangerPlatform]:
    async with AsyncExitStack() as stack:
        url = await sb.start()
        stack.push_async_callback(sb.stop)
        client = PremiumExchangerClient(
            url, ApiCredentials(login=key.login, key=SecretStr(key.key)), backoff=0.01
        )
        platform = PremiumExchangerPlatform(client, sandbox=sb)
        stack.push_async_callback(platform.aclose)
        yield platform


@pytest.fixture
async def pe() -> AsyncIterator[PremiumExchangerPlatform]:
    async with opened(SandboxExchanger(step_seconds=None)) as platform:
        yield platform


def sandbox_of(platform: PremiumExchangerPlatform) -> SandboxExchanger:
    assert platform.sandbox is not None
    return platform.sandbox


def sb_form(platform: PremiumExchangerPlatform, method: str) -> dict[str, str]:
    return sandbox_of(platform).last_form[method]


def request_for(direction_id: int, **changes: object) -> OrderRequest:
    form = dict(FORMS[direction_id])
    amount = Decimal(form.pop("calc_amount"))
    for name in ("direction_id", "calc_action"):
        form.pop(name, None)
    values: dict[str, object] = {"direction_id": str(direction_id), "amount": amount, "fields": form}
    values.update(changes)
    return OrderRequest(**values)  # type: ignore[arg-type]


async def place(platform: PremiumExchangerPlatform, request: OrderRequest, key: str | None = None) -> Order:
    key = key or platform.placement.new_key()
    return await platform.placement.place(request, key, None, reserved_at=int(time.time()), retry=False)


def partner_values(key: DemoKey = PARTNER) -> dict[str, str]:
    return {"login": key.login, "key": key.key}


# -- declaration and configuration -------------------------------------------------------------------


def test_info() -> None:
    assert INFO.name == "premiumexchanger" and INFO.key_page == "/user-api/"
    assert INFO.amount_sides == tuple(AmountSide)
    assert not INFO.serves(Capability.EMERGENCY_DECISION) and not INFO.serves(Capability.PUSH_WEBHOOK)
    login, key = INFO.credential_fields
    assert (login.name, login.secret, key.name, key.secret) == ("login", False, "key", True)
    assert login.accepts("bot_login-1") and not login.accepts("two words") and not login.accepts("x" * 101)
    assert not login.accepts("логин") and not login.accepts("")
    assert key.accepts("k" * 16) and not key.accepts("short") and not key.accepts("k" * 16 + " k")


def test_check_config_names_the_variable() -> None:
    check_config(PlatformConfig("premiumexchanger", site_url=None))
    secret = SecretStr("a-very-secret-key-0001")
    with pytest.raises(PlatformConfigError, match="EXCHANGER_API_LOGIN"):
        check_config(PlatformConfig("premiumexchanger", site_url="https://ex.test", api_key=secret))
    with pytest.raises(PlatformConfigError, match="EXCHANGER_API_KEY") as info:
        check_config(PlatformConfig("premiumexchanger", site_url="https://ex.test", api_login="bot"))
    assert "bot" not in str(info.value)
    check_config(PlatformConfig("premiumexchanger", "https://ex.test", api_login="bot", api_key=secret))


async def test_open_platform_on_a_configured_site() -> None:
    sb = SandboxExchanger(step_seconds=None)
    url = await sb.start()
    try:
        async with AsyncExitStack() as stack:
            config = PlatformConfig(
                "premiumexchanger", site_url=url, api_login=DEMO.login, api_key=SecretStr(DEMO.key)
            )
            platform = await open_platform(config, stack)
            assert platform.site_url == url and platform.sandbox is None
            assert (await platform.self_check()).ok
            assert REDACTOR.redact(DEMO.key) == "***"
        assert platform.client._conn.http.is_closed
    finally:
        await sb.stop()


def test_api_locale() -> None:
    assert (api_locale("en"), api_locale("ru"), api_locale(None), api_locale("")) == (
        "en_US",
        "ru_RU",
        None,
        None,
    )


async def test_language_of_the_customer_view(pe: PremiumExchangerPlatform) -> None:
    ru = await pe.customer("ru").currencies()
    en = await pe.customer("en").currencies()
    assert "Сбербанк RUB" in {c.title for c in ru.give} and "Sberbank RUB" in {c.title for c in en.give}
    order = await place(pe, request_for(102))
    read = await pe.customer("ru").read_order(order.ref)
    assert read.status.title == "Принята, ожидает оплаты" and read.status.code == "new"


# -- the catalogue, mapped -----------------------------------------------------------------------------


async def test_direction_fields_are_mapped(pe: PremiumExchangerPlatform) -> None:
    customer = pe.customer("en")
    d102 = await customer.direction("102")
    fields = {f.name: f for f in d102.fields}
    assert list(fields) == ["account1", "cfgive8", "account2", "cfget2", "cf6", "cf12"]
    assert fields["account1"].purpose is FieldPurpose.GIVE_ACCOUNT and fields["account1"].hint
    assert fields["account2"].purpose is FieldPurpose.GET_ACCOUNT and fields["account2"].required
    assert fields["cf6"].purpose is FieldPurpose.EMAIL
    agree = fields["cf12"]
    assert agree.kind is FieldKind.CHECKBOX
    assert agree.options == [FieldOption("1", "I agree to the AML/KYC rules")] == [("1", agree.checkbox_text)]
    fee = fields["cfget2"]
    assert fee.changes_price and fee.kind is FieldKind.SELECT and [o.key for o in fee.options] == ["1", "2"]
    assert d102.price_fields == [fee] and all(f.max_length == 255 for f in d102.fields)
    assert "<" in d102.notes.timeline and "frozen" in d102.notes.frozen and d102.notes.before_confirm
    assert d102.sides == (AmountSide.GIVE, AmountSide.GET, AmountSide.GET_WITH_FEES)  # a fixed fee on "get"
    assert d102.get_fee_text and not d102.give_fee_text and d102.max_get == 5000 and d102.min_get is None

    d103 = await customer.direction("103")
    card_type = next(f for f in d103.fields if f.name == "cfget3")
    source = next(f for f in d103.fields if f.name == "cf13")
    assert (
        card_type.required and "0" not in {o.key for o in card_type.options} and len(card_type.options) == 3
    )
    assert not source.required and "0" not in {o.key for o in source.options}
    assert d103.sides == (AmountSide.GIVE, AmountSide.GET, AmountSide.GIVE_WITH_FEES)

    d104 = await customer.direction("104")
    purposes = {f.name: f.purpose for f in d104.fields}
    assert (purposes["cf1"], purposes["cf3"], purposes["cf4"]) == (FieldPurpose.NAME,) * 2 + (
        FieldPurpose.PHONE,
    )
    assert purposes["cfgive8"] is FieldPurpose.OTHER
    d105 = await customer.direction("105")  # its fields come as a list
    comment = next(f for f in d105.fields if f.name == "cf20")
    assert comment.kind is FieldKind.TEXTAREA and comment.max_length == 2000
    d110 = await customer.direction("110")
    assert next(f for f in d110.fields if f.name == "cf11").purpose is FieldPurpose.TELEGRAM
    d101 = await customer.direction("101")
    assert d101.sides == (AmountSide.GIVE, AmountSide.GET)
    assert (await customer.direction("108")).fields == []


async def test_quote_sides_and_price_fields(pe: PremiumExchangerPlatform) -> None:
    customer = pe.customer("en")
    give_fees = await customer.quote("104", Decimal(101000), AmountSide.GIVE_WITH_FEES, {})
    assert give_fees.give_amount_with_fees == Decimal(101000) and give_fees.give_amount == Decimal(100000)
    get = await customer.quote("102", Decimal(100), AmountSide.GET, {})
    assert get.get_amount == Decimal(100) and get.give_amount == Decimal(9500)
    normal = await customer.quote("102", Decimal(10000), AmountSide.GIVE, {"cfget2": "1"})
    fast = await customer.quote("102", Decimal(10000), AmountSide.GIVE, {"cfget2": "2"})
    assert normal.get_amount_with_fees - fast.get_amount_with_fees == 2  # type: ignore[operator]
    clamped = await customer.quote("102", Decimal(10), AmountSide.GIVE, {})
    assert clamped.adjusted and clamped.give_amount == Decimal(1000)


async def test_closed_and_prohibited_directions(pe: PremiumExchangerPlatform) -> None:
    sb = sandbox_of(pe)
    sb.closed_directions.add(102)
    calls = sb.requests["get_direction"]
    with pytest.raises(errors.DirectionUnavailable) as info:
        await pe.customer().direction("102")
    assert not isinstance(info.value, errors.ExchangerUnavailable)
    assert sb.requests["get_direction"] == calls + 1  # not retried
    assert "102" not in {d.id for d in await pe.customer().directions()}
    sb.closed_directions.clear()

    before = len(sb.bids)
    request = OrderRequest(direction_id="109", amount=Decimal("0.01"), fields={"account2": "T" + "9" * 33})
    with pytest.raises(errors.DirectionProhibited):
        await place(pe, request)
    assert len(sb.bids) == before and sb.requests["get_exchanges"] == 0  # a refusal: nothing looked up


# -- orders, mapped ------------------------------------------------------------------------------------


async def test_orders_are_mapped(pe: PremiumExchangerPlatform) -> None:
    customer = pe.customer("en")
    card = await place(pe, request_for(102))
    assert card.number == card.id and card.ref.secret is not None and card.url.endswith("/")
    assert (
        card.give_title == "Sberbank"
        and card.get_title == "Tether TRC20"
        and card.give_currency_code == "RUB"
    )
    assert card.status == status_of("new", "Accepted, waiting to be paid")
    assert card.payment is not None and card.payment.amount == card.give_amount == Decimal("10000")
    assert card.payment.currency_code == "RUB" and "<p>" in card.payment.instruction
    assert card.payment.pay_url is None and card.payment.address is None
    assert card.actions.mark_paid.mode is ActionMode.API and card.actions.cancel.mode is ActionMode.API

    tagged = await place(pe, request_for(107))
    assert tagged.payment is not None and tagged.payment.address and tagged.payment.tag

    merchant = await place(pe, request_for(104))
    assert merchant.actions.mark_paid.mode is ActionMode.LINK and merchant.actions.mark_paid.url
    assert merchant.payment is not None and merchant.payment.pay_url == merchant.actions.mark_paid.url

    site_only = await place(pe, request_for(108))
    assert site_only.actions.mark_paid.mode is ActionMode.DISABLED
    assert site_only.actions.cancel.mode is ActionMode.DISABLED
    with pytest.raises(errors.ActionNotAllowed):
        await customer.cancel_order(site_only.ref)

    await customer.mark_paid(card.ref)
    paid = await customer.read_order(card.ref)
    assert paid.status.phase is OrderPhase.CONFIRMING_PAYMENT and paid.payment is None
    assert paid.actions.mark_paid.mode is ActionMode.DISABLED
    with pytest.raises(errors.PermissionMissing):
        await customer.continue_order(card.ref)
    sandbox_of(pe).set_status(int(card.id), "my_site_status")
    custom = await customer.read_order(card.ref)
    assert custom.status.code == "my_site_status" and custom.status.phase is OrderPhase.PROCESSING
    assert not custom.is_final and custom.payment is None


async def test_actions_send_the_hash(pe: PremiumExchangerPlatform) -> None:
    sandbox_of(pe).require_hash = True
    order = await place(pe, request_for(102))
    customer = pe.customer()
    without_secret = OrderRef(id=order.id)
    with pytest.raises(errors.OrderNotFound):
        await customer.read_order(without_secret)
    await customer.cancel_order(order.ref)
    assert sb_form(pe, "cancel_bid") == {"id": order.id, "hash": order.ref.secret.get_secret_value()}  # type: ignore[union-attr]
    assert (await customer.read_order(order.ref)).status.phase is OrderPhase.CANCELLED


def test_status_table() -> None:
    flow = ["coldnew", "new", "techpay", "payed", "realpay", "verify", "success"]
    ranks = [status_of(code).rank for code in flow]
    assert ranks == sorted(ranks) and ranks[-1] > ranks[-2]
    assert {status_of(c).phase for c in ("coldnew", "new", "techpay")} == {OrderPhase.AWAITING_PAYMENT}
    assert {status_of(c).phase for c in ("payed", "coldpay", "partpay")} == {OrderPhase.CONFIRMING_PAYMENT}
    for code in ("realpay", "verify", "amlwait", "amlerror", "merchwait", "mercherror", "coldsuccess",
                 "partpayout", "payouterror", "scrpayerror", "brand_new_status"):  # fmt: skip
        status = status_of(code)
        assert status.phase is OrderPhase.PROCESSING and not status.is_final
        assert status.rank == status_of("verify").rank
    finals = {"success": OrderPhase.DONE, "cancel": OrderPhase.CANCELLED, "delete": OrderPhase.CANCELLED,
              "error": OrderPhase.FAILED}  # fmt: skip
    for code, phase in finals.items():
        assert status_of(code).phase is phase and status_of(code).is_final
        assert status_of(code).rank > status_of("scrpayerror").rank
    assert status_of("SUCCESS").is_final and status_of("SUCCESS").code == "SUCCESS"


# -- placement ---------------------------------------------------------------------------------------


async def test_placement_refusals_use_neutral_field_names(pe: PremiumExchangerPlatform) -> None:
    with pytest.raises(errors.ValidationFailed) as info:
        await place(pe, request_for(102, amount=Decimal(10)))
    assert set(info.value.field_errors) == {AMOUNT_FIELD}
    give_fees = request_for(102, amount=Decimal(10), side=AmountSide.GIVE_WITH_FEES)
    with pytest.raises(errors.ValidationFailed) as info:
        await place(pe, give_fees)
    assert set(info.value.field_errors) == {AMOUNT_FIELD}
    bad = request_for(102, fields={**FIELDS_102, "account2": "not a wallet", "cf6": ""})
    with pytest.raises(errors.ValidationFailed) as info:
        await place(pe, bad)
    assert set(info.value.field_errors) == {"account2", "cf6"}


async def test_placement_sends_attribution_push_url_and_skips_empty_answers(
    pe: PremiumExchangerPlatform,
) -> None:
    sb = sandbox_of(pe)
    request = request_for(
        110,
        fields={**request_for(110).fields, "cf11": "", "cf13": ""},
        attribution={"partner": str(PARTNER.user_id), "campaign": "spring"},
        push_url="http://127.0.0.1:9/push/token",
        side=AmountSide.GET,
        amount=Decimal(100),
    )
    order = await place(pe, request)
    bid = sb.bids[int(order.id)]
    assert bid.partner_id == PARTNER.user_id and bid.callback_url == "http://127.0.0.1:9/push/token"
    assert bid.sum_get == Decimal(100) and bid.api_id
    sent = sb.last_form["create_bid"]
    assert "cf11" not in sent and "cf13" not in sent and sent["account2"] == "P1234567"
    assert (sent["calc_action"], sent["partner_id"], sent["api_id"]) == ("2", "7", bid.api_id)


async def test_lost_answer_on_a_site_west_of_utc() -> None:
    """The site's `time` runs 10 h behind the real moment: a look-up window taken from the bot's
    clock must reach that far back."""
    sb = SandboxExchanger(step_seconds=None, utc_offset=-10 * 3600)
    async with opened(sb) as pe:
        assert lookup_since(int(time.time())) <= int(time.time()) - 10 * 3600 < int(time.time())
        before = len(sb.bids)
        key = pe.placement.new_key()
        sb.faults.next("create_bid", "disconnect")
        order = await place(pe, request_for(102), key)
        assert len(sb.bids) == before + 1 and order.status.code == "new" and order.ref.secret is not None
        again = await pe.placement.place(
            request_for(102), key, None, reserved_at=int(time.time()), retry=True
        )
        assert again.id == order.id and len(sb.bids) == before + 1
        page = await pe.feed.changed_since(int(time.time()) - 11 * 3600)
        assert order.id in {o.order_id for o in page.observations}
        assert page.cursor < time.time() - 9 * 3600  # the site's clock, not ours
        assert UTC_OFFSET_ALLOWANCE >= 12 * 3600


async def test_lost_answer_and_failed_lookup_is_uncertain(pe: PremiumExchangerPlatform) -> None:
    sb = sandbox_of(pe)
    key = pe.placement.new_key()
    sb.faults.next("create_bid", "http502", processed=True)
    for _ in range(3):
        sb.faults.next("get_exchanges", "empty_response")
    with pytest.raises(PlacementUncertain):
        await place(pe, request_for(102), key)
    sb.faults.clear()
    with pytest.raises(errors.UnexpectedResponse):  # find can't tell either
        sb.faults.next("get_exchanges", "empty_response")
        await pe.placement.find(key, reserved_at=int(time.time()))
    found = await pe.placement.find(key, reserved_at=int(time.time()))
    assert found is not None and len(sb.bids) == 1


async def test_found_bid_whose_direction_was_disabled(pe: PremiumExchangerPlatform) -> None:
    sb = sandbox_of(pe)
    key = pe.placement.new_key()
    order = await place(pe, request_for(102), key)
    sb.closed_directions.add(102)  # bid_info now says "no bid exists"
    with pytest.raises(errors.OrderNotFound):
        await pe.customer().read_order(order.ref)
    found = await pe.placement.find(key, reserved_at=int(time.time()))
    assert found is not None and found.id == order.id and found.status.code == "new"
    assert found.ref.secret is not None and found.payment is None


async def test_secrets_stay_out_of_logs(
    pe: PremiumExchangerPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sb = sandbox_of(pe)
    sb.faults.next("create_bid", "disconnect")
    order = await place(pe, request_for(102))
    credentials = pe.credentials(partner_values())
    await pe.cabinet(credentials).summary()
    assert order.ref.secret is not None
    secret = order.ref.secret.get_secret_value()
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "create_bid" in caplog.text
    for value in (secret, PARTNER.key, DEMO.key, FIELDS_102["account2"]):
        assert value not in logged


# -- the order feed -----------------------------------------------------------------------------------


async def test_feed_costs_one_call_when_few_changed(pe: PremiumExchangerPlatform) -> None:
    sb = sandbox_of(pe)
    orders = [await place(pe, request_for(102)) for _ in range(3)]
    calls = sb.requests["get_exchanges"]
    page = await pe.feed.changed_since(int(time.time()) - 60)
    assert sb.requests["get_exchanges"] == calls + 1
    assert {o.id for o in orders} <= {o.order_id for o in page.observations}
    assert all(o.status.code == "new" and o.idempotency_key for o in page.observations)
    assert page.cursor == max(o.changed_at or 0 for o in page.observations)
    empty = await PremiumExchangerFeed(pe.client).changed_since(page.cursor + 3600)
    assert empty.observations == [] and empty.cursor == page.cursor + 3600


async def test_feed_pages_and_sees_a_bid_that_moves_mid_walk() -> None:
    clock = [1_700_000_000.0]
    sb = SandboxExchanger(step_seconds=None, now=lambda: clock[0])
    async with opened(sb) as pe:
        orders = []
        for _ in range(5):
            orders.append(await place(pe, request_for(102)))
            clock[0] += 10
        feed = PremiumExchangerFeed(pe.client, page_size=2)
        oldest = orders[0]
        # page 1 is read, then the oldest bid (not read yet) changes and jumps to the top
        sb.faults.next("get_exchanges", "hook", hook=lambda: None)
        sb.faults.next("get_exchanges", "hook", hook=lambda: sb.advance(int(oldest.id)))
        page = await feed.changed_since(1_700_000_000)
        seen = {o.order_id: o for o in page.observations}
        assert set(seen) == {o.id for o in orders} and len(page.observations) == 5
        assert seen[oldest.id].status.code == "payed" and page.cursor == seen[oldest.id].changed_at
        clock[0] += 10
        sb.advance(int(orders[1].id))
        later = await feed.changed_since(page.cursor)
        assert [o.order_id for o in later.observations if o.status.code == "payed"] == [
            orders[1].id,
            oldest.id,
        ]


# -- partner cabinet ----------------------------------------------------------------------------------


async def test_check_key_reports_what_the_key_may_not_do() -> None:
    lacking = DemoKey("lacking", "lacking-key-5555555555555555555", PARTNER.user_id,
                      frozenset({"test", "get_partner_info", "get_partner_exchanges"}))  # fmt: skip
    no_test = DemoKey("notest", "notest-key-66666666666666666666", PARTNER.user_id,
                      frozenset({"get_partner_info", "get_partner_links", "get_partner_exchanges",
                                 "get_partner_payouts"}))  # fmt: skip
    keys = {k.login: k for k in (DEMO, PARTNER, RESTRICTED, IP_LOCKED, lacking, no_test)}
    async with opened(SandboxExchanger(step_seconds=None, keys=keys)) as pe:
        check = await pe.cabinet(pe.credentials(partner_values(lacking))).check_key()
        assert check.partner_id == str(PARTNER.user_id) and check.label == "lacking"
        assert check.missing == {
            Capability.PARTNER_CLICKS: "get_partner_links",
            Capability.PARTNER_PAYOUTS: "get_partner_payouts",
        }
        assert not (await pe.cabinet(pe.credentials(partner_values(no_test))).check_key()).missing
        with pytest.raises(errors.PermissionMissing) as info:
            await pe.cabinet(pe.credentials(partner_values(RESTRICTED))).check_key()
        assert info.value.permission == "get_partner_info"
        with pytest.raises(errors.IpNotAllowed):
            await pe.cabinet(pe.credentials(partner_values(IP_LOCKED))).check_key()
        with pytest.raises(errors.NotAPartner):
            await pe.cabinet(pe.credentials(partner_values(DEMO))).check_key()


async def test_summary_is_mapped(pe: PremiumExchangerPlatform) -> None:
    summary = await pe.cabinet(pe.credentials(partner_values()), "ru").summary()
    assert summary.partner_id == "7" and summary.balance_currency == "" and summary.min_payout == 10
    assert [m.id for m in summary.methods] == ["1", "2", "3"]
    assert summary.methods[0].fee_text == "2%" and summary.methods[0].title == "Тезер TRC20 USDT"
    assert summary.methods[0].available is not None and summary.methods[0].currency_code == ""


async def test_partner_lists_are_mapped_and_survive_odd_servers(pe: PremiumExchangerPlatform) -> None:
    sb = sandbox_of(pe)
    cabinet = pe.cabinet(pe.credentials(partner_values()))
    now = int(time.time())
    start, end = now - 30 * DAY, now + 60
    clicks = [c async for c in cabinet.clicks(start, end)]
    exchanges = [e async for e in cabinet.exchanges(0, end)]
    payouts = [p async for p in cabinet.payouts(0, end)]
    assert len(clicks) > 500 and all(c.visitor and c.query_string.startswith("rid=7") for c in clicks)
    assert all(e.succeeded == (e.status.code == "success") == e.accrued for e in exchanges)
    assert all(e.reward > 0 and e.give_title and e.date for e in exchanges)
    assert {e.status.phase for e in exchanges} >= {OrderPhase.DONE, OrderPhase.CANCELLED}
    assert {p.status for p in payouts} >= {"pending", "paid", "refused", "cancelled"}
    assert all(
        p.method in {"1", "2", "3"} and p.amount and p.original_currency_code == "USD" for p in payouts
    )

    sb.clicks_without_id = True
    sb.ignore_offset.update({"get_partner_links", "get_partner_exchanges", "get_partner_payouts"})
    calls = sb.requests["get_partner_links"]
    odd_clicks = [c async for c in cabinet.clicks(start, end)]
    assert len(odd_clicks) == len(clicks) and len({c.id for c in odd_clicks}) == len(clicks)
    # walked back by end_time: a bounded number of calls, not one per row
    assert sb.requests["get_partner_links"] - calls < 2 * (len(clicks) // 500 + 3)
    assert [c.time for c in odd_clicks] == [c.time for c in clicks]
    assert {e.id async for e in cabinet.exchanges(0, end)} == {e.id for e in exchanges}
    assert {p.id async for p in cabinet.payouts(0, end)} == {p.id for p in payouts}


# -- credentials, self check, links ------------------------------------------------------------------


async def test_credentials(pe: PremiumExchangerPlatform) -> None:
    credentials = pe.credentials({"login": " partner ", "key": f" {PARTNER.key} "})
    assert credentials.label == "partner" and credentials.get("key") == PARTNER.key
    assert PARTNER.key not in repr(credentials) and REDACTOR.redact(PARTNER.key) == "***"
    for broken in (
        {"login": "partner"},
        {"login": "two words", "key": PARTNER.key},
        {"login": "p", "key": "short"},
    ):
        with pytest.raises(ValueError) as info:
            pe.credentials(broken)
        assert PARTNER.key not in str(info.value)
    foreign = PartnerCredentials("someother", {"key": SecretStr("x" * 20)})
    with pytest.raises(ValueError):
        pe.cabinet(foreign)


async def test_self_check_in_plain_words() -> None:
    no_test = DemoKey("notest", "notest-key-66666666666666666666", 5, frozenset({"get_directions"}))
    keys = {k.login: k for k in (DEMO, PARTNER, IP_LOCKED, no_test)}
    sb = SandboxExchanger(step_seconds=None, keys=keys)
    async with opened(sb) as pe:
        check = await pe.self_check()
        assert check.ok and "System user" in check.message and "partner" in check.message.lower()

        def as_key(key: DemoKey, secret: str | None = None) -> PremiumExchangerPlatform:
            creds = ApiCredentials(login=key.login, key=SecretStr(secret or key.key))
            return PremiumExchangerPlatform(pe.client.scoped(credentials=creds))

        partner = await as_key(PARTNER).self_check()
        assert partner.ok and "user 7" in partner.message
        wrong = await as_key(DEMO, "wrong-key-000000000000").self_check()
        assert not wrong.ok and "Api disabled" in wrong.message and "wrong-key" not in wrong.message
        blocked = await as_key(IP_LOCKED).self_check()
        assert not blocked.ok and "IP" in blocked.message
        assert (await as_key(no_test).self_check()).ok
        sb.faults.next("test", "html")
        sb.faults.next("test", "html")
        sb.faults.next("test", "html")
        broken = await pe.self_check()
        assert not broken.ok and "did not answer" in broken.message
    down = PremiumExchangerPlatform(
        PremiumExchangerClient(
            "http://127.0.0.1:9", ApiCredentials(login="x", key=SecretStr("y" * 16)), retries=0
        )
    )
    assert not (await down.self_check()).ok
    await down.aclose()


async def test_maintenance_through_the_adapter(pe: PremiumExchangerPlatform) -> None:
    order = await place(pe, request_for(102))
    sb = sandbox_of(pe)
    sb.maintenance = True
    with pytest.raises(errors.Maintenance) as info:
        await pe.customer("en").quote("102", Decimal(10000), AmountSide.GIVE, {})
    assert info.value.text == "Maintenance" and info.value.method == "get_calc"
    with pytest.raises(errors.Maintenance) as info:
        await pe.customer("ru").quote("102", Decimal(10000), AmountSide.GIVE, {})
    assert info.value.text == "Техническое обслуживание"
    assert len(await pe.customer().directions()) > 3  # the catalogue stays open
    sb.maintenance_text = "Переезжаем на новый сервер, вернёмся в 17:00"
    with pytest.raises(errors.Maintenance) as info:  # the owner's words, without the word "maintenance"
        await pe.customer("ru").quote("102", Decimal(10000), AmountSide.GIVE, {})
    assert info.value.text == sb.maintenance_text
    with pytest.raises(errors.Maintenance) as info:
        await pe.customer("ru").read_order(order.ref)
    assert info.value.text == sb.maintenance_text and info.value.method == "bid_info"
    with pytest.raises(PlacementUncertain):  # no answer about the bid, and bid_info is closed too
        sb.faults.next("get_exchanges", "empty_response")
        await pe.placement.place(request_for(102), pe.placement.new_key(), None, reserved_at=0, retry=True)
    with pytest.raises(errors.Maintenance):  # an answer: the bid was not created
        await place(pe, request_for(102))
    sb.maintenance = False
    assert (await pe.customer().quote("102", Decimal(10000), AmountSide.GIVE, {})).give_amount == 10000


async def test_every_piece_of_the_platform_protocol(pe: PremiumExchangerPlatform) -> None:
    for name in ("info", "site_url", "placement", "feed", "links", "webhooks"):
        assert hasattr(pe, name), name
    assert pe.webhooks is None  # pushes are per-order callback URLs (PUSH_CALLBACK)
    cabinet = pe.cabinet(pe.credentials(partner_values()))
    with pytest.raises(errors.PermissionMissing):
        await cabinet.statistics("day")
    with pytest.raises(errors.PermissionMissing):
        [r async for r in cabinet.referrals(0, int(time.time()))]
    with pytest.raises(errors.PermissionMissing):
        await cabinet.register_push("https://bot.example/push")
    with pytest.raises(errors.PermissionMissing):
        await cabinet.unregister_push("1")
    assert not INFO.serves(Capability.PARTNER_STATS) and not INFO.serves(Capability.PARTNER_REFERRALS)


async def test_payout_refusals_carry_a_reason(pe: PremiumExchangerPlatform) -> None:
    cabinet = pe.cabinet(pe.credentials(partner_values()))
    with pytest.raises(errors.PayoutRefused) as info:
        await cabinet.request_payout("99", "T" + "9" * 33)
    assert info.value.reason == "method"
    with pytest.raises(errors.PayoutRefused) as info:
        await cabinet.request_payout("1", " ")
    assert info.value.reason == "account"
    await cabinet.request_payout("1", "T" + "9" * 33)
    with pytest.raises(errors.PayoutRefused) as info:
        await cabinet.request_payout("1", "T" + "9" * 33)
    assert info.value.reason == "minimum" and info.value.text == "Payout amount is less than minimum"


async def test_a_referral_link_brings_a_click(pe: PremiumExchangerPlatform) -> None:
    """The link the bot builds, opened by a visitor, comes back in the partner's clicks with its tags."""
    cabinet = pe.cabinet(pe.credentials(partner_values()))
    direction = await pe.customer().direction("102")
    tags = {"utm_source": "telegram", "utm_campaign": "весна"}
    link = pe.links.link(str(PARTNER.user_id), tags, direction.url)
    async with httpx.AsyncClient() as visitor:
        assert (await visitor.get(link, headers={"Referer": "https://t.me/"})).status_code == 200
    now = int(time.time())
    clicks = [c async for c in cabinet.clicks(now - 60, now + 60)]
    newest = clicks[0]
    assert parse_qsl(newest.query_string) == [
        ("rid", "7"), ("utm_source", "telegram"), ("utm_campaign", "весна")
    ]  # fmt: skip
    assert newest.referrer == "https://t.me/"


async def test_partner_program_off(pe: PremiumExchangerPlatform) -> None:
    sandbox_of(pe).partner_program = False
    cabinet = pe.cabinet(pe.credentials(partner_values()))
    with pytest.raises(errors.PartnerProgramOff):
        await cabinet.summary()
    with pytest.raises(errors.PartnerProgramOff):
        await cabinet.check_key()


def test_links() -> None:
    from bot.platforms.premiumexchanger.links import PremiumExchangerLinks

    links = PremiumExchangerLinks("https://ex.test/")
    assert links.reserved_params == {"rid"}
    assert links.link("7", {}) == "https://ex.test/?rid=7"
    link = links.link("7", {"utm_source": "telegram", "RID": "1", "rid": "2", "ref": "канал 1&2"})
    assert link.startswith("https://ex.test/?rid=7&utm_source=telegram&")
    assert parse_qsl(urlsplit(link).query) == [("rid", "7"), ("utm_source", "telegram"), ("ref", "канал 1&2")]
    page = links.link(
        "7", {"utm_source": "x"}, "https://ex.test/exchange_a_to_b/?rid=3&utm_source=old&lang=en#top"
    )
    assert page == "https://ex.test/exchange_a_to_b/?rid=7&lang=en&utm_source=x"
