"""Hostile and malformed input through the production Dispatcher: thousands of random and forged
updates (fixed seed) from private chats in both languages, a linked partner, an admin and groups, on
PremiumExchanger and on 0trace (reference codes, per-order secrets).

Random text (huge, unicode, control characters, HTML-ish, numbers out of every range), commands with
random arguments in the middle of conversations (exchanges are walked to a random step first, so the
input meets the deep steps too), real buttons pressed out of order or on messages too old to edit,
forged and stale callback data for every CallbackData prefix the handlers know (numbers like 2**70,
empty and unicode fields), edited messages and photos with captions. Asserted: no update ends in an
unhandled exception (the errors router logs one at ERROR), nothing the bot asks of Telegram is over
its limits (text 4096, caption 1024, callback answer 200, button data 64 bytes), and no reply lands
in a chat other than the one the update came from.

Also here: credentials a header can't carry are refused before any call; the session guard
(bot.app.telegram_limits) cuts what slips through without breaking HTML; forged amount buttons never
reach the exchange."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import random
import re
import string
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiogram import Bot, Dispatcher
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    PhotoSize,
    Update,
)

import handlers
import handlers.exchange.callbacks as cb
from bot.app.config import Settings
from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.telegram_limits import TelegramLimits, cut_html, units, visible_units
from bot.app.wiring import Services, open_services
from bot.partner.account import check_input
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import PARTNER
from bot.platforms.registry import PLATFORMS, platform_info
from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox
from bot.platforms.zerotrace.sandbox.keys import DEMO as ZT_DEMO
from bot.text import telegram_html, visible_text
from handlers.commands import help_commands
from handlers.exchange.callbacks import ExCb
from offline.bot_client import BotClient
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession
from tests.conftest import make_settings

SEED = 20261202
UPDATES = 3000
ADMIN_ID = 990001

MAX_TEXT, MAX_CAPTION, MAX_CALLBACK_ANSWER, MAX_BUTTON_BYTES = 4096, 1024, 200, 64

# Every CallbackData prefix in handlers/, with the number of fields after it.
PREFIXES = {
    "x": 3,  # ExCb flow:a:v
    "m": 1,  # MenuCb
    "lang": 1,
    "nav": 1,
    "o": 3,  # OrderCb action:n:page
    "adm": 2,  # CodeCb
    "adp": 2,  # admin panel
    "pt": 1,
    "pts": 4,
    "ptl": 6,
    "ptx": 5,
    "ptw": 3,
    "ptk": 3,
    "ptd": 3,
}
WORDS = [
    "list", "show", "main", "help", "language", "exchange", "orders", "partner", "cancel", "en", "ru",
    "home", "stats", "refs", "pex", "pay", "wd", "link", "login", "logout", "logout_yes", "login_retry",
    "chart", "custom", "choose", "send", "pick", "confirm", "edit", "field", "set", "clear", "qr",
    "qrbot", "dir", "tag", "gp", "g", "tp", "t", "sd", "use", "op", "opp", "ck", "of", "sk", "cf", "el",
    "ef", "ea", "bk", "card", "status", "refresh", "pay", "w", "m", "y", "d", "all", "news_on",
    "broadcast", "health", "errors", "go", "stop", "yes", "no", "new", "on", "off", "pair", "usdt_trc20",
]  # fmt: skip
NUMBERS = [
    0, 1, -1, 2, 7, 99, 2**31, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 2**70, -(2**70), 10**30,
    20260101, 99999999, 19700101, 20261332,
]  # fmt: skip
# What a customer would type at some step: amounts, a card, a name, an address, an e-mail, a login.
PLAUSIBLE = [
    "10000", "1500", "0.5", "4276380012345679", "Ivan Petrov", "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7",
    "ivan@example.com", "partner", "partner-key-111111111111111111111", "2026-01-01 2026-02-01", "spring",
]  # fmt: skip
# An exchange walked to its summary, step by step (the fuzz stops at a random step of it).
JOURNEY = [
    ("send", "/exchange"), ("click", "^Sberbank RUB$"), ("click", "^Tether TRC20 USDT$"), ("send", "10000"),
    ("send", "4276380012345679"), ("send", "Ivan Petrov"), ("send", "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"),
    ("click", r"^Normal\b"), ("send", "ivan@example.com"), ("click", "^✅ Yes$"),
]  # fmt: skip
ZT_JOURNEY = [
    ("send", "/exchange"), ("click", "^USDT · Tron$"), ("click", "^BTC · Bitcoin$"), ("send", "100"),
    ("send", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
]  # fmt: skip
CODES_JOURNEY = [("send", "/codes"), ("click", "^➕ New code$"), ("send", "fuzz_code"), ("send", "-")]
ODD_TEXTS = [
    "", " ", "0", "-0", "NaN", "inf", "-inf", "1e999", "1e-999", "0x10", "1_000", "1,000", "1.000,5",
    "10,000", "٣٤٥", "１２３", "9" * 400, str(2**70), "-" + str(2**70), "<b>", "</b>", "<a href='x'>",
    "&amp;", "&", "<", "{0}", "{amount}", "%s", "%(x)s", "'; DROP TABLE orders; --", "\u202e",
    "\u200b", "\x00", "\x1b[31m", "👍" * 50, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "é" * 2000, "\r\n", "a" * 4096,
    "<b>" * 1000, "&amp;" * 800, "TAA", "bc1qxyz", "/", "//", "/ start", "@exchanger_demo_bot",
]  # fmt: skip


def random_text(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return rng.choice(ODD_TEXTS)
    if kind < 0.5:
        return "".join(rng.choices(string.printable, k=rng.randint(1, 60)))
    if kind < 0.65:
        # anything Unicode, kept to scalar values (Telegram delivers valid UTF-8 only)
        ranges = [(0, 0x2FF), (0x300, 0xD7FF), (0xE000, 0x10FFFF)]
        return "".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(rng.randint(1, 80)))
    if kind < 0.75:
        return "".join(rng.choices("0123456789.,- ", k=rng.randint(1, 30)))
    if kind < 0.85:
        # Telegram's longest message: 4096 characters
        unit = rng.choice(["x", "я", "<b>", "&", "🙂", "a\u0301", "\n"])
        return (unit * 4096)[:4096]
    return rng.choice(WORDS) + " " + str(rng.choice(NUMBERS))


def random_field(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return str(rng.choice(NUMBERS))
    if kind < 0.7:
        return rng.choice(WORDS)
    if kind < 0.8:
        return ""
    if kind < 0.9:
        return "".join(rng.choices(string.ascii_letters + string.digits + "%_-.", k=rng.randint(1, 12)))
    return "".join(chr(rng.randint(0xA0, 0x2FFF)) for _ in range(rng.randint(1, 6)))


def forged_data(rng: random.Random, shown_data: list[str]) -> str:
    if shown_data and rng.random() < 0.4:
        # a real button's data with one field changed: stale or tampered
        parts = rng.choice(shown_data).split(":")
        if len(parts) > 1:
            parts[rng.randrange(1, len(parts))] = random_field(rng)
        data = ":".join(parts)
    else:
        prefix = rng.choice(list(PREFIXES))
        count = PREFIXES[prefix] + rng.choice([0, 0, 0, -1, 1])
        data = ":".join([prefix] + [random_field(rng) for _ in range(max(0, count))])
    # Telegram delivers only what fitted in a button: 1 to 64 bytes
    encoded = data.encode()[:MAX_BUTTON_BYTES]
    return encoded.decode(errors="ignore") or "x"


@dataclass
class Actor:
    client: BotClient
    commands: list[str]
    journey: list[tuple[str, str]] | None = None  # None: the fuzzer's


class Fuzzer:
    def __init__(
        self, dp: Dispatcher, bot: Bot, rng: random.Random, journey: list[tuple[str, str]] = JOURNEY
    ) -> None:
        self.dp, self.bot, self.rng, self.journey_steps = dp, bot, rng, journey
        self.session: FakeTelegramSession = bot.session  # type: ignore[assignment]
        self.update_ids = iter(range(10_000_000, 20_000_000))
        self.kinds: Counter[str] = Counter()
        self.states: Counter[str | None] = Counter()

    def _message(self, client: BotClient, **fields: object) -> Message:
        return Message(
            message_id=self.session.next_message_id(),
            date=int(time.time()),
            chat=client.chat,
            from_user=client.user,
            **fields,  # type: ignore[arg-type]
        )

    async def old_click(self, client: BotClient, data: str, message_id: int) -> None:
        query_id = f"old-{next(self.update_ids)}"
        query = CallbackQuery(
            id=query_id,
            from_user=client.user,
            chat_instance=str(client.chat.id),
            message=InaccessibleMessage(chat=client.chat, message_id=message_id, date=0),
            data=data,
        )
        self.session.expect_query(query_id, client.chat.id)
        await self.feed(client, Update(update_id=next(self.update_ids), callback_query=query))

    async def feed(self, client: BotClient, update: Update) -> None:
        await self.dp.feed_update(self.bot, update)

    async def state(self, client: BotClient) -> str | None:
        key = StorageKey(self.bot.id, client.chat.id, client.user.id)
        return await self.dp.storage.get_state(key)

    async def journey(self, client: BotClient, journey: list[tuple[str, str]] | None = None) -> None:
        """Walk an exchange to a random step (as far as the order's summary), where the hostile input
        then lands."""
        steps = journey or self.journey_steps
        depth = self.rng.randint(2, len(steps))
        try:
            for kind, value in steps[:depth]:
                if kind == "send":
                    await client.send(value)
                else:
                    await client.click(re.compile(value))
        except LookupError:
            pass  # an earlier hostile step changed the way: carry on from wherever it is

    async def step(self, actor: Actor) -> None:
        client, rng = actor.client, self.rng
        roll = rng.random()
        shown = client.messages[-6:]
        buttons = [b for m in shown for row in m.buttons for b in row if b.callback_data]
        state = await self.state(client)
        self.states[state] += 1
        if roll < 0.06 and client.chat.type == "private":
            self.kinds["journey"] += 1
            await self.journey(client, actor.journey)
            return
        if state is not None and roll < 0.35:
            # move the conversation on, so hostile input meets its deeper steps too
            onward = [b for b in buttons if not b.text.startswith(("⬅️", "✖️", "↩️"))] or buttons
            if rng.random() < 0.5 and onward:
                self.kinds["onward"] += 1
                button = rng.choice(onward)
                message = next(m for m in shown if any(button in row for row in m.buttons))
                await client.click_data(button.callback_data, message)
            else:
                self.kinds["plausible"] += 1
                await client.send(rng.choice(PLAUSIBLE))
            return
        roll = rng.random()
        if roll < 0.25 and buttons:
            self.kinds["button"] += 1
            button = rng.choice(buttons)
            message = next(m for m in shown if any(button in row for row in m.buttons))
            await client.click_data(button.callback_data, message)
        elif roll < 0.3 and buttons:
            # a button on a message older than 48 hours: Telegram sends it without the message
            self.kinds["old message"] += 1
            button = rng.choice(buttons)
            data = button.callback_data if rng.random() < 0.7 else forged_data(rng, [button.callback_data])
            await self.old_click(client, data, shown[-1].message_id)
        elif roll < 0.45:
            self.kinds["forged"] += 1
            target = shown[-1] if shown else None
            data = forged_data(rng, [b.callback_data for b in buttons])
            if target is None:
                target = self.session.record_user_message(client.chat.id, self.session.next_message_id(), "")
                target.from_bot = True
            await client.click_data(data, target)
        elif roll < 0.62:
            self.kinds["command"] += 1
            command = "/" + rng.choice(actor.commands)
            if rng.random() < 0.6:
                command += rng.choice([" ", "@exchanger_demo_bot ", "  "]) + random_text(rng)[:200]
            await client.send(command[:4096])
        elif roll < 0.7:
            self.kinds["edited"] += 1
            message = self._message(client, text=random_text(rng) or "x", edit_date=int(time.time()))
            await self.feed(client, Update(update_id=next(self.update_ids), edited_message=message))
        elif roll < 0.76:
            self.kinds["photo"] += 1
            caption = random_text(rng)[:1024] or None
            if caption and rng.random() < 0.3:
                caption = "/" + rng.choice(actor.commands) + " " + caption
            photo = [PhotoSize(file_id="f", file_unique_id="u", width=1, height=1)]
            message = self._message(client, photo=photo, caption=caption)
            await self.feed(client, Update(update_id=next(self.update_ids), message=message))
        else:
            self.kinds["text"] += 1
            await client.send(random_text(rng) or " ")


def over_limits(method: TelegramMethod) -> list[str]:
    """What in one Bot API request Telegram would refuse."""
    problems = []
    fields = type(method).model_fields
    text = getattr(method, "text", None) if "text" in fields else None
    caption = getattr(method, "caption", None) if "caption" in fields else None
    if isinstance(method, AnswerCallbackQuery):
        if text is not None and len(text) > MAX_CALLBACK_ANSWER:
            problems.append(f"callback answer of {len(text)} characters")
    elif isinstance(text, str) and len(visible_text(text)) > MAX_TEXT:
        problems.append(f"{type(method).__name__} text of {len(visible_text(text))} characters")
    if isinstance(caption, str) and len(visible_text(caption)) > MAX_CAPTION:
        problems.append(f"caption of {len(visible_text(caption))} characters")
    markup = getattr(method, "reply_markup", None) if "reply_markup" in fields else None
    if isinstance(markup, InlineKeyboardMarkup):
        for row in markup.inline_keyboard:
            for button in row:
                if button.callback_data is not None and len(button.callback_data.encode()) > MAX_BUTTON_BYTES:
                    problems.append(f"button data {button.callback_data!r}")
                if len(button.text.encode()) > MAX_BUTTON_BYTES:
                    problems.append(f"button text {button.text!r}")
    return problems


async def fuzz(fuzzer: Fuzzer, actors: list[Actor], updates: int, caplog: pytest.LogCaptureFixture) -> Fuzzer:
    """Feed ``updates`` random actions of random actors; assert none failed or went over a limit."""
    rng, session = fuzzer.rng, fuzzer.session
    chats = {a.client.chat.id for a in actors}
    problems: list[str] = []
    wrong_chat: list[str] = []
    for _ in range(updates):
        current = rng.choice(actors)
        before = len(session.requests)
        await fuzzer.step(current)
        for method in session.requests[before:]:
            problems += over_limits(method)
            chat_id = getattr(method, "chat_id", None) if "chat_id" in type(method).model_fields else None
            if chat_id is not None and int(chat_id) != current.client.chat.id and int(chat_id) in chats:
                wrong_chat.append(f"{type(method).__name__} to {chat_id} for {current.client.chat.id}")

    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    summary = Counter(
        (r.name, r.exc_info[0].__name__ if r.exc_info and r.exc_info[0] else r.getMessage()[:80])
        for r in failures
    )
    assert not summary, summary
    assert not problems, Counter(problems).most_common(10)
    assert not wrong_chat, wrong_chat[:10]
    return fuzzer


@pytest.fixture
def settings(tmp_path: Path, sandbox: SandboxExchanger) -> Settings:
    return make_settings(tmp_path, sandbox.url, admin_ids=frozenset({ADMIN_ID}))


async def test_thousands_of_hostile_updates_end_in_no_traceback_and_no_reply_over_the_limits(
    services: Services, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    dp = build_dispatcher(services)
    rng = random.Random(SEED)
    commands = [name for name, _ in help_commands(services.platform_info)]
    commands += ["admin", "codes", "start", "login", "logout", "stats", "unknown", "START", "help"]

    def actor(**kwargs: object) -> Actor:
        return Actor(BotClient(dp, bot, **kwargs), commands)  # type: ignore[arg-type]

    partner = actor(user_id=800002, first_name="Pat", language_code="en")
    await partner.client.send("/login")
    await partner.client.send(PARTNER.login)
    linked = await partner.client.send(PARTNER.key)
    assert "Key linked" in linked.text
    actors = [
        actor(user_id=800001, first_name="Ann", language_code="en"),
        actor(user_id=800003, first_name="Ива́н", language_code="ru"),
        actor(user_id=800004, first_name="<b>&", language_code=None),
        partner,
        actor(user_id=ADMIN_ID, first_name="Root", language_code="ru"),
        actor(user_id=800005, chat_id=-100800005, chat_type="supergroup", language_code="en"),
        actor(user_id=800006, chat_id=-800006, chat_type="group", language_code="ru"),
    ]
    fuzzer = await fuzz(Fuzzer(dp, bot, rng), actors, UPDATES, caplog)
    # the run went where it should: every kind of update, deep into the conversations
    assert min(fuzzer.kinds.values()) > 100, fuzzer.kinds
    reached = {state.split(":")[0] for state in fuzzer.states if state}
    assert {"Exchange", "LoginStates"} <= reached, fuzzer.states
    deep = sum(n for state, n in fuzzer.states.items() if state and state.startswith("Exchange:") and
               state not in ("Exchange:give", "Exchange:get"))  # fmt: skip
    assert deep > 100, fuzzer.states


def callback_data_classes() -> list[type[CallbackData]]:
    """Every CallbackData factory of the handlers (new ones are swept without editing this test)."""
    for module in pkgutil.walk_packages(handlers.__path__, "handlers."):
        importlib.import_module(module.name)
    found: list[type[CallbackData]] = []
    pending = list(CallbackData.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith("handlers."):
            found.append(cls)
    return sorted(found, key=lambda c: c.__prefix__)


def sweep(cls: type[CallbackData], bad: int) -> list[str]:
    """Data of ``cls`` with its first field set to each word we know, every other number field ``bad``
    and every other text field a value no button of ours carries."""
    names = list(cls.model_fields)
    rest = [str(bad) if cls.model_fields[n].annotation is int else "é%00" for n in names[1:]]
    out = []
    for word in WORDS:
        data = ":".join([cls.__prefix__, word, *rest])
        if len(data.encode()) <= MAX_BUTTON_BYTES:
            out.append(data)
    return out


async def test_every_button_prefix_with_numbers_out_of_range_is_answered_calmly(
    services: Services, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    dp = build_dispatcher(services)
    classes = callback_data_classes()
    assert {"x", "o", "pt", "ptl", "adm", "m"} <= {c.__prefix__ for c in classes}
    # the partner reaches the cabinet and the customer flow; the admin the operator's screens
    partner = BotClient(dp, bot, user_id=800102, language_code="ru")
    await partner.send("/login")
    await partner.send(PARTNER.login)
    await partner.send(PARTNER.key)
    await partner.send("/exchange")
    admin = BotClient(dp, bot, user_id=ADMIN_ID, language_code="en")
    await admin.send("/start")
    unanswered, too_long = [], []
    plan = [(partner, cls, 2**70) for cls in classes]
    plan += [(admin, cls, -(2**70)) for cls in classes if cls.__prefix__.startswith("ad")]
    for client, cls, bad in plan:
        for data in sweep(cls, bad):
            reply = await client.click_data(data, client.last)
            if reply.callback_answer is None:
                unanswered.append(data)
            too_long += [m.text[:40] for m in reply.shown if len(visible_text(m.text)) > MAX_TEXT]
    failures = Counter(
        (r.name, r.exc_info[0].__name__ if r.exc_info and r.exc_info[0] else r.getMessage()[:80])
        for r in caplog.records
        if r.levelno >= logging.ERROR
    )
    assert not failures, failures
    assert not too_long, too_long
    # every press is answered (Telegram shows a spinner on the button until it is)
    assert not unanswered, Counter(d.split(":")[0] for d in unanswered)


async def test_credentials_a_header_cannot_carry_are_refused_before_any_call(
    make_client, sandbox: SandboxExchanger
) -> None:
    for language, expected in (("en", "can hold only Latin letters"), ("ru", "только латинские")):
        client = make_client(user_id=800200 + len(language), language_code=language)
        await client.send("/login")
        before = sum(sandbox.requests.values())
        for login in ("логин", "part\u200bner", "👍", "a\tb"):
            assert expected in (await client.send(login)).text
        await client.send(PARTNER.login)
        for key in ("ключ-ключ-ключ-ключ-ключ", "partner-key-11111\u00a011111111111", "k" * 15 + "\x07"):
            reply = await client.send(key)
            assert expected in reply.text or "does not look like" in reply.text or "не похоже" in reply.text
        assert sum(sandbox.requests.values()) == before, "nothing reached the exchange"
        assert "Key linked" in (await client.send(PARTNER.key)).text or "привязан" in client.last.text


def test_every_platforms_credential_fields_take_only_what_a_header_can_carry() -> None:
    hostile = ["ключ" * 5, "key-" * 4 + "é", "tab\there-0123456789", "line\nbreak-0123", "x" * 16 + "\x00"]
    for name in PLATFORMS:
        for field in platform_info(name).credential_fields:
            for value in hostile:
                _value, problem = check_input(field, value)
                assert problem is not None, (name, field.name, value)
            # whatever a field accepts goes into an HTTP header as it is
            for value in ("A" * 16, "a1!-_~" * 3):
                _value, problem = check_input(field, value)
                if problem is None:
                    httpx.Headers({"X-Test": value})
                    assert value.encode("ascii").isascii()


async def test_the_session_guard_cuts_what_slipped_through_without_breaking_html(
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = FakeTelegramSession()
    session.middleware(TelegramLimits())
    bot = Bot(FAKE_TOKEN, session=session, default=BOT_DEFAULTS)
    caplog.set_level(logging.WARNING)
    long_html = "<b>Title</b>\n" + "<i>" + "&lt;tag&gt; 🙂 " * 700 + "</i>" + "<code>end</code>"
    sent = await bot.send_message(1, long_html)
    photo = await bot.send_photo(1, BufferedInputFile(b"png", "x.png"), caption="<b>" + "я" * 2000 + "</b>")
    plain = await bot.send_message(1, "<" * 5000, parse_mode=None)
    await bot.answer_callback_query("q1", text="ok " * 100)
    shown = session.messages[(1, sent.message_id)].text
    # Telegram counts UTF-16 units: the emoji count twice
    assert MAX_TEXT - 10 < visible_units(shown) <= MAX_TEXT and shown.endswith("…</i>")
    assert shown.count("<i>") == shown.count("</i>") and "&lt;tag&gt;" in shown
    assert len(visible_text(session.messages[(1, photo.message_id)].text)) <= MAX_CAPTION
    assert session.messages[(1, plain.message_id)].text == "<" * 4095 + "…"
    answer = session.requests[-1]
    assert isinstance(answer, AnswerCallbackQuery) and len(answer.text) == MAX_CALLBACK_ANSWER
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.app.telegram_limits"]
    assert len(warnings) == 4 and "Title" not in " ".join(warnings)
    # within the limits nothing changes
    short = await bot.send_message(1, "<b>short</b> &amp; sweet")
    assert session.messages[(1, short.message_id)].text == "<b>short</b> &amp; sweet"


async def test_the_session_guard_keeps_entities_within_the_cut_text() -> None:
    session = FakeTelegramSession()
    session.middleware(TelegramLimits())
    bot = Bot(FAKE_TOKEN, session=session, default=BOT_DEFAULTS)
    # 20 + 4070 + 30 + 10 UTF-16 units: cut to 4095, the spaces stripped, then the ellipsis
    text = "🙂" * 10 + "a" * 4070 + " " * 30 + "b" * 10
    entities = [
        MessageEntity(type="bold", offset=0, length=2),  # the first emoji: two units
        MessageEntity(type="italic", offset=4080, length=15),  # runs into the stripped spaces
        MessageEntity(type="code", offset=4092, length=10),  # only in what was stripped
        MessageEntity(type="underline", offset=4120, length=10),  # in what was cut
    ]
    await bot.send_message(1, text, entities=entities, parse_mode=None)
    request = session.requests[-1]
    assert isinstance(request, SendMessage) and request.text == "🙂" * 10 + "a" * 4070 + "…"
    kept = [(e.type, e.offset, e.length) for e in request.entities or []]
    assert kept == [("bold", 0, 2), ("italic", 4080, 10)]
    assert all(offset + length <= units(request.text) - 1 for _, offset, length in kept)


async def test_hostile_updates_on_0trace_with_its_reference_codes(
    tmp_path: Path, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """The same on a platform with reference codes (the admins' /codes) and per-order secrets."""
    caplog.set_level(logging.WARNING)
    zt = ZeroTraceSandbox(step_seconds=None)
    await zt.start("127.0.0.1", 0)
    try:
        settings = make_settings(
            tmp_path,
            zt.url,
            exchanger_platform="0trace",
            exchanger_api_login=None,
            exchanger_api_key=ZT_DEMO.key,
            exchanger_api_secret=ZT_DEMO.secret,
            exchanger_webhook_secret=ZT_DEMO.webhook_secret,
            admin_ids=frozenset({ADMIN_ID}),
        )
        async with open_services(settings) as services:
            services.platform.placement.retry_delay = 0.01  # type: ignore[attr-defined]
            services.platform.client.retry_delay = 0.01  # type: ignore[attr-defined]
            dp = build_dispatcher(services)
            commands = [name for name, _ in help_commands(services.platform_info)] + ["admin", "codes"]
            actors = [
                Actor(BotClient(dp, bot, user_id=810001, language_code="en"), commands),
                Actor(BotClient(dp, bot, user_id=810002, language_code="ru"), commands),
                Actor(BotClient(dp, bot, user_id=ADMIN_ID, language_code="en"), commands, CODES_JOURNEY),
                Actor(BotClient(dp, bot, user_id=810003, chat_id=-810003, chat_type="group"), commands),
            ]
            fuzzer = await fuzz(Fuzzer(dp, bot, random.Random(SEED + 1), ZT_JOURNEY), actors, 800, caplog)
    finally:
        await zt.stop()
    assert fuzzer.states["Exchange:amount"] + fuzzer.states["Exchange:field"] > 20, fuzzer.states
    assert any(state and state.startswith(("NewCode", "PairLink")) for state in fuzzer.states), fuzzer.states


def balanced(telegram_html: str) -> bool:
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-z-]+)[^>]*>", telegram_html):
        closing, name = match.groups()
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack and not re.search(r"&[^;\s]*$", telegram_html)


