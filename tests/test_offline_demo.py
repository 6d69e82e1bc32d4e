"""The terminal chat's demo controls (``!``) on the embedded sandboxes, as ``exchanger-bot chat`` runs
them (``bot.app.cli.terminal_bot``: the real Dispatcher on the fake Telegram session, notifications and
the bot's web server on loopback). A control changes the sandbox the way a customer or the exchanger's
staff would; the sandbox's signed webhook reaches the bot, and the bot tells the chat."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from bot.app.cli import terminal_bot, terminal_chat_settings
from bot.app.wiring import Services
from bot.domain.models import OrderRequest
from bot.platforms.iexexchanger.sandbox.keys import FULL, PARTNER_CLIENT
from bot.platforms.zerotrace.sandbox.keys import DEMO as ZT_DEMO
from offline.demo import controls_for
from offline.fake_session import SessionEvent, ShownMessage
from offline.terminal_chat import TerminalChat
from tests.conftest import make_settings
from tests.sandbox_forms import FIELDS_102

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
TRON_ADDRESS = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"


class Demo:
    """A terminal chat on a running bot, and what the bot shows in its chat."""

    def __init__(self, chat: TerminalChat, out: io.StringIO, services: Services) -> None:
        self.chat, self.out, self.services = chat, out, services
        self.platform = services.platform
        self.shown: list[ShownMessage] = []
        self._changed = asyncio.Event()
        chat.session.subscribe(self._hear, chat_id=chat.client.chat.id)

    def _hear(self, event: SessionEvent) -> None:
        if event.kind in ("sent", "edited") and event.message is not None and event.message.from_bot:
            self.shown.append(event.message)
            self._changed.set()

    async def wait_for(self, found: Callable[[ShownMessage], bool], seconds: float = 20.0) -> ShownMessage:
        """The first message the bot has shown in the chat that ``found`` accepts, waiting for it
        (the sandbox's webhook and the notification sender run in the background)."""

        async def first() -> ShownMessage:
            seen = 0
            while True:
                for message in self.shown[seen:]:
                    if found(message):
                        return message
                seen = len(self.shown)
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(first(), seconds)


async def _demo(settings) -> AsyncIterator[Demo]:
    async with terminal_bot(settings, sandbox_step_seconds=None) as (services, dp, bot):
        out = io.StringIO()
        controls = controls_for(services.platform)
        chat = TerminalChat(dp, bot, stdin=io.StringIO(), stdout=out, controls=controls)
        yield Demo(chat, out, services)


@pytest.fixture
async def zerotrace(tmp_path: Path) -> AsyncIterator[Demo]:
    async for demo in _demo(make_settings(tmp_path, None, exchanger_platform="0trace")):
        yield demo


@pytest.fixture
async def iex(tmp_path: Path) -> AsyncIterator[Demo]:
    async for demo in _demo(make_settings(tmp_path, None, exchanger_platform="iexexchanger")):
        yield demo


async def test_help_lists_the_controls_and_unknown_ones_are_refused(zerotrace: Demo) -> None:
    answer = await zerotrace.chat.demo("!help")
    assert "!deposit [AMOUNT]" in answer and "!advance" in answer and "!expire" in answer
    assert "[sandbox] Demo controls" in zerotrace.out.getvalue()
    assert "No demo control !rm" in await zerotrace.chat.demo("!rm -rf")
    assert await zerotrace.chat.demo("!deposit") == "No order yet: make one first."
    assert "Not an amount" in await zerotrace.chat.demo("!deposit lots")


async def test_an_out_of_bounds_deposit_puts_the_order_in_emergency_and_the_customer_is_told(
    zerotrace: Demo,
) -> None:
    chat, client = zerotrace.chat, zerotrace.chat.client
    await client.send("/exchange")
    await client.click("USDT · Tron")
    await client.click("BTC · Bitcoin")
    await client.send("100")
    await client.send(BTC_ADDRESS)
    await client.send(TRON_ADDRESS)
    await client.click("✅ Confirm")
    sandbox = zerotrace.platform.sandbox  # type: ignore[attr-defined]
    [order] = sandbox.orders_of(ZT_DEMO.key)
    assert order.status == "NEW"

    await chat.handle("!deposit 7")  # below the pair's USD 10 minimum, as typed at the terminal
    assert order.status == "EMERGENCY" and order.deposit_amount == Decimal("7")
    assert f"Deposited 7 USDT to order {order.id[:8]}" in zerotrace.out.getvalue()
    told = await zerotrace.wait_for(lambda m: "needs your decision" in m.text)
    assert told.text.startswith("🔔 Order #") and "100.00\xa0USDT" in told.text
    card = await client.click(told.button_labels()[0], told)  # the notification opens the order
    assert "outside the allowed limits" in card.text
    assert "▶️ Continue at the current rate" in card.last.button_labels()
    deliveries = [d for d in sandbox.webhooks.records if b'"EMERGENCY"' in d.body]
    assert deliveries and deliveries[0].ok, "the sandbox's signed webhook was accepted by the bot"


async def test_paying_a_payout_sends_a_signed_webhook_that_reaches_the_partner(iex: Demo) -> None:
    chat, client = iex.chat, iex.chat.client
    await client.send("/login")
    await client.send(FULL.token)
    sandbox = iex.platform.sandbox  # type: ignore[attr-defined]
    [endpoint] = sandbox.webhooks.of_client(PARTNER_CLIENT.id)
    assert endpoint.url.startswith("http://127.0.0.1:"), "/login registered the chat's own web server"

    answer = await chat.demo("!payout 12.50")
    payout = sandbox.accounts[PARTNER_CLIENT.id].payouts[-1]
    assert payout.status == "pending" and payout.amount == Decimal("12.50")
    assert f"payout {payout.id}" in answer
    await chat.handle("!pay")
    assert payout.status == "paid" and payout.tx_id
    assert "webhook answered 200" in iex.out.getvalue()
    told = await iex.wait_for(lambda m: m.text.startswith("💸 Payout"))
    assert payout.tx_id in told.text
    assert "No pending payout" in await chat.demo(f"!pay {payout.id}")


async def test_premiumexchanger_advance_moves_the_latest_order_and_the_callback_is_told(
    tmp_path: Path, sandbox
) -> None:
    async for demo in _demo(make_settings(tmp_path / "embedded", None)):
        assert [c.name for c in demo.chat.controls.values()] == ["advance"]
        assert await demo.chat.demo("!advance") == "No order yet: make one first."
        ordering = demo.services.ordering
        direction = await demo.platform.customer().direction("102")
        placed = await ordering.place(
            chat_id=demo.chat.client.chat.id,
            key=ordering.new_key(),
            direction=direction,
            request=OrderRequest(direction_id="102", amount=Decimal("10000"), fields=FIELDS_102),
        )
        bid = demo.platform.sandbox.bids[int(placed.order.id)]  # type: ignore[attr-defined]
        before = bid.status
        answer = await demo.chat.demo("!advance")
        assert bid.status != before and answer == f"Order {bid.id}: {before} → {bid.status}."
        told = await demo.wait_for(lambda m: m.text.startswith("🔔"))
        assert told.text.startswith(f"🔔 Order #{bid.id}: Order is paid")
        callbacks = demo.platform.sandbox.callbacks  # type: ignore[attr-defined]
        assert [(c["form"]["status"], c["ok"]) for c in callbacks] == [(bid.status, True)]
        assert callbacks[0]["url"].startswith("http://127.0.0.1:"), "the chat's own web server took it"
    # EXCHANGER_URL set (here: a sandbox started apart, as a real site would be): no controls, and no
    # PUBLIC_URL of the chat's own, which such a site could not reach.
    settings = make_settings(tmp_path / "remote", sandbox.url)
    assert terminal_chat_settings(settings).public_url is None
    async for demo in _demo(settings):
        assert demo.chat.controls == {}
        assert "not on an embedded sandbox" in await demo.chat.demo("!deposit")
