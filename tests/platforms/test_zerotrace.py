"""The 0trace adapter over HTTP against its sandbox on loopback: signing, nonces, the Idempotency-Key
and the one-time token, error codes, the order lifecycle with EMERGENCY, and configuration."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.domain import errors
from bot.domain.models import (
    AmountSide,
    Attribution,
    DecisionReason,
    FieldPurpose,
    OrderPhase,
    OrderRef,
    OrderRequest,
)
from bot.observability import Metrics, deadline
from bot.platforms.base import OrderUnreachable, PlacementUncertain
from bot.platforms.registry import PlatformConfig, PlatformConfigError, open_platform
from bot.platforms.zerotrace import check_config
from bot.platforms.zerotrace.adapter import ZeroTracePlatform
from bot.platforms.zerotrace.budget import WeightBudget
from bot.platforms.zerotrace.client import ZeroTraceClient
from bot.platforms.zerotrace.placement import ZeroTracePlacement
from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
from bot.platforms.zerotrace.sandbox.keys import DEMO, DISABLED
from bot.platforms.zerotrace.signing import body_bytes, sign
from tests.platforms.zerotrace_harness import BTC_ADDRESS, ETH_ADDRESS, TRON_ADDRESS

PAIR = "usdt_trc20:btc"
FIELDS = {"toAddress": BTC_ADDRESS, "refundAddress": TRON_ADDRESS}


@pytest.fixture
async def zt() -> AsyncIterator[ZeroTracePlatform]:
    async with AsyncExitStack() as stack:
        config = PlatformConfig(name="0trace", site_url=None, sandbox_step_seconds=None)
        platform = await open_platform(config, stack)
        assert isinstance(platform, ZeroTracePlatform)
        platform.placement.retry_delay = 0.01
        platform.client.retry_delay = 0.01
        yield platform


def sb_of(platform: ZeroTracePlatform) -> ZeroTraceSandbox:
    assert platform.sandbox is not None
    return platform.sandbox


def request(amount: str = "100", **changes: object) -> OrderRequest:
    values: dict[str, object] = {"direction_id": PAIR, "amount": Decimal(amount), "fields": dict(FIELDS)}
    values.update(changes)
    return OrderRequest(**values)  # type: ignore[arg-type]


async def place(platform: ZeroTracePlatform, req: OrderRequest | None = None, key: str | None = None):
    placement = platform.placement
    req = req or request()
    await platform.customer().direction(req.direction_id)  # the flow reads the catalogue first
    key = key or placement.new_key()
    prepared = placement.prepare(req, key)
    return await placement.place(req, key, prepared, reserved_at=int(time.time()), retry=False)


def sent(sb: ZeroTraceSandbox, endpoint: str) -> list[tuple[dict[str, str], bytes]]:
    return [(headers, body) for name, headers, body in sb.received if name == endpoint]


# -- signing -----------------------------------------------------------------------------------------


def test_signature_is_lowercase_hex_hmac_of_the_exact_bytes() -> None:
    # Vectors computed with `printf '%s' BODY | openssl dgst -sha256 -hmac SECRET`.
    secret = "demo-api-secret-6b1e0c5f4a2d9e87"
    assert sign(secret, b"{}") == "eb1d2945b82155b3a7882b31aff9309c93d85e75c26ee1ad81dd0b474adc7b57"
    assert sign(secret, b"") == "c45b18c38ad43db816f1f96c7af39f2d8c5f0bc56d99ce38798350453cc8d06f"
    body = body_bytes({"id": "1f8c5e0b-9c92-4d6a-b0a8-3c5f8d6e7a4b", "token": "abc"})
    assert body == b'{"id":"1f8c5e0b-9c92-4d6a-b0a8-3c5f8d6e7a4b","token":"abc"}'
    assert sign(secret, body) == "f5c1c34f758d5a0c257789a5b9bfa05cd6e027ebe466735b1923762f06280fea"


def test_decimals_go_as_strings_never_floats() -> None:
    body = body_bytes({"amount": Decimal("0.01000000"), "n": 1})
    assert body == b'{"amount":"0.01000000","n":1}'
    with pytest.raises(ValueError):
        body_bytes({"amount": Decimal("NaN")})


async def test_create_sends_the_prepared_bytes_signed(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    req = request(attribution=Attribution(partner="TGBOT"))
    key = zt.placement.new_key()
    await zt.customer().direction(PAIR)
    prepared = zt.placement.prepare(req, key)
    order = await zt.placement.place(req, key, prepared, reserved_at=int(time.time()), retry=False)
    [(headers, body)] = sent(sb, "create")
    assert body == prepared and json.loads(body)["amount"] == "100"
    assert headers["X-API-SIGN"] == hmac.new(DEMO.secret.encode(), prepared, hashlib.sha256).hexdigest()
    assert headers["X-API-KEY"] == f"{DEMO.key}.TGBOT" and headers["Idempotency-Key"] == key
    assert sb.orders[order.id].code == "TGBOT" and sb.orders[order.id].quote.markup_bps == 100


async def test_catalogue_unsigned_price_and_codes_signed(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    customer = zt.customer("en")
    await customer.currencies()
    await customer.directions()
    await customer.quote(PAIR, Decimal(100), AmountSide.GIVE, {})
    assert all("X-API-KEY" not in h for h, _ in sent(sb, "currencies") + sent(sb, "pairs"))
    assert sb.requests["currencies"] == 1  # cached
    [(headers, _)] = sent(sb, "price")
    assert headers["X-API-KEY"] == DEMO.key and len(headers["X-API-NONCE"]) == 32
    check = await zt.self_check()
    assert check.ok, check.message
    [(headers, body)] = sent(sb, "codes")
    assert body == b"" and headers["X-API-SIGN"] == sign(DEMO.secret, b"")


async def test_nonce_is_fresh_on_every_retry(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    sb.faults.next("price", "http502")
    sb.faults.next("price", "html200")
    quote = await zt.customer().quote(PAIR, Decimal(100), AmountSide.GIVE, {})
    assert quote.give_amount == 100
    attempts = sent(sb, "price")
    assert len(attempts) == 3
    assert len({h["X-API-NONCE"] for h, _ in attempts}) == 3
    assert len({h["X-API-SIGN"] for h, _ in attempts}) == 1 and len({b for _, b in attempts}) == 1
    assert sb.reused_nonces == 0


# -- the Idempotency-Key and the one-time token ------------------------------------------------------


async def test_token_is_kept_secret_and_reaches_the_order(zt: ZeroTracePlatform, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    order = await place(zt)
    assert order.ref.secret is not None
    token = order.ref.secret.get_secret_value()
    assert len(token) == 43 and token not in repr(order) and token not in caplog.text
    read = await zt.customer().read_order(order.ref)
    assert read.id == order.id and read.status.code == "NEW"
    with pytest.raises(errors.OrderNotFound):
        await zt.customer().read_order(OrderRef(id=order.id, secret=SecretStr("x" * 43)))
    with pytest.raises(errors.OrderNotFound):
        await zt.customer().read_order(OrderRef(id=order.id))


async def test_lost_answer_gives_an_unreachable_order_once(zt: ZeroTracePlatform, caplog) -> None:
    sb = sb_of(zt)
    sb.faults.next("create", "drop")
    req = request()
    key = zt.placement.new_key()
    await zt.customer().direction(PAIR)
    prepared = zt.placement.prepare(req, key)
    with pytest.raises(OrderUnreachable) as info:
        await zt.placement.place(req, key, prepared, reserved_at=int(time.time()), retry=False)
    order = info.value.order
    assert order.ref.secret is None and order.id in caplog.text  # the abandoned id, for the operator
    attempts = sent(sb, "create")
    assert len(attempts) == 2 and sb.replays == 1 and len(sb.orders) == 1
    assert attempts[0][1] == attempts[1][1] == prepared
    assert attempts[0][0]["Idempotency-Key"] == attempts[1][0]["Idempotency-Key"] == key
    assert attempts[0][0]["X-API-NONCE"] != attempts[1][0]["X-API-NONCE"]
    # After a restart nothing knows the token either; find reports no usable order.
    fresh = ZeroTracePlacement(zt.client)
    assert await fresh.find(key, reserved_at=int(time.time())) is None
    # Replaying the stored bytes shows the order exists, but can't be followed: never "no order".
    with pytest.raises(OrderUnreachable):
        await zt.placement.find(key, reserved_at=int(time.time()))
    with pytest.raises(OrderUnreachable):
        await fresh.find(key, reserved_at=int(time.time()), prepared=prepared)
    assert len(sb.orders) == 1


async def test_late_commit_replays_without_a_second_order(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    sb.faults.next("create", "late_commit", seconds=0.3)
    with pytest.raises(OrderUnreachable):
        await place(zt)
    assert len(sb.orders) == 1 and sb.replays == 1


async def test_unprocessed_attempt_is_retried_into_a_reachable_order(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    sb.faults.next("create", "drop_before")
    sb.faults.next("create", "http502")
    order = await place(zt)
    assert order.ref.secret is not None and len(sb.orders) == 1 and sb.replays == 0


async def test_a_failing_exchange_leaves_the_placement_uncertain(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    sb.faults.next("create", "drop")
    sb.faults.next("create", "maintenance", times=2)
    with pytest.raises(PlacementUncertain):
        await place(zt)


async def test_an_error_is_counted_under_its_requests_method_label() -> None:
    metrics = Metrics()
    async with AsyncExitStack() as stack:
        config = PlatformConfig(
            name="0trace", site_url=None, sandbox_step_seconds=None, observer=metrics.exchanger("0trace")
        )
        platform = await open_platform(config, stack)
        assert isinstance(platform, ZeroTracePlatform)
        platform.client.retry_delay = 0.01
        await platform.customer().direction(PAIR)
        sb_of(platform).faults.next("price", "maintenance", times=3)
        with pytest.raises(errors.ExchangerError):
            await platform.customer().quote(PAIR, Decimal(100), AmountSide.GIVE, {})

    def methods(family: str) -> set[str]:
        text = metrics.render().decode()
        return {
            sample.labels["method"]
            for metric in text_string_to_metric_families(text)
            if metric.name == family
            for sample in metric.samples
            if sample.name == family + "_total"
        }

    errors_by_method = methods("bot_exchanger_errors")
    assert errors_by_method == {"POST /v1/price"} and errors_by_method <= methods("bot_exchanger_requests")


async def test_create_retries_stop_at_the_updates_deadline(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    sb.faults.next("create", "drop")  # processed, the answer lost: whether it exists is unknown
    with deadline.within(0.2), pytest.raises(PlacementUncertain) as info:  # no time for a second try
        await place(zt)
    assert "stopped at the update's deadline after 1 attempt" in str(info.value)
    assert sb.requests["create"] == 1


async def test_a_create_retry_after_past_the_deadline_is_not_waited_for(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    sb.faults.next("create", "ratelimit", seconds=3)  # not processed: a clear refusal
    with deadline.within(1.0), pytest.raises(errors.RateLimited):
        await place(zt)
    assert sb.requests["create"] == 1 and not sb.orders


async def test_same_key_with_other_bytes_is_a_conflict(zt: ZeroTracePlatform) -> None:
    key = zt.placement.new_key()
    await place(zt, key=key)
    other = ZeroTracePlacement(zt.client)  # another process: it doesn't know the token
    changed = request("150")
    with pytest.raises(errors.IdempotencyConflict):
        await other.place(changed, key, other.prepare(changed, key), reserved_at=int(time.time()), retry=True)


async def test_form_is_checked_per_network_before_sending(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    await zt.customer().direction(PAIR)
    bad = request(fields={"toAddress": ETH_ADDRESS, "refundAddress": "T123"})
    with pytest.raises(errors.ValidationFailed) as info:
        zt.placement.prepare(bad, zt.placement.new_key())
    assert set(info.value.field_errors) == {"toAddress", "refundAddress"}
    assert not sent(sb, "create")


# -- error codes -------------------------------------------------------------------------------------


async def test_limits_come_back_with_the_limit(zt: ZeroTracePlatform) -> None:
    direction = await zt.customer().direction(PAIR)
    with pytest.raises(errors.AmountOutOfLimits) as low:
        await place(zt, request("5"))
    assert low.value.code == "7" and low.value.minimum == direction.min_give and low.value.maximum is None
    with pytest.raises(errors.AmountOutOfLimits) as high:
        await place(zt, request("6000"))
    assert high.value.code == "8" and high.value.maximum == direction.max_give


@pytest.mark.parametrize(
    ("kind", "error"),
    [("maintenance", errors.Maintenance), ("upstream", errors.ExchangerUnavailable),
     ("http502", errors.UnexpectedResponse), ("html200", errors.UnexpectedResponse)],
)  # fmt: skip
async def test_unavailable_after_retries(zt: ZeroTracePlatform, kind: str, error: type) -> None:
    sb = sb_of(zt)
    sb.faults.next("price", kind, times=3)
    with pytest.raises(error):
        await zt.customer().quote(PAIR, Decimal(100), AmountSide.GIVE, {})
    assert sb.requests["price"] == 3


async def test_retry_after_is_honoured(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    sb.faults.next("price", "ratelimit", seconds=1)
    await zt.customer().quote(PAIR, Decimal(100), AmountSide.GIVE, {})
    assert sb.requests["price"] == 2  # waited the second out, then asked again
    sb.budget = 1  # spent: the answered price above
    with pytest.raises(errors.RateLimited) as info:
        await zt.customer().quote(PAIR, Decimal(100), AmountSide.GIVE, {})
    assert info.value.retry_after is not None and info.value.retry_after > 5
    assert zt.client.budget.wait_for(1) > 5  # and the client holds back on its own


def test_budget_keeps_room_for_creates() -> None:
    now = [0.0]
    budget = WeightBudget(limit=100, window=60, reserve=50, clock=lambda: now[0])
    budget._spent.extend([(0.0, 30), (10.0, 20)])
    assert budget.wait_for(1) == 60.0 - 0.0  # a read must leave 50 for creates: wait for the first to age
    assert budget.wait_for(50, create=True) == 0
    now[0] = 61.0
    assert budget.wait_for(1) == 0 and budget.used() == 20


async def test_wrong_secret_disabled_partner_and_codes(zt: ZeroTracePlatform) -> None:
    wrong = ZeroTraceClient(zt.site_url, SecretStr(DEMO.key), SecretStr("not-the-secret-000000"))
    off = ZeroTraceClient(zt.site_url, SecretStr(DISABLED.key), SecretStr(DISABLED.secret))
    try:
        with pytest.raises(errors.CredentialsRejected) as info:
            await wrong.codes()
        assert info.value.code == "3" and "not-the-secret" not in str(info.value)
        with pytest.raises(errors.CredentialsRejected) as info:
            await off.codes()
        assert info.value.code == "4"
        check = await ZeroTracePlatform(wrong, webhook_secret=None).self_check()
        assert not check.ok and "EXCHANGER_API_SECRET" in check.message
    finally:
        await wrong.aclose()
        await off.aclose()
    # A disabled reference code: 0trace refuses the key with it; the order is made without it.
    order = await place(zt, request(attribution=Attribution(partner="OLDCODE")))
    assert zt.sandbox is not None and zt.sandbox.orders[order.id].code is None


# -- the order's life --------------------------------------------------------------------------------


async def test_order_lifecycle(zt: ZeroTracePlatform) -> None:
    customer = zt.customer("en")
    order = await place(zt)
    assert order.status.phase is OrderPhase.AWAITING_PAYMENT and order.payment is not None
    payment = order.payment
    assert payment.address and payment.amount == Decimal(100) and payment.network == "Tron"
    assert payment.expires_at and payment.seconds_left and payment.currency_code == "USDT"
    assert order.refund_address == TRON_ADDRESS and order.get_currency_code == "BTC"
    assert not order.actions.continue_at_current_rate
    seen = [order]
    for _ in range(3):
        sb_of(zt).advance(order.id)
        seen.append(await customer.read_order(order.ref))
    assert [o.status.code for o in seen] == ["NEW", "PENDING", "EXCHANGE", "DONE"]
    assert [o.status.rank for o in seen] == sorted(o.status.rank for o in seen)
    assert seen[1].give_tx_id and seen[1].payment is None and seen[3].get_tx_id and seen[3].is_final


async def test_emergency_continue_at_current_rate(zt: ZeroTracePlatform) -> None:
    sb, customer = sb_of(zt), zt.customer("en")
    order = await place(zt)
    with pytest.raises(errors.ActionNotAllowed):  # not in EMERGENCY
        await customer.continue_order(order.ref)
    assert sb.deposit(order.id, Decimal(6000)) == "EMERGENCY"  # above the pair's USD bound
    stuck = await customer.read_order(order.ref)
    assert stuck.status.phase is OrderPhase.NEEDS_DECISION
    assert stuck.decision_reasons == [DecisionReason.AMOUNT_OUTSIDE_LIMITS]
    assert stuck.actions.continue_at_current_rate and not stuck.is_final
    await customer.continue_order(order.ref)
    chosen = await customer.read_order(order.ref)
    assert chosen.status.code == "EMERGENCY" and not chosen.actions.continue_at_current_rate
    sb.advance(order.id)
    moved = await customer.read_order(order.ref)
    assert moved.status.code == "EXCHANGE" and moved.status.rank >= stuck.status.rank
    with pytest.raises(errors.ActionNotAllowed):  # without the token only the operator can settle it
        await customer.continue_order(OrderRef(id=order.id))


async def test_emergency_settled_by_the_operator(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    order = await place(zt)
    sb.deposit(order.id, Decimal(1))
    sb.advance(order.id)
    read = await zt.customer().read_order(order.ref)
    assert read.status.code == "EXPIRED" and read.status.phase is OrderPhase.CANCELLED
    assert read.refund_tx_id and read.is_final


async def test_deleted_order_is_not_found_and_has_no_actions(zt: ZeroTracePlatform) -> None:
    sb, customer = sb_of(zt), zt.customer()
    order = await place(zt)
    sb.delete(order.id)
    with pytest.raises(errors.OrderNotFound):
        await customer.read_order(order.ref)
    with pytest.raises(errors.PermissionMissing):
        await customer.cancel_order(order.ref)
    with pytest.raises(errors.PermissionMissing):
        await customer.mark_paid(order.ref)


async def test_qr_is_a_png(zt: ZeroTracePlatform) -> None:
    order = await place(zt)
    png = await zt.customer().qr_png(order.ref)
    assert png.startswith(b"\x89PNG")


# -- the catalogue -----------------------------------------------------------------------------------


async def test_catalogue_shapes(zt: ZeroTracePlatform) -> None:
    customer = zt.customer("ru")
    lists = await customer.currencies()
    assert "dash" in {c.id for c in lists.give} and "dash" not in {c.id for c in lists.get}
    assert any(c.title == "USDT · Tron" for c in lists.give)
    assert all(not d.id.endswith(":dash") for d in await customer.directions())
    direction = await customer.direction(PAIR)
    names = {f.name: f for f in direction.fields}
    assert names["toAddress"].purpose is FieldPurpose.GET_ACCOUNT and names["toAddress"].required
    assert names["refundAddress"].purpose is FieldPurpose.REFUND_ADDRESS and names["refundAddress"].pattern
    assert "Адрес" in names["toAddress"].label and direction.floating_rate and direction.notes.before_confirm
    assert direction.min_usd == Decimal(10) and direction.max_usd == Decimal(5000)
    quote = await customer.quote(PAIR, Decimal(5), AmountSide.GIVE, {})
    assert quote.adjusted and quote.give_amount == direction.min_give
    on_get = await customer.quote(PAIR, quote.get_amount * 2, AmountSide.GET, {})
    assert on_get.get_amount == quote.get_amount * 2 and not on_get.adjusted and on_get.give_amount_usd


# -- configuration -----------------------------------------------------------------------------------


def test_check_config_names_the_missing_variable() -> None:
    secret = SecretStr("s3cret-value-123456")
    base = {"name": "0trace", "site_url": "https://0trace.io"}
    cases = [
        ({}, "EXCHANGER_API_KEY"),
        ({"api_key": secret}, "EXCHANGER_API_SECRET"),
        (
            {"api_key": secret, "api_secret": secret, "public_url": "https://bot.example"},
            "EXCHANGER_WEBHOOK_SECRET",
        ),
    ]
    for values, variable in cases:
        with pytest.raises(PlatformConfigError) as info:
            check_config(PlatformConfig(**base, **values))  # type: ignore[arg-type]
        assert variable in str(info.value) and "s3cret" not in str(info.value)
    check_config(PlatformConfig(**base, api_key=secret, api_secret=secret))  # polling only
    check_config(PlatformConfig(name="0trace", site_url=None))  # the sandbox


async def test_a_waiting_read_never_holds_up_a_create() -> None:
    now = [0.0]
    budget = WeightBudget(limit=100, window=60, reserve=50, clock=lambda: now[0])
    budget._spent.append((0.0, 50))
    read = asyncio.create_task(budget.take(1))  # over the readers' share: waits for the window
    await asyncio.sleep(0)
    await asyncio.wait_for(budget.take(50, create=True), 1)  # fits the reserve at once
    assert not read.done() and budget.used() == 100
    read.cancel()


async def test_double_tap_makes_one_reachable_order(zt: ZeroTracePlatform) -> None:
    req = request()
    await zt.customer().direction(PAIR)
    key = zt.placement.new_key()
    prepared = zt.placement.prepare(req, key)
    first, second = await asyncio.gather(
        zt.placement.place(req, key, prepared, reserved_at=int(time.time()), retry=False),
        zt.placement.place(req, key, prepared, reserved_at=int(time.time()), retry=True),
    )
    assert first.id == second.id and len(sb_of(zt).orders) == 1
    assert first.ref.secret is not None and second.ref.secret == first.ref.secret
    assert sb_of(zt).requests["create"] == 1  # the second tap read the order instead of replaying


async def test_status_words_map_to_phases_and_ranks(zt: ZeroTracePlatform) -> None:
    codes = ("NEW", "PENDING", "EXCHANGE", "EMERGENCY", "DONE", "EXPIRED")
    phases = {code: zt.status_of(code) for code in codes}
    assert phases["NEW"].phase is OrderPhase.AWAITING_PAYMENT and phases["PENDING"].rank > phases["NEW"].rank
    assert phases["EMERGENCY"].phase is OrderPhase.NEEDS_DECISION
    assert phases["EMERGENCY"].rank == phases["EXCHANGE"].rank > phases["PENDING"].rank  # either way round
    assert phases["DONE"].is_final and phases["EXPIRED"].is_final
    assert phases["DONE"].rank > phases["EXCHANGE"].rank
    assert not zt.status_of("SOMETHING_NEW").is_final


async def test_find_replays_a_recent_unanswered_key(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    sb.faults.next("create", "drop_before", times=3)  # nothing reached 0trace
    req = request()
    await zt.customer().direction(PAIR)
    key = zt.placement.new_key()
    prepared = zt.placement.prepare(req, key)
    with pytest.raises(PlacementUncertain):
        await zt.placement.place(req, key, prepared, reserved_at=int(time.time()), retry=False)
    assert not sb.orders
    assert await zt.placement.find(zt.placement.new_key(), reserved_at=int(time.time())) is None
    assert await zt.placement.find(key, reserved_at=int(time.time()) - 3600) is None  # too old to open now
    found = await zt.placement.find(key, reserved_at=int(time.time()))
    assert found is not None and found.ref.secret is not None and len(sb.orders) == 1
    assert sent(sb, "create")[-1][1] == prepared


async def test_polling_slows_down_instead_of_meeting_429(zt: ZeroTracePlatform) -> None:
    sb = sb_of(zt)
    order = await place(zt)
    sb.budget, sb.window = 12, 0.5
    await asyncio.sleep(0.6)  # the create's weight ages out of the short window
    zt.client.budget = WeightBudget(limit=12, window=0.6, reserve=2)
    customer = zt.customer()
    for _ in range(25):  # more than two windows' worth of reads
        await customer.read_order(order.ref)
    assert sb.rate_limited == 0 and sb.requests["order"] == 25
