"""/login and /logout: link a partner API key to this chat, or forget it."""

from __future__ import annotations

import logging
from contextlib import suppress
from html import escape

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import SecretStr

from bot.exchanger.base import ExchangerPlatform
from bot.exchanger.errors import ApiDisabled, ExchangerError
from bot.logs import REDACTOR
from bot.partner.account import (
    ALL_PARTNER_METHODS,
    PAYOUT_METHOD,
    NoPartnerMethods,
    SystemKey,
    check_key,
    credentials,
    partner_id_number,
)
from bot.services import Services
from bot.storage.repositories import PartnerKeyRepository
from handlers.callbacks import NavCb
from handlers.filters import TYPED_TEXT
from handlers.partner.callbacks import PartnerCb
from handlers.partner.common import cancel_keyboard, chat_id_of, partner_error_text, server_text
from handlers.partner.states import LoginStates
from handlers.replies import show

log = logging.getLogger(__name__)

MAX_LOGIN = 100
MIN_KEY = 16
MAX_KEY = 256


def _looks_like_key(text: str) -> bool:
    """One word of ``MIN_KEY``..``MAX_KEY`` characters: what an exchanger's API key looks like."""
    return MIN_KEY <= len(text) <= MAX_KEY and not any(c.isspace() for c in text)


def _methods_list(methods: tuple[str, ...]) -> str:
    return ", ".join(f"<code>{escape(m)}</code>" for m in methods)


async def start_login(event: Message | CallbackQuery, state: FSMContext, partner_keys: PartnerKeyRepository,
                      services: Services) -> None:  # fmt: skip
    if isinstance(event, CallbackQuery):
        await event.answer()
    await state.clear()
    await state.set_state(LoginStates.login)
    text = _(
        "🔑 <b>Linking your partner key</b>\n\n"
        "Create an API key in your personal account on the exchange's website: {url}/user-api/ "
        "(tick the partner methods: {methods}).\n\n"
        "Step 1 of 2: send the key's <b>login</b>."
    ).format(url=escape(services.exchanger_url.rstrip("/")), methods=_methods_list(ALL_PARTNER_METHODS))
    current = await partner_keys.get_login(chat_id_of(event))
    if current:
        text += "\n\n" + _("Now linked: <code>{login}</code>. A new key replaces it.").format(
            login=escape(current)
        )
    await show(event, text, cancel_keyboard())


async def got_login(message: Message, state: FSMContext) -> None:
    login = (message.text or "").strip()
    if not login or len(login) > MAX_LOGIN or any(c.isspace() for c in login):
        await message.answer(
            _("That does not look like an API login (one word, no spaces). Send the login again."),
            reply_markup=cancel_keyboard(),
        )
        return
    await state.update_data(login=login)
    await state.set_state(LoginStates.key)
    await message.answer(
        _(
            "Step 2 of 2: send the <b>key</b> for login <code>{login}</code>.\n"
            "I delete the message with the key at once and keep the key only encrypted."
        ).format(login=escape(login)),
        reply_markup=_key_step_keyboard(),
    )


def _key_step_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✏️ Change the login"), callback_data=PartnerCb(screen="login"))
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    kb.adjust(1)
    return kb.as_markup()


