"""A slow exchanger: the customer sees "typing…" while the bot waits, and a translated "the exchange is
slow" with the step kept once the update's deadline has passed, however many retries were left.

The deadline and the typing delay are set small (FeedbackPolicy) so the test is quick; it asserts the
order of the Telegram calls and the outcome, never how long anything took."""

from __future__ import annotations

from aiogram import Bot
from aiogram.methods import EditMessageText, SendChatAction, SendMessage
from prometheus_client.parser import text_string_to_metric_families

from bot.app.dispatcher import build_dispatcher
from bot.app.wiring import Services
from bot.observability import FeedbackPolicy
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from offline.bot_client import BotClient

FAST_FEEDBACK = FeedbackPolicy(deadline_seconds=0.8, typing_after=0.05, typing_every=0.2)
HOLD_SECONDS = 2.5  # how long the sandbox holds each answer back: well past the deadline


def sample(services: Services, name: str, **labels: str) -> float:
    text = services.metrics.render().decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


async def test_slow_quote_shows_typing_then_the_slow_message_and_keeps_the_step(
    services: Services, bot: Bot, sandbox: SandboxExchanger
) -> None:
    client = BotClient(build_dispatcher(services, feedback=FAST_FEEDBACK), bot, user_id=910001)
    await client.send("/exchange")
    await client.click("Sberbank RUB")
    step = await client.click("Tether TRC20 USDT")
    assert "RUB" in step.text  # asks for the amount

    for _ in range(3):  # the first call and both of the client's retries would be held back
        sandbox.faults.next("get_calc", "delay", seconds=HOLD_SECONDS)
    calls_before = sandbox.requests["get_calc"]
    first_request = len(bot.session.requests)
    reply = await client.send("10000")

    methods = [type(m) for m in bot.session.requests[first_request:]]
    assert SendChatAction in methods, methods
    answers = [i for i, m in enumerate(methods) if m in (SendMessage, EditMessageText)]
    assert answers and methods.index(SendChatAction) < answers[0], methods
    action = next(m for m in bot.session.requests[first_request:] if isinstance(m, SendChatAction))
    assert action.chat_id == client.chat.id and action.action == "typing"

    assert "answering too slowly" in reply.text and "try again" in reply.text
    assert reply.last.button_labels() == ["🔄 Try again", "✖️ Cancel"]
    # The deadline stopped the retries: one request was sent, the other faults are still queued.
    assert sandbox.requests["get_calc"] - calls_before == 1 and len(sandbox.faults) == 2
    assert sample(services, "bot_exchanger_requests_total", method="get_calc", outcome="deadline") == 1
    assert sample(services, "bot_exchanger_errors_total", method="get_calc", error="ExchangerTimeout") == 1
    assert sample(services, "bot_slow_updates_total", type="message") >= 1
    recent = services.metrics.recent_errors()
    assert recent and recent[-1].method == "get_calc" and recent[-1].error == "ExchangerTimeout"

    # The exchange is quick again: the same step carries on.
    sandbox.faults.clear()
    again = await client.click("🔄 Try again")
    assert "Type how much RUB you send" in again.text
    quote = await client.send("10000")
    assert "You give: <b>10,000.00\xa0RUB</b>" in quote.text


async def test_a_fast_answer_sends_no_chat_action(services: Services, bot: Bot) -> None:
    client = BotClient(
        build_dispatcher(services, feedback=FeedbackPolicy(deadline_seconds=30.0, typing_after=30.0)),
        bot,
        user_id=910002,
    )
    first_request = len(bot.session.requests)
    await client.send("/start")
    await client.send("/exchange")
    assert not any(isinstance(m, SendChatAction) for m in bot.session.requests[first_request:])


async def test_russian_chat_gets_the_slow_message_in_russian(
    services: Services, bot: Bot, sandbox: SandboxExchanger
) -> None:
    client = BotClient(
        build_dispatcher(services, feedback=FAST_FEEDBACK), bot, user_id=910003, language_code="ru"
    )
    sandbox.faults.next("get_directions", "delay", seconds=HOLD_SECONDS)
    reply = await client.send("/exchange")
    assert "слишком медленно" in reply.text
    assert reply.last.button_labels() == ["🔄 Повторить", "✖️ Отмена"]
