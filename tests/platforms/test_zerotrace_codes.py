"""0trace reference codes through the adapter (``platform.codes``) against the embedded sandbox over
HTTP: list, create, enable/disable, referral links; and an order placed with a code's attribution
reaches the sandbox credited to that code (``X-API-KEY key.code``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from decimal import Decimal

import pytest

from bot.domain.capabilities import Capability
from bot.domain.errors import ValidationFailed
from bot.domain.models import AmountSide, Attribution, OrderRequest
from bot.platforms.base import ReferenceCodes
from bot.platforms.registry import PlatformConfig, open_platform
from bot.platforms.zerotrace.adapter import ZeroTracePlatform
from bot.platforms.zerotrace.sandbox.keys import DEMO
from tests.platforms.zerotrace_harness import BTC_ADDRESS, TRON_ADDRESS


@pytest.fixture
async def zt() -> AsyncIterator[ZeroTracePlatform]:
    async with AsyncExitStack() as stack:
        config = PlatformConfig(name="0trace", site_url=None, sandbox_step_seconds=None)
        platform = await open_platform(config, stack)
        assert isinstance(platform, ZeroTracePlatform)
        platform.placement.retry_delay = 0.01
        platform.client.retry_delay = 0.01
        yield platform


def sandbox_codes(zt: ZeroTracePlatform):  # type: ignore[no-untyped-def]
    assert zt.sandbox is not None
    return zt.sandbox.partners[DEMO.key].codes


async def test_codes_are_declared_and_listed_newest_first(zt: ZeroTracePlatform) -> None:
    assert zt.info.serves(Capability.REFERENCE_CODES)
    codes: ReferenceCodes = zt.codes
    listed = await codes.list()
    assert [c.code for c in listed] == ["OLDCODE", "TGBOT"]
    tgbot = listed[1]
    assert (tgbot.label, tgbot.markup_bps, tgbot.enabled) == ("telegram bot", 100, True)
    assert listed[0].enabled is False


async def test_create_sends_the_fields_and_returns_the_code(zt: ZeroTracePlatform) -> None:
    created = await zt.codes.create("new_code-1", "  ", 2000)
    assert (created.code, created.label, created.markup_bps, created.enabled) == (
        "new_code-1",
        None,
        2000,
        True,
    )
    stored = sandbox_codes(zt)["new_code-1"]
    assert (stored.label, stored.afftax_bps) == (None, 2000)
    with pytest.raises(ValidationFailed):
        await zt.codes.create("new_code-1", None, 0)  # taken


@pytest.mark.parametrize(
    ("code", "bps"), [("abc", 0), ("has.dot", 0), ("x" * 33, 0), ("okcode", 2001), ("okcode", -1)]
)
async def test_create_refuses_bad_values_before_sending(zt: ZeroTracePlatform, code: str, bps: int) -> None:
    with pytest.raises(ValueError):
        await zt.codes.create(code, None, bps)
    assert code not in sandbox_codes(zt)


async def test_enable_and_disable(zt: ZeroTracePlatform) -> None:
    off = await zt.codes.set_enabled("TGBOT", False)
    assert off.enabled is False and sandbox_codes(zt)["TGBOT"].enabled is False
    on = await zt.codes.set_enabled("TGBOT", True)
    assert on.enabled is True and sandbox_codes(zt)["TGBOT"].enabled is True
    with pytest.raises(ValidationFailed):
        await zt.codes.set_enabled("NOSUCH", True)


async def test_referral_links_with_an_optional_pair(zt: ZeroTracePlatform) -> None:
    assert await zt.codes.link("TGBOT") == "https://0trace.io/r/TGBOT"
    assert (
        await zt.codes.link("TGBOT", "usdt_trc20", "btc")
        == "https://0trace.io/r/TGBOT?from=usdt_trc20&to=btc"
    )
    assert await zt.codes.link("TGBOT", None, "btc") == "https://0trace.io/r/TGBOT?to=btc"
    with pytest.raises(ValueError):
        await zt.codes.link("TGBOT", "usdt_trc20", "nope")
    with pytest.raises(ValueError):
        await zt.codes.link("bad/code")


def _request(code: str | None) -> OrderRequest:
    return OrderRequest(
        direction_id="usdt_trc20:btc",
        amount=Decimal(100),
        side=AmountSide.GIVE,
        fields={"toAddress": BTC_ADDRESS, "refundAddress": TRON_ADDRESS},
        attribution=None if code is None else Attribution(partner=code),
    )


async def test_an_attributed_order_is_credited_to_the_code(zt: ZeroTracePlatform) -> None:
    placement = zt.placement
    key = placement.new_key()
    request = _request("TGBOT")
    order = await placement.place(request, key, placement.prepare(request, key), reserved_at=0, retry=False)
    assert zt.sandbox is not None
    (made,) = zt.sandbox.orders_of(DEMO.key)
    assert made.id == order.id and made.code == "TGBOT"


async def test_a_disabled_code_still_lets_the_customer_exchange(zt: ZeroTracePlatform) -> None:
    """0trace refuses a key carrying a disabled code; the order goes through without the code, once."""
    await zt.codes.set_enabled("TGBOT", False)
    placement = zt.placement
    key = placement.new_key()
    request = _request("TGBOT")
    order = await placement.place(request, key, placement.prepare(request, key), reserved_at=0, retry=False)
    assert zt.sandbox is not None
    created = zt.sandbox.orders_of(DEMO.key)
    assert [o.id for o in created] == [order.id] and order.ref.secret is not None
    assert all(o.code is None for o in created)  # not credited to the disabled code