def test_cutting_html_keeps_it_valid_at_any_length() -> None:
    rng = random.Random(SEED)
    pieces = ["<b>", "</b>", "<i>", "</i>", '<a href="https://e.com/?a=1&amp;b=2">', "</a>", "<code>",
              "</code>", "&amp;", "&lt;", "&#128578;", "🙂", "я", "x", " ", "\n", "a\u0301"]  # fmt: skip
    for _ in range(500):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 400)))
        text = telegram_html(raw)  # well nested, as every text we send
        limit = rng.randint(2, 200)
        cut = cut_html(text, limit)
        assert visible_units(cut) <= limit, (text, limit, cut)
        assert balanced(cut), (text, limit, cut)
        if visible_units(text) <= limit:
            assert cut == text


async def test_a_forged_amount_button_never_reaches_the_exchange(
    client: BotClient, sandbox: SandboxExchanger
) -> None:
    await client.send("/exchange")
    await client.click("Sberbank RUB")
    reply = await client.click("Tether TRC20 USDT")
    flow = next(
        b.callback_data.split(":")[1] for m in reply.shown for row in m.buttons for b in row
        if b.callback_data and b.callback_data.startswith("x:")
    )  # fmt: skip
    before = sandbox.requests["get_calc"]
    for action in (cb.USE_AMOUNT, cb.RECEIVE_MAX):
        for value in ("9" * 40, "1E+60", "1E-30", "-5", "0", "NaN", str(2**70)):
            data = ExCb.make(flow, action, value).pack()
            await client.click_data(data[:MAX_BUTTON_BYTES], client.last)
    assert sandbox.requests["get_calc"] == before
    quoted = await client.send("10000")
    assert sandbox.requests["get_calc"] > before and quoted.shown
