"""An order key sent without a clear answer carries only the request it was sent with: until the
exchange has settled it, the draft can't change (the customer is told it is still being checked, with
Try again and Cancel), and a retry never sends another amount or other answers under it. Also: the
exchange's refusals at create listed within Telegram's limits, refused directions' stale buttons, the
option-price cache bounded, amounts meaning what was typed.

Through the real Dispatcher and the sandbox exchangers over HTTP, in English and Russian."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import pytest
from aiogram import Bot

from bot.app.dispatcher import build_dispatcher
from bot.app.wiring import Services, open_services
from bot.domain.models import AmountSide, OrderRequest
from bot.exchange.catalogue import TtlCache
from bot.exchange.ordering import RequestChanged
from bot.exchange.quoting import ANSWER_SECONDS, MIN_OPTIONAL_SECONDS, optional_call
from bot.i18n import build_i18n
from bot.observability import deadline
from bot.observability.updates import FeedbackPolicy
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox import catalogue as pe_catalogue
from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
from bot.platforms.zerotrace.sandbox.keys import DEMO as ZT_DEMO
from handlers.exchange import render
from offline.bot_client import BotClient
from offline.fake_session import MAX_TEXT
from tests.conftest import make_settings
from tests.platforms.test_zerotrace import FIELDS as ZT_FIELDS
from tests.platforms.test_zerotrace import PAIR as ZT_PAIR
from tests.test_exchange_flow import fill_102, only_bid
from tests.test_exchange_money import EN, RU, choose, money, plain, to_priority

PE = "premiumexchanger"
USDT = 3

WORDS = {
    "en": {
        "uncertain": "did not confirm your order in time",
        "still": "Your order is still being checked",
        "confirm": "✅ Confirm",
        "change": "💰 Change amount",
        "edit": "✏️ Edit a field",
        "try": "🔄 Try again",
        "cancel": "✖️ Cancel",
        "earlier": "Your earlier order was created after all",
        "order": "Order #{id}",
        "created": "Order #{id} is already created.",
        "prompt": "Type how much",
    },
    "ru": {
        "uncertain": "Обменник не подтвердил заявку вовремя",
        "still": "Заявка ещё проверяется",
        "confirm": "✅ Подтвердить",
        "change": "💰 Изменить сумму",
        "edit": "✏️ Изменить поле",
        "try": "🔄 Повторить",
        "cancel": "✖️ Отмена",
        "earlier": "Ваша предыдущая заявка всё-таки была создана",
        "order": "Заявка №{id}",
        "created": "Заявка №{id} уже создана.",
        "prompt": "Напишите, сколько",
    },
}
LANGS = [pytest.param("en", EN, id="en"), pytest.param("ru", RU, id="ru")]


@pytest.fixture
def talk(make_client: Callable[..., BotClient]) -> Callable[[str], BotClient]:
    users = iter(range(700_001, 700_100))
    return lambda lang: make_client(user_id=next(users), language_code=lang)


async def summary_of_102(client: BotClient, t: dict[str, str]):
    await to_priority(client, t)
    await client.click(re.compile(rf"^{t['normal']} · "))
    await client.send("ivan@example.com")
    return (await client.click(t["yes"])).last


# -- a key sent without a clear answer ---------------------------------------------------------------


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_after_a_lost_answer_nothing_changes_the_order_until_it_is_settled(
    talk: Callable[[str], BotClient], sandbox: SandboxExchanger, lang: str, t: dict[str, str]
) -> None:
    client, w = talk(lang), WORDS[lang]
    summary = await summary_of_102(client, t)
    assert t["gives"].format(amount=money(lang, "10000.00", "RUB")) in plain(summary.text)
    buttons = {name: client.find_button(w[name], summary)[1].callback_data for name in ("change", "edit")}
    _, confirm = client.find_button(w["confirm"], summary)
    sandbox.faults.next("create_bid", "late_commit", seconds=3.0)  # committed after the bot gave up
    assert w["uncertain"] in (await client.click(w["confirm"], summary)).text

    # The summary's edit buttons, pressed after all: the order can't change while it may exist.
    for data in buttons.values():
        reply = await client.click_data(data, summary)
        assert w["still"] in reply.text and w["prompt"] not in reply.text
        assert reply.last.button_labels() == [w["try"], w["cancel"]]
    reply = await client.send("5000")  # typed while the summary is the step
    assert w["still"] in reply.text
    assert not sandbox.bids

    await sandbox.wait_late_commits()
    bid = only_bid(sandbox)
    reply = await client.click_data(buttons["change"], summary)
    assert w["earlier"] in reply.text and w["order"].format(id=bid.id) in reply.text
    assert w["prompt"] not in reply.text
    # What the summary showed at its Confirm, and the conversation is over.
    assert bid.amount_give == Decimal("10000")
    reply = await client.click_data(confirm.callback_data, summary)
    assert reply.callback_answer is not None and w["created"].format(id=bid.id) in reply.callback_answer.text
    assert len(sandbox.bids) == 1


async def test_try_again_after_a_lost_answer_sends_what_was_confirmed(
    client: BotClient, sandbox: SandboxExchanger, services: Services
) -> None:
    summary = (await fill_102(client)).last
    _, change = client.find_button("💰 Change amount", summary)
    sandbox.faults.next("create_bid", "http502")  # a proxy's answer: the call may still be running
    assert "did not confirm your order in time" in (await client.click("✅ Confirm")).text
    [reservation] = await services.orders.pending_reservations(PE, chat_id=client.chat.id)
    reply = await client.click_data(change.callback_data, summary)
    assert "still being checked" in reply.text and not sandbox.bids

    # The reserve falls meanwhile: that no longer sends the customer to a new amount under this key.
    sandbox.reserves[USDT] = Decimal("50")
    services.catalogue.forget_direction("en", "102")
    reply = await client.click("🔄 Try again")
    bid = only_bid(sandbox)
    assert f"Order #{bid.id}" in reply.text
    assert bid.api_id == reservation.idempotency_key and bid.amount_give == Decimal("10000")


async def test_a_draft_changed_under_an_unsettled_key_gets_no_order_with_the_new_amount(
    client: BotClient, sandbox: SandboxExchanger, services: Services
) -> None:
    """Whatever route changes the draft (an old bot's stale state included): Confirm never sends the
    new amount under the key the old one was sent with."""
    await fill_102(client)
    sandbox.faults.next("create_bid", "http502")
    await client.click("✅ Confirm")
    state = client.dp.fsm.get_context(client.bot, client.chat.id, client.user.id)
    data = await state.get_data()
    data["exchange"] = {**data["exchange"], "amount": "20000"}
    await state.set_data(data)
    reply = await client.click("🔄 Try again")
    assert "still being checked" in reply.text
    assert not sandbox.bids
    assert sandbox.requests["create_bid"] == 1


async def test_a_retry_with_another_request_is_refused_by_the_order_placer(
    client: BotClient, sandbox: SandboxExchanger, services: Services
) -> None:
    await fill_102(client)
    sandbox.faults.next("create_bid", "http502")
    await client.click("✅ Confirm")
    [reservation] = await services.orders.pending_reservations(PE, chat_id=client.chat.id)
    other = await services.catalogue.direction("en", "103")
    request = OrderRequest(direction_id="103", amount=Decimal("100"), side=AmountSide.GIVE_WITH_FEES)
    with pytest.raises(RequestChanged):
        await services.ordering.place(
            chat_id=client.chat.id, key=reservation.idempotency_key, direction=other, request=request
        )
    assert sandbox.requests["create_bid"] == 1
    assert len(await services.orders.pending_reservations(PE, chat_id=client.chat.id)) == 1


@pytest.fixture
async def zt() -> AsyncIterator[ZeroTraceSandbox]:
    sandbox = ZeroTraceSandbox(step_seconds=None)
    await sandbox.start("127.0.0.1", 0)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


async def test_0trace_resends_its_stored_bytes_only_for_the_same_request(
    tmp_path: Path, zt: ZeroTraceSandbox
) -> None:
    settings = make_settings(
        tmp_path,
        zt.url,
        exchanger_platform="0trace",
        exchanger_api_login=None,
        exchanger_api_key=ZT_DEMO.key,
        exchanger_api_secret=ZT_DEMO.secret,
        exchanger_webhook_secret=ZT_DEMO.webhook_secret,
    )
    async with open_services(settings) as services:
        direction = await services.catalogue.direction("en", ZT_PAIR)
        request = OrderRequest(direction_id=ZT_PAIR, amount=Decimal("100"), fields=dict(ZT_FIELDS))
        placement = services.platform.placement
        assert placement is not None
        key = placement.new_key()
        await services.orders.reserve(42, "0trace", key, ZT_PAIR, placement.prepare(request, key))
        changed = request.model_copy(update={"amount": Decimal("250")})
        with pytest.raises(RequestChanged):
            await services.ordering.place(chat_id=42, key=key, direction=direction, request=changed)
        assert not zt.orders_of(ZT_DEMO.key)
        placed = await services.ordering.place(chat_id=42, key=key, direction=direction, request=request)
        [order] = zt.orders_of(ZT_DEMO.key)
        assert placed.order.id == order.id and order.quote.from_amount == Decimal("100")


# -- refusals at create ------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_fields_and_the_amount_refused_at_create_are_all_fixed_by_name(
    talk: Callable[[str], BotClient],
    sandbox: SandboxExchanger,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    t: dict[str, str],
) -> None:
    client = talk(lang)
    await to_priority(client, t)
    await client.click(re.compile(rf"^{t['normal']} · "))
    await client.send("ivan@example.com")
    await client.click(t["yes"])
    card = re.compile("From card|С карты")
    await client.click(re.compile("Edit a field|Изменить поле"))
    await client.click(card)
    await client.send("427638001234567892")  # a card number, but the exchanger takes only 16 digits
    # The exchange raised its minimum meanwhile: the amount is refused with the card.
    raised = dataclasses.replace(pe_catalogue.DIRECTIONS[102], min_give=Decimal(20000))
    monkeypatch.setitem(pe_catalogue.DIRECTIONS, 102, raised)
    reply = await client.click(re.compile("Confirm|Подтвердить"))
    text = plain(reply.last.text)
    listed = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(listed) == 2 and ("Amount" in listed[1] or "Сумма" in listed[1]), listed
    assert "20" in listed[1]  # the exchange's own words, with its new minimum
    card_reason = listed[0].split(": ", 1)[1]
    assert text.count(card_reason) == 1  # not said again above the field
    assert not sandbox.bids

    reply = await client.send("4276380012345679")
    assert "20" in plain(reply.text) and ("Type how much" in reply.text or "Напишите, сколько" in reply.text)
    reply = await client.send("20000")
    assert t["summary"] in reply.text
    await client.click(re.compile("Confirm|Подтвердить"))
    assert only_bid(sandbox).amount_give == Decimal("20000")


def test_a_refusal_lists_few_answers_whatever_the_site_sends() -> None:
    listed = [(f"Field {n} " + "x" * 50, "y" * 150) for n in range(60)]
    i18n = build_i18n("en")
    for lang in ("en", "ru"):
        with i18n.context(), i18n.use_locale(lang):
            text = render.refused_answers(listed)
        assert len(text) < MAX_TEXT // 2
        assert text.count("• ") == render.MAX_REFUSED_LISTED
        more = "…and 52 more." if lang == "en" else "…и ещё 52."
        assert more in text


# -- a refused direction's stale buttons ---------------------------------------------------------------


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_a_stale_button_of_a_refused_direction_answers_as_gone(
    talk: Callable[[str], BotClient], sandbox: SandboxExchanger, lang: str, t: dict[str, str]
) -> None:
    waiting, client = talk(lang), talk(lang)
    await client.send("/exchange")
    listing = (await client.click(t["btc"])).last
    _, trc20 = client.find_button(t["trc20"], listing)
    await client.click(t["trc20"])  # 109: listed and quoted, refused at create
    await client.send("0.01")
    await client.send("TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7")
    await client.click(re.compile(rf"^{t['normal']} · "))
    await choose(waiting, t["btc"], t["trc20"])  # another customer, on the amount step meanwhile
    reply = await client.click(re.compile("Confirm|Подтвердить"))
    assert t["refused"] in reply.text
    calls = sandbox.requests["get_calc"]

    reply = await client.click_data(trc20.callback_data, listing)  # the list shown before
    assert t["gone"] in reply.text and t["trc20"] not in reply.last.button_labels()
    reply = await waiting.send("0.01")  # not walked through a quote and the form again
    assert t["gone"] in reply.text and t["trc20"] not in reply.last.button_labels()
    assert sandbox.requests["get_calc"] == calls
    assert not sandbox.bids


# -- what was typed is what is shown -------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_a_fee_the_sample_figures_hide_never_changes_what_was_typed(
    talk: Callable[[str], BotClient],
    sandbox: SandboxExchanger,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    t: dict[str, str],
) -> None:
    # 107 XRP -> TRC20 with a fixed fee on both sides that its sample figures (for 0 XRP) don't show.
    fees = dataclasses.replace(
        pe_catalogue.DIRECTIONS[107],
        min_give=None,
        default_give=Decimal(0),
        com_give=pe_catalogue.Commission(fixed=Decimal(1)),
        com_get=pe_catalogue.Commission(fixed=Decimal(1)),
    )
    monkeypatch.setitem(pe_catalogue.DIRECTIONS, 107, fees)
    xrp = "Ripple XRP" if lang == "en" else "Рипл XRP"
    client = talk(lang)
    await choose(client, xrp, t["trc20"])
    reply = await client.send("100")
    assert t["gives"].format(amount=money(lang, "100", "XRP")) in plain(reply.text)  # not 101
    await client.send("TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7")
    await client.click(re.compile("Confirm|Подтвердить"))
    assert only_bid(sandbox).amount_give == Decimal(100)

    # The most the exchange can pay, in one tap: exactly what the customer then receives.
    sandbox.reserves[USDT] = Decimal(30)
    await choose(client, xrp, t["trc20"])
    reply = await client.send("100")
    reserve = money(lang, "30.00", "USDT")
    reply = await client.click(t["take"].format(amount=reserve))
    assert t["receives"].format(amount=reserve) in plain(reply.text)  # not 29.00


@pytest.mark.parametrize(("lang", "t"), LANGS)
async def test_both_readings_of_an_ambiguous_amount_are_shown_exactly(
    talk: Callable[[str], BotClient], lang: str, t: dict[str, str]
) -> None:
    client = talk(lang)
    await choose(client, t["sber"], t["trc20"])
    reply = await client.send("1,234")
    small = "1.234" if lang == "en" else "1,234"
    question = plain(reply.text)
    assert t["which"] in question and f" {small} RUB?" in question, question
    assert plain(reply.last.button_labels()[1]) == f"{small}\xa0RUB"  # the button says the same


# -- optional exchanger calls and the update's deadline ---------------------------------------------------


async def test_option_prices_are_left_out_when_the_update_has_no_time_to_spare(
    services: Services, sandbox: SandboxExchanger, bot: Bot
) -> None:
    hurried = build_dispatcher(services, feedback=FeedbackPolicy(deadline_seconds=ANSWER_SECONDS + 0.5))
    client = BotClient(hurried, bot, user_id=700_500)
    before = sandbox.requests["get_calc"]
    reply = await to_priority(client, EN)
    assert reply.last.button_labels()[:2] == ["Normal", "Fast"]  # the step works, without prices
    assert sandbox.requests["get_calc"] == before + 1  # the amount's own quote only

    relaxed = BotClient(build_dispatcher(services), bot, user_id=700_501)
    reply = await to_priority(relaxed, EN)
    assert reply.last.button_labels()[0].startswith("Normal · ")


async def test_an_optional_call_runs_only_in_the_time_the_update_can_spare() -> None:
    calls: list[float | None] = []

    async def call() -> str:
        calls.append(deadline.remaining())
        return "done"

    assert await optional_call(call) == "done" and calls == [None]  # no deadline: no limit
    with deadline.within(ANSWER_SECONDS + MIN_OPTIONAL_SECONDS / 2):
        assert await optional_call(call) is None and len(calls) == 1
    with deadline.within(ANSWER_SECONDS + 5):
        assert await optional_call(call) == "done"
    left = calls[-1]
    assert left is not None and left <= 5  # the answer's own time is kept


# -- the option-price cache ----------------------------------------------------------------------------


async def test_the_ttl_cache_drops_expired_entries_and_stays_bounded() -> None:
    now = [0.0]
    cache: TtlCache[int] = TtlCache(10.0, clock=lambda: now[0], max_entries=5)
    calls = 0

    async def load(value: int) -> int:
        nonlocal calls
        calls += 1
        return value

    for n in range(5):
        assert await cache.get(n, lambda n=n: load(n)) == n
    assert await cache.get(0, lambda: load(99)) == 0 and calls == 5  # served from the cache
    for n in range(5, 500):
        await cache.get(n, lambda n=n: load(n))
    assert len(cache) == 5 and not cache._locks  # the oldest went first; no lock outlives its load
    now[0] = 11.0
    await cache.get("new", lambda: load(1))
    assert len(cache) == 1  # the expired ones went as the new one came

    # Concurrent misses of one key still make one call, and leave no lock behind.
    started = asyncio.Event()

    async def slow() -> int:
        nonlocal calls
        calls += 1
        started.set()
        await asyncio.sleep(0.01)
        return 7

    before = calls
    results = await asyncio.gather(*(cache.get("k", slow) for _ in range(5)))
    assert results == [7] * 5 and calls == before + 1 and not cache._locks
