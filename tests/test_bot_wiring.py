"""/start, /help, /language, /cancel and the error paths, through the real Dispatcher."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.app.dispatcher import build_dispatcher
from bot.app.wiring import Services, open_services
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from offline.bot_client import BotClient
from tests.conftest import make_settings


async def test_start_greets_by_name_with_main_menu(client: BotClient) -> None:
    reply = await client.send("/start")
    assert len(reply.sent) == 1
    assert "Hello, Alice!" in reply.text
    assert reply.last.button_labels() == [
        "💱 Exchange",
        "📋 My orders",
        "🤝 Partner cabinet",
        "🌐 Language",
        "❓ Help",
    ]


async def test_user_language_code_picks_russian(make_client) -> None:
    client = make_client(user_id=200, language_code="ru-RU")
    reply = await client.send("/start")
    assert "Здравствуйте, Alice!" in reply.text
    assert "🌐 Язык" in reply.last.button_labels()


async def test_unknown_user_language_falls_back_to_default(make_client) -> None:
    client = make_client(user_id=201, language_code="de")
    reply = await client.send("/start")
    assert "Hello" in reply.text


async def test_name_is_html_escaped(make_client) -> None:
    client = make_client(user_id=202, first_name="<b>Eve</b>")
    reply = await client.send("/start")
    assert "&lt;b&gt;Eve&lt;/b&gt;" in reply.text


async def test_help_command_and_button(client: BotClient) -> None:
    reply = await client.send("/help")
    assert "/language" in reply.text and "/cancel" in reply.text
    await client.send("/start")
    reply = await client.click("❓ Help")
    assert reply.callback_answer is not None
    assert len(reply.edited) == 1 and "/cancel" in reply.edited[0].text


async def test_language_is_stored_per_chat_and_survives_restart(settings, bot) -> None:
    async with open_services(settings) as services:
        client = BotClient(build_dispatcher(services), bot)
        await client.send("/language")
        reply = await client.click("Русский")
        assert "Теперь я говорю" in reply.text
        assert reply.callback_answer is not None and reply.callback_answer.text == "Язык: Русский"
        assert await services.chat_settings.get_language(client.chat.id) == "ru"

        # The Telegram client still says "en", but the chat's choice wins.
        reply = await client.send("/start")
        assert "Здравствуйте" in reply.text

        # Another chat is unaffected.
        other = BotClient(client.dp, bot, user_id=555)
        assert "Hello" in (await other.send("/start")).text

    async with open_services(settings) as reopened:
        restarted = BotClient(build_dispatcher(reopened), bot, user_id=client.user.id)
        assert "Здравствуйте" in (await restarted.send("/start")).text


async def test_language_menu_marks_current_and_rejects_forged_code(client: BotClient) -> None:
    await client.send("/language")
    assert client.last.button_labels()[:2] == ["✓ English", "Русский"]
    reply = await client.click_data("lang:xx", client.last)
    assert reply.callback_answer is not None and reply.callback_answer.show_alert
    assert "not available" in reply.callback_answer.text


def include_first(dp, router: Router) -> None:
    """Offer updates to a test router before the feature routers (whose fallback takes everything)."""
    dp.include_router(router)
    dp.sub_routers.insert(0, dp.sub_routers.pop())


class Survey(StatesGroup):
    waiting = State()


def _router_with_a_conversation() -> Router:
    router = Router(name="test-conversation")

    @router.message(Command("survey"))
    async def begin(message: Message, state: FSMContext) -> None:
        await state.set_state(Survey.waiting)
        await message.answer("question?")

    return router


async def test_cancel_leaves_any_conversation(services: Services, bot) -> None:
    dp = build_dispatcher(services)
    include_first(dp, _router_with_a_conversation())
    client = BotClient(dp, bot, user_id=300)

    reply = await client.send("/cancel")
    assert "nothing to cancel" in reply.text

    await client.send("/survey")
    state = dp.fsm.get_context(bot, client.chat.id, client.user.id)
    assert await state.get_state() == Survey.waiting.state
    reply = await client.send("/cancel")
    assert reply.text.startswith("Cancelled")
    assert await state.get_state() is None
    assert "💱 Exchange" in reply.last.button_labels()


async def test_currencies_are_read_live_from_the_exchanger(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    await client.send("/start")
    reply = await client.click("💱 Exchange")
    assert reply.callback_answer is not None
    assert "What do you give?" in reply.text
    assert "Bitcoin BTC" in reply.last.button_labels()


async def test_rejected_key_says_the_exchange_is_unavailable(
    tmp_path, sandbox: SandboxExchanger, bot
) -> None:
    settings = make_settings(tmp_path, sandbox.url, exchanger_api_key="wrong-key-000000000000")
    async with open_services(settings) as services:
        client = BotClient(build_dispatcher(services), bot, user_id=400, language_code="ru")
        await client.send("/start")
        reply = await client.click("💱 Обмен")
    assert "временно недоступен" in reply.text
    assert reply.last.button_labels() == ["🔄 Повторить", "✖️ Отмена"]


async def test_exchanger_html_page_gets_retry_that_recovers(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    await client.send("/start")
    for _ in range(5):  # more than the client's own read retries
        sandbox.faults.next("get_directions", "html")
    reply = await client.click("💱 Exchange")
    assert "not answering" in reply.text
    assert reply.last.button_labels() == ["🔄 Try again", "✖️ Cancel"]

    # The faults left over are absorbed by the client's retries this time.
    reply = await client.click("🔄 Try again")
    assert "What do you give?" in reply.text


async def test_old_buttons_answer_no_longer_active(client: BotClient) -> None:
    await client.send("/start")
    reply = await client.click_data("gone:42", client.last)
    assert reply.callback_answer is not None
    assert "no longer active" in reply.callback_answer.text
    assert reply.events == []


async def test_unknown_text_points_to_the_menu(client: BotClient) -> None:
    reply = await client.send("hello?")
    assert "did not understand" in reply.text
    assert "❓ Help" in reply.last.button_labels()


async def test_a_crashing_handler_gets_a_polite_translated_answer(services: Services, bot, caplog) -> None:
    dp = build_dispatcher(services)
    router = Router(name="crash")

    @router.message(Command("crash"))
    async def crash(message: Message) -> None:
        raise ZeroDivisionError("boom")

    include_first(dp, router)
    client = BotClient(dp, bot, user_id=500, language_code="ru")
    reply = await client.send("/crash")
    assert "что-то пошло не так" in reply.text
    assert "ZeroDivisionError" in caplog.text
    # The bot still works afterwards.
    assert "Здравствуйте" in (await client.send("/start")).text


async def test_blocking_and_coming_back_mark_the_chat(client: BotClient, services: Services) -> None:
    await client.block_bot()
    assert not await services.chat_settings.is_active(client.chat.id)
    await client.block_bot(blocked=False)
    assert await services.chat_settings.is_active(client.chat.id)

    await client.block_bot()
    # The user writes again without Telegram telling us about an unblock first.
    reply = await client.send("/start")
    assert "Hello" in reply.text
    assert await services.chat_settings.is_active(client.chat.id)


async def test_a_crash_after_a_button_was_answered_still_tells_the_user(services: Services, bot) -> None:
    from aiogram import F
    from aiogram.types import CallbackQuery

    dp = build_dispatcher(services)
    router = Router(name="crash-button")

    @router.callback_query(F.data == "boom")
    async def boom(callback: CallbackQuery) -> None:
        await callback.answer("Working…")  # answered first, as every handler does
        raise ZeroDivisionError("boom")

    include_first(dp, router)
    client = BotClient(dp, bot, user_id=501)
    await client.send("/start")
    reply = await client.click_data("boom", client.last)
    assert reply.callback_answer is not None and reply.callback_answer.text == "Working…"
    assert "Something went wrong on our side" in reply.text
