"""/codes for the operator's accounts (ADMIN_IDS) and code deep links, end to end on 0trace: the
production Dispatcher through the fake Telegram session, the 0trace sandbox over HTTP on loopback with
the demo partner's key (every request signed); assertions on the sandbox's own records."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.methods import SetMyCommands

from bot.app.config import ConfigError, load_settings
from bot.app.dispatcher import BOT_DEFAULTS, admin_commands_for, build_dispatcher, commands_for, set_commands
from bot.app.wiring import Services, open_services
from bot.partner.deeplink import encode_code_payload
from bot.platforms.zerotrace.info import INFO
from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
from bot.platforms.zerotrace.sandbox.keys import DEMO
from offline.bot_client import BotClient
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession
from tests.conftest import make_settings
from tests.test_zerotrace_bot import BTC_ADDRESS, TRON_ADDRESS

ZT = "0trace"
ADMIN, CUSTOMER = 700101, 700102
NOT_UNDERSTOOD = "I did not understand that"


@pytest.fixture
async def zt() -> AsyncIterator[ZeroTraceSandbox]:
    sandbox = ZeroTraceSandbox(step_seconds=None)
    await sandbox.start("127.0.0.1", 0)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
async def services(tmp_path: Path, zt: ZeroTraceSandbox) -> AsyncIterator[Services]:
    settings = make_settings(
        tmp_path,
        zt.url,
        exchanger_platform=ZT,
        exchanger_api_login=None,
        exchanger_api_key=DEMO.key,
        exchanger_api_secret=DEMO.secret,
        exchanger_webhook_secret=DEMO.webhook_secret,
        admin_ids=f"{ADMIN}, 42",
    )
    async with open_services(settings) as opened:
        opened.platform.placement.retry_delay = 0.01  # type: ignore[union-attr]
        opened.platform.client.retry_delay = 0.01  # type: ignore[attr-defined]
        yield opened


@pytest.fixture
def bot() -> Bot:
    return Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)


@pytest.fixture
def admin(services: Services, bot: Bot) -> BotClient:
    return BotClient(build_dispatcher(services), bot, user_id=ADMIN)


@pytest.fixture
def customer(services: Services, bot: Bot) -> BotClient:
    return BotClient(build_dispatcher(services), bot, user_id=CUSTOMER)


def sandbox_codes(zt: ZeroTraceSandbox):  # type: ignore[no-untyped-def]
    return zt.partners[DEMO.key].codes


# -- configuration -------------------------------------------------------------------------------------


def test_admin_ids_are_validated_with_one_line_naming_them(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, database_path=tmp_path / "db", admin_ids="123,@boss")
    assert "ADMIN_IDS" in str(caught.value) and "\n" not in str(caught.value)
    assert "@boss" not in str(caught.value)
    ok = load_settings(_env_file=None, database_path=tmp_path / "db", admin_ids=" 5, 6 ,")
    assert ok.admin_ids == frozenset({5, 6})
    assert load_settings(_env_file=None, database_path=tmp_path / "db", admin_ids="").admin_ids == frozenset()


async def test_only_admins_get_codes_in_their_menu(bot: Bot, services: Services) -> None:
    assert ("codes" in dict(admin_commands_for(INFO))) and "codes" not in dict(commands_for(INFO))
    session = bot.session
    assert isinstance(session, FakeTelegramSession)
    await set_commands(bot, services.i18n, INFO, frozenset({ADMIN}))
    calls = [c for c in session.requests if isinstance(c, SetMyCommands)]
    default = [c for c in calls if type(c.scope).__name__ == "BotCommandScopeDefault"]
    chat = [c for c in calls if type(c.scope).__name__ == "BotCommandScopeChat"]
    assert default and all("codes" not in {b.command for b in c.commands} for c in default)
    assert chat and all(c.scope.chat_id == ADMIN for c in chat)
    assert all("codes" in {b.command for b in c.commands} for c in chat)


# -- /codes --------------------------------------------------------------------------------------------


async def test_admin_lists_creates_and_disables_a_code(admin: BotClient, zt: ZeroTraceSandbox) -> None:
    reply = await admin.send("/codes")
    assert "<code>TGBOT</code> · telegram bot · 100 bp (1%)" in reply.text
    assert "⏸ <code>OLDCODE</code>" in reply.text
    assert {"TGBOT", "OLDCODE", "➕ New code"} <= set(reply.last.button_labels())

    await admin.click("➕ New code")
    reply = await admin.send("no")  # too short
    assert "can't be used" in reply.text
    reply = await admin.send("spring-2027")
    assert "label" in reply.text
    reply = await admin.send("Spring campaign")
    assert "basis points" in reply.text
    reply = await admin.send("2001")
    assert "from 0 to 2000" in reply.text and "spring-2027" not in sandbox_codes(zt)
    reply = await admin.send("150")
    created = sandbox_codes(zt)["spring-2027"]
    assert (created.label, created.afftax_bps, created.enabled) == ("Spring campaign", 150, True)
    assert "Code <code>spring-2027</code> created" in reply.text
    assert "https://0trace.io/r/spring-2027" in reply.text
    assert "https://t.me/exchanger_demo_bot?start=c" in reply.text

    reply = await admin.click("⏸ Disable", reply.last)
    assert sandbox_codes(zt)["spring-2027"].enabled is False
    assert "Status: disabled" in reply.text
    reply = await admin.click("▶️ Enable", reply.last)
    assert sandbox_codes(zt)["spring-2027"].enabled is True


async def test_a_taken_code_is_refused_and_asked_again(admin: BotClient, zt: ZeroTraceSandbox) -> None:
    await admin.send("/codes")
    await admin.click("➕ New code")
    await admin.send("TGBOT")
    await admin.send("-")
    reply = await admin.send("0")
    assert "refused this code" in reply.text and "Send the new code" in reply.text
    assert sandbox_codes(zt)["TGBOT"].label == "telegram bot"
    reply = await admin.send("TGBOT2")
    assert "label" in reply.text


async def test_markup_is_refused_in_russian_too(services: Services, bot: Bot) -> None:
    client = BotClient(build_dispatcher(services), bot, user_id=ADMIN, language_code="ru")
    await client.send("/codes")
    await client.click(re.compile("Новый код"))
    await client.send("ruCode")
    await client.send("-")
    reply = await client.send("-5")
    assert "от 0 до 2000" in reply.text


async def test_link_with_a_pair_and_its_qr(admin: BotClient) -> None:
    await admin.send("/codes")
    card = await admin.click("TGBOT")
    reply = await admin.click("🖼 QR code", card.last)
    photo = reply.last
    assert photo.file is not None and photo.file.content.startswith(b"\x89PNG")
    assert "https://0trace.io/r/TGBOT" in photo.text
    reply = await admin.click("🔀 Link with a pair", card.last)
    assert "<code>usdt_trc20</code>" in reply.text
    reply = await admin.send("usdt_trc20 nope")
    assert "does not list" in reply.text
    reply = await admin.send("usdt_trc20 btc")
    assert reply.last.file is not None
    assert "https://0trace.io/r/TGBOT?from=usdt_trc20&amp;to=btc" in reply.last.text


async def test_non_admins_have_no_codes_command(customer: BotClient, zt: ZeroTraceSandbox) -> None:
    reply = await customer.send("/codes")
    assert NOT_UNDERSTOOD in reply.text
    before = {name: (c.enabled, c.label) for name, c in sandbox_codes(zt).items()}
    reply = await customer.send("/start")
    reply = await customer.click_data("adm:off:TGBOT", reply.last)
    assert reply.callback_answer is not None and "no longer active" in (reply.callback_answer.text or "")
    assert {name: (c.enabled, c.label) for name, c in sandbox_codes(zt).items()} == before
    reply = await customer.send("/help")
    assert "/codes" not in reply.text


async def test_admin_in_a_group_gets_nothing(services: Services, bot: Bot) -> None:
    client = BotClient(build_dispatcher(services), bot, user_id=ADMIN, chat_id=-100500, chat_type="group")
    reply = await client.send("/codes")
    assert "TGBOT" not in reply.text


# -- code deep links -----------------------------------------------------------------------------------


async def _order(client: BotClient) -> None:
    await client.send("/exchange")
    await client.click("USDT · Tron")
    await client.click("BTC · Bitcoin")
    await client.send("100")
    await client.send(BTC_ADDRESS)
    await client.send(TRON_ADDRESS)
    await client.click("✅ Confirm")


async def test_a_code_link_credits_the_customers_orders(
    customer: BotClient, services: Services, zt: ZeroTraceSandbox
) -> None:
    key = services.link_signing_key
    reply = await customer.send(f"/start {encode_code_payload(key, 'TGBOT')}")
    assert reply.text  # greeted as usual
    assert (await services.chat_settings.get_attribution(CUSTOMER, ZT)).partner == "TGBOT"  # type: ignore[union-attr]
    # First attribution wins.
    await customer.send(f"/start {encode_code_payload(key, 'spring')}")
    assert (await services.chat_settings.get_attribution(CUSTOMER, ZT)).partner == "TGBOT"  # type: ignore[union-attr]
    await _order(customer)
    orders = zt.orders_of(DEMO.key)
    assert len(orders) == 1 and orders[0].code == "TGBOT"


async def test_forged_or_disabled_code_links_attribute_nothing(
    customer: BotClient, services: Services, zt: ZeroTraceSandbox
) -> None:
    key = services.link_signing_key
    genuine = encode_code_payload(key, "TGBOT")
    forged = genuine[:-5] + "OTHER"  # the code changed by hand
    reply = await customer.send(f"/start {forged}")
    assert reply.text
    assert await services.chat_settings.get_attribution(CUSTOMER, ZT) is None
    await customer.send(f"/start {encode_code_payload(b'another bot key 0123456789', 'TGBOT')}")
    assert await services.chat_settings.get_attribution(CUSTOMER, ZT) is None
    await customer.send(f"/start {encode_code_payload(key, 'OLDCODE')}")  # disabled upstream
    assert await services.chat_settings.get_attribution(CUSTOMER, ZT) is None
    await _order(customer)
    orders = zt.orders_of(DEMO.key)
    assert len(orders) == 1 and orders[0].code is None


async def test_code_links_are_attributed_once_under_double_taps(
    services: Services, bot: Bot, zt: ZeroTraceSandbox
) -> None:
    key = services.link_signing_key
    client = BotClient(build_dispatcher(services), bot, user_id=CUSTOMER + 1)
    await asyncio.gather(
        client.send(f"/start {encode_code_payload(key, 'TGBOT')}"),
        client.send(f"/start {encode_code_payload(key, 'TGBOT')}"),
    )
    found = await services.chat_settings.get_attribution(CUSTOMER + 1, ZT)
    assert found is not None and found.partner == "TGBOT"
