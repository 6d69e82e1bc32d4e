"""The operator's commands (``ADMIN_IDS``, private chats only): ``/codes`` manages reference codes.

For everyone else the router does not exist: its filters fail, so ``/codes`` reaches the fallback's
usual answer and its buttons the stale-button answer. Registered only where the platform declares
``Capability.REFERENCE_CODES``.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.app.config import Settings
from bot.domain.capabilities import Capability, PlatformInfo
from bot.domain.errors import ExchangerError, ValidationFailed
from bot.domain.models import ReferenceCode
from bot.domain.money import format_amount
from bot.i18n import N_
from bot.partner.deeplink import deep_link, encode_code_payload
from bot.platforms.base import Platform, ReferenceCodes
from bot.qr import qr_png
from handlers.upstream import upstream_error_text

log = logging.getLogger(__name__)

# (command, msgid of its description): the admins' own command menu.
COMMANDS = (("codes", N_("Reference codes and links")),)
MAX_PAIR_TEXT = 100
SHOWN_CODES = 30  # a list longer than this would not fit in one message


class CodeCb(CallbackData, prefix="adm"):
    action: str  # "list" | "new" | "show" | "on" | "off" | "qr" | "pair"
    code: str = ""


class NewCode(StatesGroup):
    code = State()
    label = State()
    markup = State()


class PairLink(StatesGroup):
    pair = State()


def is_admin(event: Message | CallbackQuery, settings: Settings) -> bool:
    user = event.from_user
    return user is not None and user.id in settings.admin_ids


def _codes(platform: Platform) -> ReferenceCodes:
    codes = getattr(platform, "codes", None)
    assert codes is not None  # the router is registered only where the platform declares them
    return codes


def _markup(bps: int) -> str:
    if bps == 0:
        return _("the account's default")
    return _("{bps} bp ({percent}%)").format(bps=bps, percent=format_amount(Decimal(bps) / 100, ""))


def _line(code: ReferenceCode) -> str:
    state = "✅" if code.enabled else "⏸"
    label = f" · {escape(code.label)}" if code.label else ""
    return f"{state} <code>{escape(code.code)}</code>{label} · {_markup(code.markup_bps)}"


def _list_keyboard(codes: list[ReferenceCode]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in codes[:SHOWN_CODES]:
        kb.button(text=code.code, callback_data=CodeCb(action="show", code=code.code))
    kb.button(text=_("➕ New code"), callback_data=CodeCb(action="new"))
    kb.adjust(*([2] * ((min(len(codes), SHOWN_CODES) + 1) // 2)), 1)
    return kb.as_markup()


async def _send_list(message: Message, platform: Platform) -> None:
    try:
        codes = await _codes(platform).list()
    except ExchangerError as exc:
        await message.answer(upstream_error_text(exc))
        return
    if codes:
        lines = [_line(c) for c in codes[:SHOWN_CODES]]
        if len(codes) > SHOWN_CODES:
            lines.append(_("…and {count} more, managed in the exchange's cabinet.").format(
                count=len(codes) - SHOWN_CODES
            ))  # fmt: skip
        text = _("🏷 <b>Reference codes</b>\nOrders created with a code are credited to it.") + "\n\n"
        text += "\n".join(lines)
    else:
        text = _("🏷 You have no reference codes yet.")
    await message.answer(text, reply_markup=_list_keyboard(codes))


async def codes_command(message: Message, state: FSMContext, platform: Platform) -> None:
    await state.clear()
    await _send_list(message, platform)


async def list_button(callback: CallbackQuery, state: FSMContext, platform: Platform) -> None:
    await callback.answer()
    await state.clear()
    if isinstance(callback.message, Message):
        await _send_list(callback.message, platform)


async def _bot_link(bot: Bot, key: bytes, code: str) -> str | None:
    username = (await bot.me()).username
    return deep_link(username, encode_code_payload(key, code)) if username else None


async def _send_card(
    message: Message, code: ReferenceCode, platform: Platform, bot: Bot, link_signing_key: bytes
) -> None:
    site = await _codes(platform).link(code.code)
    bot_link = await _bot_link(bot, link_signing_key, code.code)
    lines = [
        _("🏷 Code <code>{code}</code>").format(code=escape(code.code)),
        _("Label: {label}").format(label=escape(code.label) if code.label else "—"),
        _("Markup: {markup}").format(markup=_markup(code.markup_bps)),
        _("Status: {status}").format(status=_("enabled") if code.enabled else _("disabled")),
        "",
        _("Referral link to the site:\n{link}").format(link=escape(site)),
    ]
    if bot_link:
        lines += ["", _("Link to this bot (customers' orders carry the code):\n{link}").format(link=bot_link)]
    kb = InlineKeyboardBuilder()
    if code.enabled:
        kb.button(text=_("⏸ Disable"), callback_data=CodeCb(action="off", code=code.code))
    else:
        kb.button(text=_("▶️ Enable"), callback_data=CodeCb(action="on", code=code.code))
    kb.button(text=_("🖼 QR code"), callback_data=CodeCb(action="qr", code=code.code))
    kb.button(text=_("🔀 Link with a pair"), callback_data=CodeCb(action="pair", code=code.code))
    kb.button(text=_("⬅️ All codes"), callback_data=CodeCb(action="list"))
    kb.adjust(2, 1, 1)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def _find(codes: ReferenceCodes, name: str) -> ReferenceCode | None:
    return next((c for c in await codes.list() if c.code == name), None)


async def code_button(
    callback: CallbackQuery,
    callback_data: CodeCb,
    state: FSMContext,
    platform: Platform,
    bot: Bot,
    link_signing_key: bytes,
) -> None:
    codes = _codes(platform)
    name = callback_data.code
    message = callback.message
    if not codes.valid_code(name) or not isinstance(message, Message):
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    try:
        if callback_data.action in ("on", "off"):
            found: ReferenceCode | None = await codes.set_enabled(name, callback_data.action == "on")
        else:
            found = await _find(codes, name)
    except ValidationFailed:
        found = None
    except ExchangerError as exc:
        await callback.answer()
        await message.answer(upstream_error_text(exc))
        return
    if found is None:
        await callback.answer(_("This code no longer exists."), show_alert=True)
        return
    await callback.answer()
    if callback_data.action == "qr":
        site = await codes.link(name)
        await message.answer_photo(
            BufferedInputFile(qr_png(site), filename=f"code-{name}.png"), caption=escape(site)
        )
    elif callback_data.action == "pair":
        await state.set_state(PairLink.pair)
        await state.update_data(code=name)
        await message.answer(await _ask_pair(platform))
    else:
        await state.clear()
        await _send_card(message, found, platform, bot, link_signing_key)


async def _ask_pair(platform: Platform) -> str:
    text = _(
        "Send the pair for the link as two currency ids, what the customer gives and what they "
        "receive, e.g. <code>usdt_trc20 btc</code>. Send /cancel to stop."
    )
    try:
        lists = await platform.customer().currencies()
    except ExchangerError:
        return text
    ids = sorted({c.id for c in (*lists.give, *lists.get)})
    shown = ", ".join(f"<code>{escape(i)}</code>" for i in ids[:60])
    return text + "\n\n" + _("Currency ids: {ids}").format(ids=shown)


async def pair_text(message: Message, state: FSMContext, platform: Platform) -> None:
    name = (await state.get_data()).get("code", "")
    parts = (message.text or "")[:MAX_PAIR_TEXT].split()
    if len(parts) != 2:
        await message.answer(
            _("Send two currency ids separated by a space, e.g. <code>usdt_trc20 btc</code>.")
        )
        return
    try:
        link = await _codes(platform).link(name, parts[0], parts[1])
    except ValueError:
        await message.answer(
            _("The exchange does not list one of these currencies. Check the ids and send again.")
        )
        return
    except ExchangerError as exc:
        await message.answer(upstream_error_text(exc))
        return
    await state.clear()
    await message.answer_photo(
        BufferedInputFile(qr_png(link), filename=f"code-{name}-pair.png"), caption=escape(link)
    )


async def new_button(callback: CallbackQuery, state: FSMContext, platform: Platform) -> None:
    await callback.answer()
    await state.set_state(NewCode.code)
    if isinstance(callback.message, Message):
        await callback.message.answer(_ask_code())


def _ask_code() -> str:
    return _(
        "Send the new code: 4 to 32 characters, Latin letters, digits, _ and -. Customers see it in "
        "links. Send /cancel to stop."
    )


async def code_text(message: Message, state: FSMContext, platform: Platform) -> None:
    name = (message.text or "").strip()
    if not _codes(platform).valid_code(name):
        await message.answer(_("This code can't be used. ") + _ask_code())
        return
    await state.update_data(code=name)
    await state.set_state(NewCode.label)
    await message.answer(
        _("Send a label to recognise the code by (at most {limit} characters), or - for none.").format(
            limit=_codes(platform).max_label
        )
    )


async def label_text(message: Message, state: FSMContext, platform: Platform) -> None:
    label = (message.text or "").strip()
    limit = _codes(platform).max_label
    if len(label) > limit:
        await message.answer(_("The label is too long: at most {limit} characters.").format(limit=limit))
        return
    await state.update_data(label=None if label == "-" else label)
    await state.set_state(NewCode.markup)
    await message.answer(_ask_markup(_codes(platform).max_markup_bps))


def _ask_markup(limit: int) -> str:
    return _(
        "Send the markup in basis points, a whole number from 0 to {limit} (100 bp = 1%; 0 uses the "
        "account's default)."
    ).format(limit=limit)


async def markup_text(
    message: Message, state: FSMContext, platform: Platform, bot: Bot, link_signing_key: bytes
) -> None:
    codes = _codes(platform)
    text = (message.text or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6 and int(text) <= codes.max_markup_bps):
        await message.answer(_("The markup must be a whole number from 0 to {limit}.").format(
            limit=codes.max_markup_bps
        ))  # fmt: skip
        return
    data = await state.get_data()
    try:
        created = await codes.create(str(data.get("code", "")), data.get("label"), int(text))
    except (ValidationFailed, ValueError):
        await state.set_state(NewCode.code)
        await message.answer(
            _("The exchange refused this code: it may be taken already, or the limit of codes is reached.")
            + "\n\n" + _ask_code()
        )  # fmt: skip
        return
    except ExchangerError as exc:
        await message.answer(upstream_error_text(exc) + "\n\n" + _("Send the markup again to retry."))
        return
    await state.clear()
    log.info("reference code %s created", created.code)
    await message.answer(_("✅ Code <code>{code}</code> created.").format(code=escape(created.code)))
    await _send_card(message, created, platform, bot, link_signing_key)


def serves_admins(info: PlatformInfo) -> bool:
    """Whether this platform has anything for the admins (today: reference codes)."""
    return info.serves(Capability.REFERENCE_CODES)


def create_router(info: PlatformInfo) -> Router | None:
    if not serves_admins(info):
        return None
    router = Router(name="admin")
    router.message.filter(F.chat.type == "private", is_admin)
    router.callback_query.filter(F.message.chat.type == "private", is_admin)
    router.message.register(codes_command, Command("codes"))
    typed = F.text & ~F.text.startswith("/")
    router.message.register(code_text, NewCode.code, typed)
    router.message.register(label_text, NewCode.label, typed)
    router.message.register(markup_text, NewCode.markup, typed)
    router.message.register(pair_text, PairLink.pair, typed)
    router.callback_query.register(list_button, CodeCb.filter(F.action == "list"))
    router.callback_query.register(new_button, CodeCb.filter(F.action == "new"))
    router.callback_query.register(
        code_button, CodeCb.filter(F.action.in_({"show", "on", "off", "qr", "pair"}))
    )
    return router