async def got_key(
    message: Message,
    state: FSMContext,
    exchanger: ExchangerPlatform,
    partner_keys: PartnerKeyRepository,
) -> None:
    raw = (message.text or "").strip()
    looks_like_key = _looks_like_key(raw)
    if looks_like_key:
        # Before anything could log it. Only a key-shaped value: anything else typed here would let
        # anyone fill the redactor, or mask ordinary words in every log line.
        REDACTOR.add(raw)
    with suppress(TelegramBadRequest):
        await message.delete()
    key = SecretStr(raw)
    login = (await state.get_data()).get("login")
    if not login:
        await state.clear()
        await message.answer(_("Let's start again: send /login."))
        return
    if not looks_like_key:
        await message.answer(
            _(
                "That does not look like an API key (one word of {min}–{max} characters, no spaces). "
                "Send the key again."
            ).format(min=MIN_KEY, max=MAX_KEY),
            reply_markup=_key_step_keyboard(),
        )
        return
    await message.answer(_("⏳ Checking the key with the exchange…"))
    cabinet = exchanger.scoped(credentials=credentials(login, key))
    try:
        checked = await check_key(cabinet)
    except ApiDisabled:
        await message.answer(
            _(
                "❌ The exchange answered <b>“Api disabled”</b>: the login or the key is wrong, or API "
                "access is not enabled for your account. Check both on the site's API page and send "
                "the key again."
            ),
            reply_markup=_key_step_keyboard(),
        )
        return
    except SystemKey:
        await message.answer(
            _(
                "❌ This is the exchange's <b>system</b> key (user 0): it has no partner account. "
                "Create a key in your own personal account and send it."
            ),
            reply_markup=_key_step_keyboard(),
        )
        return
    except NoPartnerMethods as exc:
        await message.answer(
            _(
                "❌ This key is not allowed the partner methods {methods}. Tick them in the key's "
                "settings on the site's API page (/user-api/), or create a new key with them, and send "
                "the key again."
            ).format(methods=_methods_list(exc.missing)),
            reply_markup=_key_step_keyboard(),
        )
        return
    except ExchangerError as exc:
        log.info("partner key check failed: %s", type(exc).__name__)
        await message.answer(
            partner_error_text(exc) + "\n\n" + _("Send the key again when you are ready."),
            reply_markup=_key_step_keyboard(),
        )
        return

    chat_id = message.chat.id
    await partner_keys.save(chat_id, login, key, partner_id_number(checked.partner_id))
    await state.clear()
    text = _(
        "✅ Key linked: login <code>{login}</code>, partner ID <b>{partner_id}</b>.\n"
        "Payouts also need <code>{payout_method}</code> ticked for the key."
    ).format(login=escape(login), partner_id=server_text(checked.partner_id), payout_method=PAYOUT_METHOD)
    if checked.missing:
        text += "\n\n" + _(
            "⚠️ The key lacks {methods}: the screens that need them will say so. Tick them on the "
            "site's API page to see everything."
        ).format(methods=_methods_list(checked.missing))
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🤝 Open the cabinet"), callback_data=PartnerCb(screen="home"))
    await message.answer(text, reply_markup=kb.as_markup())


async def logout(
    event: Message | CallbackQuery, state: FSMContext, partner_keys: PartnerKeyRepository
) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()
    await state.clear()
    login = await partner_keys.get_login(chat_id_of(event))
    if login is None:
        await show(event, _("No partner key is linked to this chat."), None)
        return
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🚪 Yes, unlink it"), callback_data=PartnerCb(screen="logout_yes"))
    kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
    kb.adjust(1)
    await show(
        event,
        _("Unlink the key with login <code>{login}</code> from this chat? The bot forgets it.").format(
            login=escape(login)
        ),
        kb.as_markup(),
    )


async def logout_confirmed(callback: CallbackQuery, partner_keys: PartnerKeyRepository) -> None:
    await callback.answer()
    deleted = await partner_keys.delete(chat_id_of(callback))
    text = (
        _("🚪 The key is unlinked and deleted. Send /login to link one again.")
        if deleted
        else _("No partner key is linked to this chat.")
    )
    await show(callback, text, None)


def create_router() -> Router:
    router = Router(name="partner-login")
    router.message.register(start_login, Command("login"))
    router.callback_query.register(start_login, PartnerCb.filter(F.screen == "login"))
    router.message.register(logout, Command("logout"))
    router.callback_query.register(logout, PartnerCb.filter(F.screen == "logout"))
    router.callback_query.register(logout_confirmed, PartnerCb.filter(F.screen == "logout_yes"))
    router.message.register(got_login, LoginStates.login, TYPED_TEXT)
    router.message.register(got_key, LoginStates.key, TYPED_TEXT)
    return router
