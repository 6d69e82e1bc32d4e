"""The PremiumExchanger adapter reading answers recorded from real servers (recorded/premiumexchanger/),
served over loopback HTTP by a tiny site that answers each method with the file a test chose."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.domain import errors
from bot.domain.models import (
    AMOUNT_FIELD,
    ActionMode,
    AmountSide,
    FieldKind,
    FieldOption,
    FieldPurpose,
    OrderPhase,
    OrderRef,
    OrderRequest,
    PayoutStatus,
)
from bot.platforms.premiumexchanger.adapter import PremiumExchangerPlatform
from bot.platforms.premiumexchanger.client import PremiumExchangerClient
from bot.platforms.premiumexchanger.models import ApiCredentials

RECORDED = Path(__file__).parent / "recorded" / "premiumexchanger"
KEY = "recorded-key-0123456789abcdef"


@dataclass
class RecordedSite:
    """Answers ``method`` with the next file queued for it; the last one keeps answering."""

    answers: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    forms: dict[str, list[dict[str, str]]] = field(default_factory=lambda: defaultdict(list))

    def answer(self, method: str, *files: str) -> None:
        self.answers[method].extend(files)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = await request.post()
        self.forms[method].append({k: v for k, v in form.items() if isinstance(v, str)})
        queue = self.answers.get(method)
        if not queue:
            return web.Response(status=404, text=f"no recording for {method}")
        name = queue.popleft() if len(queue) > 1 else queue[0]
        return web.Response(body=(RECORDED / name).read_bytes(), content_type="application/json")


@dataclass
class Env:
    site: RecordedSite
    platform: PremiumExchangerPlatform


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    site = RecordedSite()
    app = web.Application()
    app.router.add_post("/api/userapi/v1/{method}", site.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    client = PremiumExchangerClient(url, ApiCredentials(login="bot", key=SecretStr(KEY)), retries=0)
    platform = PremiumExchangerPlatform(client)
    try:
        yield Env(site, platform)
    finally:
        await platform.aclose()
        await runner.cleanup()


def partner(env: Env):
    return env.platform.cabinet(env.platform.credentials({"login": "partner15", "key": KEY}))


async def test_identity(env: Env) -> None:
    env.site.answer("test", "test.json", "test_user.json")
    system = await env.platform.self_check()
    assert system.ok and "System user" in system.message and "203.0.113.10" in system.message
    user = await env.platform.self_check()
    assert user.ok and "user 15" in user.message


async def test_catalogue(env: Env) -> None:
    env.site.answer("get_direction_currencies", "currencies.json")
    env.site.answer("get_directions", "directions.json")
    lists = await env.platform.customer().currencies()
    assert [c.id for c in lists.give] == ["5"] and lists.get[0].id == "3" and lists.get[0].logo is None
    (summary,) = await env.platform.customer().directions()
    assert (summary.id, summary.give.id, summary.get.title) == ("12", "5", "Tether TRC20 USDT")


async def test_direction_with_fields_as_an_object(env: Env) -> None:
    env.site.answer("get_direction", "direction_fields_object.json")
    d = await env.platform.customer("en").direction("12")
    assert env.site.forms["get_direction"] == [{"direction_id": "12"}]
    assert (d.id, d.give_rate, d.reserve) == ("12", Decimal(95), Decimal("50000.5"))
    assert d.give_amount_with_fees == Decimal("1010.5") and isinstance(d.give_amount_with_fees, Decimal)
    assert d.min_give is None and d.max_get is None and d.max_give == 500000 and d.min_get == 10
    assert d.sides == (AmountSide.GIVE, AmountSide.GET, AmountSide.GIVE_WITH_FEES)
    assert d.give_fee_text == '<span class="dir_com">1%</span>'
    assert (d.notes.timeline, d.notes.frozen, d.notes.before_confirm) == (
        "<p>5-30 min</p>", "<p>Frozen for a check</p>", "<br>Check it"
    )  # fmt: skip
    fields = {f.name: f for f in d.fields}
    assert list(fields) == ["account1", "cfgive3", "cfget2", "cf6", "cf12", "cf20"]
    account = fields["account1"]
    assert (account.kind, account.required, account.hint) == (FieldKind.TEXT, True, "Card number, 16 digits")
    assert account.purpose is FieldPurpose.GIVE_ACCOUNT
    assert fields["cfgive3"].options == [FieldOption("1", "Sber"), FieldOption("2", "Tinkoff")]
    assert fields["cfgive3"].required and not fields["cf6"].required
    assert fields["cf12"].options == [FieldOption("1", "I agree to the rules")]
    assert fields["cf12"].checkbox_text == "I agree to the rules"
    assert d.price_fields == [fields["cfget2"]]
    assert fields["cf20"].kind is FieldKind.TEXT  # an unknown type is text


async def test_direction_with_fields_as_a_list(env: Env) -> None:
    env.site.answer("get_direction", "direction_fields_list.json")
    d = await env.platform.customer().direction("14")
    assert [f.name for f in d.fields] == ["account1", "account2", "cfget1"]
    assert d.fields[1].kind is FieldKind.TEXTAREA and d.fields[1].max_length == 2000
    assert d.fields[2].options == [FieldOption("1", "TRC20"), FieldOption("2", "ERC20")]
    assert d.notes.timeline == "" and d.give_fee_text == "2.5%"
    assert d.sides == tuple(AmountSide)


@pytest.mark.parametrize("recording", ["direction_empty.json", "error_direction_not_found.json"])
async def test_unavailable_direction(env: Env, recording: str) -> None:
    env.site.answer("get_direction", recording)
    with pytest.raises(errors.DirectionUnavailable):
        await env.platform.customer().direction("12")
    assert len(env.site.forms["get_direction"]) == 1


async def test_quote(env: Env) -> None:
    env.site.answer("get_calc", "calc.json")
    q = await env.platform.customer().quote("12", Decimal(10000), AmountSide.GET_WITH_FEES, {"cfget2": "2"})
    assert q.adjusted and q.get_amount == Decimal("0.00153846") and q.min_give is None
    assert env.site.forms["get_calc"] == [
        {"direction_id": "12", "calc_amount": "10000", "calc_action": "4", "cd": "cfget2%3D2"}
    ]


async def test_bid_objects(env: Env) -> None:
    env.site.answer("bid_info", "bid.json", "bid_finished.json", "bid_crypto_link.json")
    customer = env.platform.customer()
    order = await customer.read_order(OrderRef(id="1234", secret=SecretStr("a1b2")))
    assert env.site.forms["bid_info"][0] == {"id": "1234", "hash": "a1b2"}
    assert order.ref.id == "1234" and order.ref.secret is not None
    assert order.ref.secret.get_secret_value() == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert (order.status.code, order.status.phase) == ("new", OrderPhase.AWAITING_PAYMENT)
    assert order.status.title == "Accepted, waiting to be paid"
    assert (order.give_title, order.get_title, order.get_amount) == ("Sber", "Tether TRC20", Decimal("105.2"))
    assert (
        order.payment is not None
        and order.payment.amount == Decimal(10000)
        and order.payment.currency_code == "RUB"
    )
    assert order.payment.address is None and order.payment.tag is None and order.payment.pay_url is None
    assert order.actions.cancel.mode is ActionMode.API and order.actions.mark_paid.mode is ActionMode.API

    finished = await customer.read_order(order.ref)
    assert finished.payment is None and finished.status.phase is OrderPhase.CONFIRMING_PAYMENT
    assert finished.actions.mark_paid.mode is ActionMode.DISABLED

    crypto = await customer.read_order(order.ref)
    assert crypto.payment is not None and (crypto.payment.address, crypto.payment.tag) == ("rAddr", "12345")
    assert crypto.payment.pay_url == "https://exchange.example/merchant/pay/ffee/"
    assert crypto.actions.cancel.mode is ActionMode.LINK and crypto.actions.cancel.url


async def test_actions(env: Env) -> None:
    env.site.answer("cancel_bid", "status_cancel.json", "error_action_disabled.json", "error_no_bid.json")
    env.site.answer("pay_bid", "error_maintenance_own_text.json")
    ref = OrderRef(id="1234", secret=SecretStr("a1b2"))
    customer = env.platform.customer()
    await customer.cancel_order(ref)
    assert env.site.forms["cancel_bid"] == [{"id": "1234", "hash": "a1b2"}]
    with pytest.raises(errors.ActionNotAllowed):
        await customer.cancel_order(ref)
    with pytest.raises(errors.OrderNotFound):
        await customer.cancel_order(ref)
    with pytest.raises(errors.Maintenance) as info:
        await customer.mark_paid(ref)
    assert info.value.text == "<p>We are moving to a new server. Back at 17:00.</p>"


async def test_placement(env: Env) -> None:
    env.site.answer("create_bid", "bid.json")
    request = OrderRequest(direction_id="12", amount=Decimal(10000), fields={"account2": "T9", "cf6": ""})
    placement = env.platform.placement
    order = await placement.place(request, "17", None, reserved_at=int(time.time()), retry=False)
    assert order.id == "1234"
    sent = env.site.forms["create_bid"][0]
    assert sent == {
        "direction_id": "12",
        "calc_amount": "10000",
        "calc_action": "1",
        "api_id": "17",
        "account2": "T9",
    }


async def test_placement_after_api_id_not_unique(env: Env) -> None:
    env.site.answer("create_bid", "error_api_id_not_unique.json")
    env.site.answer("get_exchanges", "exchanges.json", "list_empty.json")
    env.site.answer("bid_info", "bid_crypto_link.json")
    request = OrderRequest(direction_id="12", amount=Decimal(100))
    order = await env.platform.placement.place(
        request, "1700000000123456789", None, reserved_at=int(time.time()), retry=False
    )
    assert order.id == "1240" and env.site.forms["bid_info"] == [{"id": "1240", "hash": "ffee"}]
    listed_from = int(env.site.forms["get_exchanges"][0]["start_time"])
    assert listed_from <= time.time() - 14 * 3600  # allows for the site's UTC offset


async def test_placement_refusals(env: Env) -> None:
    env.site.answer("create_bid", "error_validation.json", "error_direction_prohibited.json")
    request = OrderRequest(direction_id="12", amount=Decimal(10))
    with pytest.raises(errors.ValidationFailed) as info:
        await env.platform.placement.place(request, "1", None, reserved_at=0, retry=False)
    assert info.value.field_errors == {
        "account2": '<span class="js_field_error">Invalid wallet</span>',
        AMOUNT_FIELD: "<span>Minimum amount is 1000 RUB</span>",
    }
    with pytest.raises(errors.DirectionProhibited):
        await env.platform.placement.place(request, "2", None, reserved_at=0, retry=False)
    assert "get_exchanges" not in env.site.forms


async def test_feed(env: Env) -> None:
    env.site.answer("get_exchanges", "exchanges.json")
    page = await env.platform.feed.changed_since(1_700_000_100)
    assert env.site.forms["get_exchanges"] == [{"start_time": "1699999800", "limit": "500"}]
    assert page.cursor == 1_700_000_300
    first, second = page.observations
    assert (first.order_id, first.status.code, first.changed_at, first.idempotency_key) == (
        "1240", "techpay", 1_700_000_300, "1700000000123456789"
    )  # fmt: skip
    assert second.idempotency_key is None and second.status.is_final


@pytest.mark.parametrize(
    ("recording", "error"),
    [
        ("error_api_disabled.json", errors.CredentialsRejected),
        ("error_ip_blocked.json", errors.IpNotAllowed),
        ("error_method_not_supported.json", errors.PermissionMissing),
        ("error_maintenance_ru.json", errors.Maintenance),
        ("error_empty_response.json", errors.UnexpectedResponse),
    ],
)
async def test_errors(env: Env, recording: str, error: type[errors.ExchangerError]) -> None:
    env.site.answer("get_direction_currencies", recording)
    with pytest.raises(error) as info:
        await env.platform.customer().currencies()
    assert info.value.method == "get_direction_currencies" and KEY not in str(info.value)


async def test_partner_cabinet(env: Env) -> None:
    env.site.answer("get_partner_info", "partner_info.json")
    # each list: the probe of check_key, then the pages and the empty one that ends them
    env.site.answer("get_partner_links", *["partner_links_without_id.json"] * 2, "list_empty.json")
    env.site.answer("get_partner_exchanges", *["partner_exchanges.json"] * 2, "list_empty.json")
    env.site.answer("get_partner_payouts", *["partner_payouts.json"] * 2, "list_empty.json")
    env.site.answer("add_partner_payout", "payout_id.json", "error_payout.json")
    env.site.answer("test", "test_user.json")
    cabinet = partner(env)
    check = await cabinet.check_key()
    assert (check.partner_id, check.label, dict(check.missing)) == ("15", "partner15", {})

    summary = await cabinet.summary()
    assert summary.balance == Decimal("12.5") and summary.balance_currency == ""
    assert [(m.id, m.fee_text, m.available) for m in summary.methods] == [
        ("3", "2%", Decimal("12.25")), ("4", "1%", Decimal("12.37"))
    ]  # fmt: skip

    clicks = [c async for c in cabinet.clicks(1_699_000_000, 1_700_100_000)]
    assert len(clicks) == 2 and all(c.id for c in clicks) and clicks[0].id != clicks[1].id
    assert clicks[0].query_string == "rid=15&utm_source=telegram" and clicks[1].time == 1_700_000_050
    exchanges = [e async for e in cabinet.exchanges(1_699_000_000, 1_700_100_000)]
    assert [(e.id, e.succeeded, e.accrued, e.reward) for e in exchanges] == [
        ("77", True, True, Decimal("0.35")), ("76", False, False, Decimal("0.17"))
    ]  # fmt: skip
    assert exchanges[1].status.phase is OrderPhase.PROCESSING and exchanges[0].status.is_final
    payouts = [p async for p in cabinet.payouts(1_699_000_000, 1_700_100_000)]
    assert [p.status for p in payouts] == [
        PayoutStatus.PENDING, PayoutStatus.PAID, PayoutStatus.REFUSED, PayoutStatus.CANCELLED
    ]  # fmt: skip
    assert payouts[0].method == "3" and payouts[0].original_amount == Decimal("10.2")

    assert await cabinet.request_payout("3", "T999") == "5"
    assert env.site.forms["add_partner_payout"][0] == {"method_id": "3", "account": "T999"}
    with pytest.raises(errors.PayoutRefused) as info:
        await cabinet.request_payout("3", "T999")
    assert info.value.text == "Payout amount is less than minimum" and info.value.reason == "minimum"
    assert len(env.site.forms["add_partner_payout"]) == 2  # never retried


@pytest.mark.parametrize(
    ("recording", "error"),
    [
        ("error_no_partner_id.json", errors.NotAPartner),
        ("error_no_active_partner_program.json", errors.PartnerProgramOff),
    ],
)
async def test_partner_errors(env: Env, recording: str, error: type[errors.ExchangerError]) -> None:
    env.site.answer("get_partner_info", recording)
    with pytest.raises(error):
        await partner(env).summary()
