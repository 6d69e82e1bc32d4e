"""The neutral platform contract, run against every platform in conftest.PLATFORMS over loopback HTTP.

Only :mod:`bot.platforms.base` and :mod:`bot.domain` are used here; a capability the platform does not
declare is skipped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp import web

from bot.domain import errors
from bot.domain.capabilities import Capability, PartnerCredentials
from bot.domain.models import (
    AMOUNT_FIELD,
    ActionMode,
    Attribution,
    Direction,
    FieldKind,
    Order,
    OrderPhase,
    OrderRequest,
)
from bot.platforms.base import OrderUnreachable, PlacementUncertain
from tests.platforms.harness import Harness


def requires(harness: Harness, *capabilities: Capability) -> None:
    if not harness.platform.info.serves(*capabilities):
        pytest.skip(f"{harness.platform.info.name} does not serve {', '.join(capabilities)}")


def request_for(harness: Harness, **changes: object) -> OrderRequest:
    values: dict[str, object] = {
        "direction_id": harness.direction_id,
        "amount": harness.amount,
        "fields": dict(harness.fields),
    }
    values.update(changes)
    return OrderRequest(**values)  # type: ignore[arg-type]


async def place(harness: Harness, request: OrderRequest | None = None, key: str | None = None) -> Order:
    placement = harness.platform.placement
    assert placement is not None
    key = key or placement.new_key()
    request = request or request_for(harness)
    return await placement.place(
        request, key, placement.prepare(request, key), reserved_at=int(time.time()), retry=False
    )


async def direction_of(harness: Harness) -> Direction:
    return await harness.platform.customer("en").direction(harness.direction_id)


def cabinet_of(harness: Harness, values: object = None):
    values = values if values is not None else harness.partner_credentials
    assert values is not None
    return harness.platform.cabinet(harness.platform.credentials(values), "en")  # type: ignore[arg-type]


# -- the declaration ---------------------------------------------------------------------------------


async def test_declaration_matches_the_pieces(harness: Harness) -> None:
    platform, info = harness.platform, harness.platform.info
    assert info.name and info.title and info.capabilities
    assert (platform.placement is not None) == info.serves(Capability.ORDERS)
    assert (platform.feed is not None) == info.serves(Capability.ORDER_FEED)
    assert (platform.links is not None) == info.serves(Capability.REFERRAL_LINKS)
    for name in ("placement", "feed", "links", "webhooks"):  # None where not served, never missing
        assert hasattr(platform, name), name
    if not info.serves(Capability.PUSH_WEBHOOK):
        assert platform.webhooks is None
    assert platform.site_url.startswith("http") and not platform.site_url.endswith("/")
    assert info.amount_sides and len(set(info.amount_sides)) == len(info.amount_sides)
    if info.has_partner_cabinet:
        assert info.credential_fields and any(f.secret for f in info.credential_fields)


async def test_self_check(harness: Harness) -> None:
    check = await harness.platform.self_check()
    assert check.ok and check.message


async def test_credentials_hide_secrets(harness: Harness) -> None:
    if harness.partner_credentials is None:
        pytest.skip("no partner key to link")
    credentials = harness.platform.credentials(harness.partner_credentials)
    assert isinstance(credentials, PartnerCredentials) and credentials.label
    secret_fields = {f.name for f in harness.platform.info.credential_fields if f.secret}
    for name in secret_fields:
        value = harness.partner_credentials[name]
        assert value not in repr(credentials) and value not in str(credentials)
        assert value != credentials.label


# -- catalogue and quotes ----------------------------------------------------------------------------


async def test_catalogue(harness: Harness) -> None:
    requires(harness, Capability.CATALOGUE)
    customer = harness.platform.customer("en")
    currencies = await customer.currencies()
    assert currencies.give and currencies.get and all(c.id and c.title for c in currencies.give)
    summaries = await customer.directions()
    assert harness.direction_id in {d.id for d in summaries}
    direction = await customer.direction(harness.direction_id)
    assert direction.id == harness.direction_id and direction.give_rate > 0 and direction.get_rate > 0
    assert direction.fields and {f.name for f in direction.fields} >= set(harness.fields)
    assert set(direction.sides) <= set(harness.platform.info.amount_sides)
    for field in direction.fields:
        if field.kind is FieldKind.SELECT:
            assert field.options and all(o.key and o.label for o in field.options)
        if field.kind is FieldKind.CHECKBOX:
            assert len(field.options) == 1 and field.checkbox_text


async def test_unknown_direction_is_unavailable(harness: Harness) -> None:
    requires(harness, Capability.CATALOGUE)
    with pytest.raises(errors.DirectionUnavailable) as info:
        await harness.platform.customer().direction(harness.unknown_direction_id)
    assert not isinstance(info.value, errors.ExchangerUnavailable)


async def test_quote_on_every_declared_side(harness: Harness) -> None:
    requires(harness, Capability.QUOTE)
    customer = harness.platform.customer("en")
    direction = await customer.direction(harness.direction_id)
    price_fields = {
        f.name: harness.fields[f.name] for f in direction.price_fields if f.name in harness.fields
    }
    base = await customer.quote(harness.direction_id, harness.amount, direction.sides[0], price_fields)
    assert not base.adjusted and base.give_amount == harness.amount
    for side in harness.platform.info.amount_sides:
        amount = base.amount_on(side)
        assert amount is not None and amount > 0, side
        quote = await customer.quote(harness.direction_id, amount, side, price_fields)
        assert quote.amount_on(side) == amount or quote.adjusted, side
        assert quote.give_rate == base.give_rate and quote.get_rate == base.get_rate
    tiny = await customer.quote(harness.direction_id, Decimal("0.01"), direction.sides[0], price_fields)
    assert tiny.adjusted or (direction.min_give is None and direction.min_get is None)


# -- orders ------------------------------------------------------------------------------------------


async def test_place_exactly_once_per_key(harness: Harness) -> None:
    requires(harness, Capability.ORDERS)
    placement = harness.platform.placement
    assert placement is not None
    before = harness.orders_created()
    key = placement.new_key()
    first = await place(harness, key=key)
    again = await place(harness, key=key)
    assert first.id == again.id and harness.orders_created() == before + 1
    assert first.status.phase is OrderPhase.AWAITING_PAYMENT and not first.is_final
    assert placement.new_key() != key
    found = await placement.find(key, reserved_at=int(time.time()))
    assert found is not None and found.id == first.id
    assert await placement.find(placement.new_key(), reserved_at=int(time.time())) is None


async def _lost_answer_loses_the_secret(
    harness: Harness, request: OrderRequest, key: str, prepared: bytes | None, reserved_at: int,
    lookup_fails: bool, before: int,
) -> None:  # fmt: skip
    """Platforms whose per-order secret comes only in the create answer (``secret_lost_with_answer``):
    the order exists once, is reported unreachable (never payable), and a fresh key places a new one."""
    placement = harness.platform.placement
    assert placement is not None
    expected = PlacementUncertain if lookup_fails else OrderUnreachable
    with pytest.raises(expected):
        await placement.place(request, key, prepared, reserved_at=reserved_at, retry=False)
    with pytest.raises(OrderUnreachable) as info:
        await placement.place(request, key, prepared, reserved_at=reserved_at, retry=True)
    assert info.value.order.ref.secret is None and harness.orders_created() == before + 1
    fresh_key = placement.new_key()
    fresh = await placement.place(
        request, fresh_key, placement.prepare(request, fresh_key), reserved_at=reserved_at, retry=False
    )
    assert fresh.id != info.value.order.id and fresh.ref.secret is not None
    assert harness.orders_created() == before + 2


@pytest.mark.parametrize("lookup_fails", [False, True], ids=["lookup-ok", "lookup-fails"])
async def test_lost_answer_never_makes_two_orders(harness: Harness, lookup_fails: bool) -> None:
    requires(harness, Capability.ORDERS)
    placement = harness.platform.placement
    assert placement is not None
    before = harness.orders_created()
    key = placement.new_key()
    request = request_for(harness)
    prepared = placement.prepare(request, key)
    reserved_at = int(time.time())
    harness.lose_next_placement(lookup_fails=lookup_fails)
    if harness.secret_lost_with_answer:
        await _lost_answer_loses_the_secret(
            harness, request, key, prepared, reserved_at, lookup_fails, before
        )
        return
    try:
        first: Order | None = await placement.place(
            request, key, prepared, reserved_at=reserved_at, retry=False
        )
    except PlacementUncertain:
        first = None
    assert first is not None or lookup_fails
    retried = await placement.place(request, key, prepared, reserved_at=reserved_at, retry=True)
    assert first is None or retried.id == first.id
    assert harness.orders_created() == before + 1


async def test_refusals_name_the_fields(harness: Harness) -> None:
    requires(harness, Capability.ORDERS)
    direction = await direction_of(harness)
    before = harness.orders_created()
    with pytest.raises((errors.ValidationFailed, errors.AmountOutOfLimits)) as info:
        await place(harness, request_for(harness, amount=Decimal("0.01")))
    if isinstance(info.value, errors.ValidationFailed):
        assert AMOUNT_FIELD in info.value.field_errors
    required = [f for f in direction.fields if f.required]
    with pytest.raises(errors.ValidationFailed) as info:
        await place(harness, request_for(harness, fields={}))
    assert set(info.value.field_errors) <= {f.name for f in direction.fields} | {AMOUNT_FIELD}
    assert {f.name for f in required} & set(info.value.field_errors)
    assert harness.orders_created() == before


async def test_read_mark_paid_and_cancel(harness: Harness) -> None:
    requires(harness, Capability.ORDERS)
    customer = harness.platform.customer("en")
    order = await place(harness)
    if order.ref.secret is not None:  # (a site may put it in the customer's own order page URL)
        assert order.ref.secret.get_secret_value() not in repr(order.ref) + str(order.ref)
    read = await customer.read_order(order.ref)
    # The platform's own code always; its title only where it gives one (0trace gives none).
    assert read.id == order.id and read.status.code == order.status.code
    assert read.status.title or not harness.gives_status_titles
    assert read.give_amount and read.give_currency_code
    if read.payment is not None:
        assert read.payment.amount or read.payment.instruction or read.payment.pay_url

    if harness.platform.info.serves(Capability.MARK_PAID):
        assert read.actions.mark_paid.mode is ActionMode.API
        await customer.mark_paid(order.ref)
        paid = await customer.read_order(order.ref)
        assert paid.status.phase is not OrderPhase.AWAITING_PAYMENT and paid.status.rank > read.status.rank
        assert paid.payment is None

    if harness.platform.info.serves(Capability.CANCEL):
        other = await place(harness)
        assert other.actions.cancel.mode is ActionMode.API
        await customer.cancel_order(other.ref)
        cancelled = await customer.read_order(other.ref)
        assert cancelled.status.phase is OrderPhase.CANCELLED and cancelled.is_final
        assert cancelled.status.rank > other.status.rank


async def test_attributed_order(harness: Harness) -> None:
    requires(harness, Capability.ORDERS, Capability.PARTNER_EXCHANGES)
    assert harness.partner_id is not None
    order = await place(harness, request_for(harness, attribution=Attribution(partner=harness.partner_id)))
    start, end = harness.busy_period()
    ids = {e.id async for e in cabinet_of(harness).exchanges(start, end)}
    assert order.id in ids


# -- status changes ----------------------------------------------------------------------------------


async def test_feed_sees_a_status_change(harness: Harness) -> None:
    requires(harness, Capability.ORDER_FEED, Capability.ORDERS)
    feed = harness.platform.feed
    assert feed is not None
    order = await place(harness)
    page = await feed.changed_since(1)
    mine = [o for o in page.observations if o.order_id == order.id]
    assert mine and mine[0].status.code == order.status.code and page.cursor >= (mine[0].changed_at or 0)
    await asyncio.sleep(1.05)  # a change in a later second than the cursor
    await harness.advance(order)
    later = await feed.changed_since(page.cursor)
    changed = [o for o in later.observations if o.order_id == order.id]
    assert changed and changed[0].status.code != order.status.code
    assert changed[0].status.rank > order.status.rank and later.cursor > page.cursor
    assert len({o.order_id for o in later.observations}) == len(later.observations)


async def test_push_callback_arrives_after_a_change(harness: Harness) -> None:
    requires(harness, Capability.PUSH_CALLBACK, Capability.ORDERS)
    received: asyncio.Queue[str] = asyncio.Queue()

    async def hit(request: web.Request) -> web.Response:
        await request.read()
        received.put_nowait(request.path)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/push/{token}", hit)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        order = await place(harness, request_for(harness, push_url=f"http://127.0.0.1:{port}/push/s3cret"))
        await harness.advance(order)
        assert await asyncio.wait_for(received.get(), 10) == "/push/s3cret"
    finally:
        await runner.cleanup()


# -- partner cabinet ---------------------------------------------------------------------------------


async def test_check_key(harness: Harness) -> None:
    requires(harness, Capability.PARTNER_SUMMARY)
    check = await cabinet_of(harness).check_key()
    assert check.partner_id and check.label and not check.missing
    secret_fields = {f.name for f in harness.platform.info.credential_fields if f.secret}
    for name, value in harness.partner_credentials.items():  # type: ignore[union-attr]
        if name in secret_fields and value != check.label:
            assert value not in repr(check)
    if harness.non_partner_credentials is not None:
        with pytest.raises(errors.NotAPartner):
            await cabinet_of(harness, harness.non_partner_credentials).check_key()
    wrong = {**harness.partner_credentials}  # type: ignore[dict-item]
    secret = next(f.name for f in harness.platform.info.credential_fields if f.secret)
    wrong[secret] = "x" * 32
    with pytest.raises(errors.CredentialsRejected):
        await cabinet_of(harness, wrong).check_key()


async def test_summary(harness: Harness) -> None:
    requires(harness, Capability.PARTNER_SUMMARY)
    summary = await cabinet_of(harness).summary()
    check = await cabinet_of(harness).check_key()
    assert summary.partner_id == check.partner_id
    if not harness.platform.info.serves(Capability.PAYOUT_REQUEST):  # a cabinet without payouts
        assert summary.balance is not None or summary.exchanges
        return
    assert summary.balance is not None and summary.balance > 0
    assert summary.methods and all(m.id and m.title for m in summary.methods)


@pytest.mark.parametrize(
    ("capability", "listing"),
    [
        (Capability.PARTNER_CLICKS, "clicks"),
        (Capability.PARTNER_EXCHANGES, "exchanges"),
        (Capability.PARTNER_PAYOUTS, "payouts"),
    ],
)
async def test_partner_lists_are_read_to_the_end(
    harness: Harness, capability: Capability, listing: str
) -> None:
    requires(harness, capability)
    start, end = harness.busy_period()
    items: AsyncIterator = getattr(cabinet_of(harness), listing)(start, end)
    read = [item async for item in items]
    assert len(read) == harness.partner_counts(start, end)[listing] > 0
    assert len({item.id for item in read}) == len(read)
    assert all(start <= item.time <= end for item in read)
    if listing == "clicks":
        assert len(read) > 500  # more than one page


async def test_request_payout(harness: Harness) -> None:
    requires(harness, Capability.PAYOUT_REQUEST, Capability.PARTNER_PAYOUTS)
    cabinet = cabinet_of(harness)
    summary = await cabinet.summary()
    payout_id = await cabinet.request_payout(summary.methods[0].id, harness.payout_account)
    start, end = harness.busy_period()
    payouts = [p async for p in cabinet.payouts(start, end)]
    assert payout_id in {p.id for p in payouts}
    with pytest.raises(errors.PayoutRefused) as info:
        await cabinet.request_payout(summary.methods[0].id, harness.payout_account)  # the balance is gone
    assert info.value.text


# -- referral links ----------------------------------------------------------------------------------


async def test_referral_link_keeps_the_reserved_params(harness: Harness) -> None:
    requires(harness, Capability.REFERRAL_LINKS)
    links = harness.platform.links
    assert links is not None and links.reserved_params
    reserved = sorted(links.reserved_params)[0]
    params = {"utm_source": "telegram", "utm_campaign": "весна 2024", reserved: "999"}
    link = links.link("7", params)
    parts = urlsplit(link)
    assert link.startswith(harness.platform.site_url + "/")
    query = parse_qsl(parts.query)
    assert [v for k, v in query if k == reserved] == ["7"]
    assert ("utm_campaign", "весна 2024") in query and ("utm_source", "telegram") in query
    has_pages = harness.platform.info.serves(Capability.CATALOGUE)
    page = (has_pages and (await direction_of(harness)).url) or harness.platform.site_url + "/somewhere/"
    on_page = links.link("7", {"utm_source": "x"}, page_url=page)
    assert on_page.startswith(page.split("?")[0]) and ("utm_source", "x") in parse_qsl(
        urlsplit(on_page).query
    )
