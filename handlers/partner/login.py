"""/login and /logout: link a partner's key to this chat, or forget it.

/login asks for the platform's credential fields one by one (``PlatformInfo.credential_fields``; an
optional one only when the exchange says the key needs it: ``SignatureRequired``). A message holding a
secret is deleted at once; what was typed so far is kept only sealed in the FSM data; the key is checked
with the exchange (``PartnerCabinet.check_key``, one call) before it is stored.
"""

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

from bot.app.config import Settings
from bot.domain.capabilities import (
    Capability,
    CredentialField,
    CredentialInputError,
    PartnerCredentials,
    PlatformInfo,
)
from bot.domain.errors import (
    CredentialsRejected,
    ExchangerError,
    IpNotAllowed,
    NotAPartner,
    PartnerProgramOff,
    PermissionMissing,
    SignatureRequired,
)
from bot.partner.account import InputProblem, check_input, seal_values, unseal_values
from bot.partner.features import capabilities_lacking
from bot.partner.news_state import reset_state
from bot.partner.push_setup import register_partner_push, unregister_partner_push
from bot.platforms.base import KeyCheck, Platform
from bot.storage.crypto import SecretBox
from bot.storage.repositories import PartnerCredentialRepository
from handlers.callbacks import MenuCb, NavCb
from handlers.filters import TYPED_TEXT
from handlers.keyboards import back_to_menu
from handlers.partner.callbacks import PartnerCb
from handlers.partner.common import chat_id_of, key_page_url, partner_error_text, permission_text, server_text
from handlers.partner.states import LoginStates
from handlers.replies import show

log = logging.getLogger(__name__)

# FSM data keys
_STEP = "login_step"  # index in the fields asked (see _asked)
_EXTRA = "login_extra"  # names of the optional fields the exchange asked for
_SEALED = "login_values"  # the fields typed so far
_CHECKING = "login_checking"  # every field, kept while the exchange could not be asked: "Try again"

# The partner must change something (the key, its settings, the account): the last field is asked
# for again. Any other failure is the exchange's: the same values can be checked again.
_FIX_ON_THE_SITE = (CredentialsRejected, IpNotAllowed, PermissionMissing, NotAPartner, PartnerProgramOff)


def capability_name(capability: Capability) -> str:
    """What a capability lets a partner do, for "this key can't …" lists."""
    names = {
        Capability.PARTNER_SUMMARY: _("see the balance and payout currencies"),
        Capability.PARTNER_STATS: _("see the statistics"),
        Capability.PARTNER_CLICKS: _("see the clicks on your links"),
        Capability.PARTNER_REFERRALS: _("see your referred clients"),
        Capability.PARTNER_EXCHANGES: _("see the exchanges you referred"),
        Capability.PARTNER_PAYOUTS: _("see your payouts"),
        Capability.PAYOUT_REQUEST: _("request payouts"),
        Capability.REFERRAL_LINKS: _("make referral links"),
        Capability.REFERENCE_CODES: _("use reference codes"),
        Capability.PUSH_WEBHOOK: _("hear about payouts as soon as they happen"),
    }
    return names.get(capability, capability.value)


def _box(partner_credentials: PartnerCredentialRepository) -> SecretBox:
    return partner_credentials.box


def _asked(info: PlatformInfo, extra: object = ()) -> list[CredentialField]:
    """The fields to ask for, in order: every field that is not optional, then the optional ones the
    exchange asked for (``extra``: their names)."""
    wanted = set(extra) if isinstance(extra, list | tuple) else set()
    fields = info.credential_fields
    return [f for f in fields if not f.optional] + [f for f in fields if f.optional and f.name in wanted]


def _step_keyboard(step: int, *, can_retry: bool = False) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if can_retry:
        kb.button(text=_("🔄 Try again"), callback_data=PartnerCb(screen="login_retry"))
    if step > 0:
        kb.button(text=_("↩️ Start over"), callback_data=PartnerCb(screen="login"))
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    kb.adjust(1)
    return kb.as_markup()


def _prompt(fields: list[CredentialField], step: int) -> str:
    field = fields[step]
    text = _("Step {step} of {steps}: send your <b>{label}</b>.").format(
        step=step + 1, steps=len(fields), label=escape(_(field.label))
    )
    if field.hint:
        text += "\n" + escape(_(field.hint))
    if field.secret:
        text += "\n" + _("I delete the message with it at once and keep it only encrypted.")
    return text


def _problem_text(field: CredentialField, problem: InputProblem | str) -> str:
    """What is wrong with a typed value: an :class:`InputProblem`, or a ``CredentialInputError.reason``."""
    label = escape(_(field.label))
    if problem == "other_site":
        return _("That link is for another site. Send your {label} for this exchange.").format(label=label)
    if problem in ("missing_param", "ambiguous"):
        return _("I could not read your {label} from that link. Send it again, or type it.").format(
            label=label
        )
    if problem is InputProblem.CHARACTERS:
        return _(
            "The {label} can hold only Latin letters, digits and punctuation (no other alphabets, "
            "emoji or line breaks). Copy it from the site and send it again."
        ).format(label=label)
    return _("That does not look like your {label}. Copy it from the site and send it again.").format(
        label=label
    )


async def start_login(
    event: Message | CallbackQuery,
    state: FSMContext,
    platform_info: PlatformInfo,
    partner_credentials: PartnerCredentialRepository,
    site_url: str,
) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()
    await state.clear()
    fields = _asked(platform_info)
    if not fields:  # nothing a partner could type: a platform without keys
        await show(event, _("This exchange does not link partner keys in the bot."), back_to_menu())
        return
    await state.set_state(LoginStates.field)
    await state.update_data({_STEP: 0, _EXTRA: []})
    lines = [_("🔑 <b>Linking your partner key</b>")]
    url = key_page_url(platform_info, site_url)
    if url:
        lines.append(
            _("Create a key in your personal account on the exchange's website: {url}").format(
                url=escape(url)
            )
        )
    lines += ["", _prompt(fields, 0)]
    current = await partner_credentials.label(chat_id_of(event), platform_info.name)
    if current:
        lines += [
            "",
            _("Now linked: <code>{label}</code>. A new key replaces it.").format(label=escape(current)),
        ]
    await show(event, "\n".join(lines), _step_keyboard(0))


async def got_field(
    message: Message,
    state: FSMContext,
    platform: Platform,
    platform_info: PlatformInfo,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
    settings: Settings | None = None,
) -> None:
    data = await state.get_data()
    fields = _asked(platform_info, data.get(_EXTRA))
    step = data.get(_STEP)
    field = fields[step] if isinstance(step, int) and 0 <= step < len(fields) else None
    # A secret is registered with the log redactor (when shaped like one) before anything else.
    value, problem = check_input(field, message.text or "") if field else ("", InputProblem.EMPTY)
    if field is None or field.secret:
        with suppress(TelegramBadRequest):
            await message.delete()
    chat_id = message.chat.id
    box = _box(partner_credentials)
    values = unseal_values(box, chat_id, platform_info.name, data.get(_SEALED))
    if field is None or values is None:
        await state.clear()
        await message.answer(_("Let's start again: send /login."))
        return
    if problem is not None:
        await message.answer(_problem_text(field, problem), reply_markup=_step_keyboard(step))
        return
    values[field.name] = value
    if step + 1 < len(fields):
        await state.update_data(
            {_STEP: step + 1, _SEALED: seal_values(box, chat_id, platform_info.name, values)}
        )
        await message.answer(_prompt(fields, step + 1), reply_markup=_step_keyboard(step + 1))
        return
    await _check_and_save(
        message,
        state,
        platform,
        platform_info,
        partner_credentials,
        locale,
        site_url,
        values,
        fields,
        public_url=settings.public_url if settings is not None else None,
    )


async def _check_and_save(
    message: Message,
    state: FSMContext,
    platform: Platform,
    info: PlatformInfo,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
    values: dict[str, str],
    fields: list[CredentialField],
    *,
    public_url: str | None = None,
) -> None:
    """One ``check_key`` call; the key is stored only when the exchange accepts it. ``message``: where
    to answer (the partner's message, or the bot's one under a "Try again" button); ``fields``: the
    fields asked, all of them answered in ``values``."""
    chat_id = message.chat.id
    box = _box(partner_credentials)
    extra = [f.name for f in fields if f.optional]

    async def ask_again(
        field: CredentialField, text: str, keep: dict[str, str], wanted: list[str] = extra
    ) -> None:
        """Back to ``field``'s step (the values in ``keep`` stay), with ``text`` above its prompt;
        ``wanted``: the optional fields asked for."""
        asked = _asked(info, wanted)
        step = asked.index(field)
        data = {_STEP: step, _EXTRA: wanted, _CHECKING: None}
        data[_SEALED] = seal_values(box, chat_id, info.name, keep)
        await state.set_state(LoginStates.field)
        await state.update_data(data)
        await message.answer(text + "\n\n" + _prompt(asked, step), reply_markup=_step_keyboard(step))

    try:
        credentials = platform.credentials(values)
    except CredentialInputError as exc:
        field = next((f for f in fields if f.name == exc.field), None)
        if field is None:
            await state.clear()
            await message.answer(_("Let's start again: send /login."))
            return
        kept = {k: v for k, v in values.items() if k != field.name}
        await ask_again(field, _problem_text(field, exc.reason), kept)
        return
    except ValueError:
        await state.clear()
        await message.answer(_("Let's start again: send /login."))
        return
    await message.answer(_("⏳ Checking the key with the exchange…"))
    url = key_page_url(info, site_url)
    cabinet = platform.cabinet(credentials, locale)
    try:
        check = await cabinet.check_key()
    except SignatureRequired as exc:
        field = next((f for f in info.credential_fields if f.name == exc.field), None)
        if field is not None and field.name not in values:
            # The key needs one more value (its signing secret, say): ask for it, keep the rest.
            text = _("🔏 This key needs one more value: its {label}.").format(label=escape(_(field.label)))
            await ask_again(field, text, values, [*extra, field.name])
            return
        # Given, and still refused: that value is wrong.
        log.info("partner key check failed: %s", type(exc).__name__)
        last = field if field is not None and field in fields else fields[-1]
        kept = {k: v for k, v in values.items() if k != last.name}
        text = _("❌ The exchange refused the signed request: the {label} may be wrong.").format(
            label=escape(_(last.label))
        )
        await ask_again(last, text, kept)
        return
    except ExchangerError as exc:
        log.info("partner key check failed: %s", type(exc).__name__)
        # Keep what came before the last field: sending that one again checks again.
        kept = {k: v for k, v in values.items() if k != fields[-1].name}
        fixable = isinstance(exc, _FIX_ON_THE_SITE)
        checking = None if fixable else seal_values(box, chat_id, info.name, values)
        text = _check_error_text(exc, fields, url) + "\n\n" + _retry_text(fields, can_retry=not fixable)
        data = {_STEP: len(fields) - 1, _EXTRA: extra, _CHECKING: checking}
        data[_SEALED] = seal_values(box, chat_id, info.name, kept)
        await state.set_state(LoginStates.field)
        await state.update_data(data)
        await message.answer(text, reply_markup=_step_keyboard(len(fields) - 1, can_retry=not fixable))
        return
    if check.label and check.label != credentials.label:
        credentials = PartnerCredentials(credentials.platform, credentials.values, label=check.label)
    # A key linked before (maybe another account's) loses its push registration on the site.
    await unregister_partner_push(platform, await partner_credentials.load(chat_id, info.name))
    await partner_credentials.save(chat_id, credentials, check.partner_id)
    await reset_state(partner_credentials.db, info.name, chat_id)
    await register_partner_push(platform, partner_credentials, chat_id, cabinet, check, public_url)
    await state.clear()
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🤝 Open the cabinet"), callback_data=PartnerCb(screen="home"))
    await message.answer(_linked_text(check, credentials.label, info, url), reply_markup=kb.as_markup())


async def check_again(
    callback: CallbackQuery,
    state: FSMContext,
    platform: Platform,
    platform_info: PlatformInfo,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
    settings: Settings | None = None,
) -> None:
    """The same values checked once more, after the exchange could not be asked ("Try again")."""
    data = await state.get_data()
    chat_id = chat_id_of(callback)
    values = (
        unseal_values(_box(partner_credentials), chat_id, platform_info.name, data.get(_CHECKING))
        if await state.get_state() == LoginStates.field.state and data.get(_CHECKING)
        else None
    )
    if not values or not isinstance(callback.message, Message):
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer()
    await state.update_data({_CHECKING: None})
    fields = _asked(platform_info, data.get(_EXTRA))
    await _check_and_save(
        callback.message,
        state,
        platform,
        platform_info,
        partner_credentials,
        locale,
        site_url,
        values,
        fields,
        public_url=settings.public_url if settings is not None else None,
    )


def _retry_text(fields: list[CredentialField], *, can_retry: bool = False) -> str:
    label = escape(_(fields[-1].label))
    if can_retry:
        return _("Tap “Try again” in a moment, or send your {label} again.").format(label=label)
    if len(fields) == 1:
        return _("Send your {label} again when you are ready, or cancel.").format(label=label)
    return _("Send your {label} again when you are ready, start over, or cancel.").format(label=label)


def _check_error_text(exc: ExchangerError, fields: list[CredentialField], url: str) -> str:
    labels = ", ".join(escape(_(f.label)) for f in fields)
    if isinstance(exc, CredentialsRejected) and getattr(exc, "account_access_off", False):
        return _(
            "❌ The key is fine, but the exchange has API access switched off for your account. Ask the "
            "exchange's support to switch it on, then send the key again."
        )
    if isinstance(exc, CredentialsRejected):
        return _(
            "❌ The exchange does not accept this key: the {labels} may be wrong, or API access is not "
            "enabled for your account. Check them on the site."
        ).format(labels=labels)
    if isinstance(exc, NotAPartner):
        return _(
            "❌ This key does not belong to a partner account (it may be a service key of the exchange "
            "itself). Create a key in your own personal account."
        )
    if isinstance(exc, PermissionMissing):
        return permission_text(exc.permission, url)
    if isinstance(exc, IpNotAllowed):
        return _(
            "❌ This key only works from certain IP addresses, and the bot's address is not one of them. "
            "Allow it in the key's settings on the site, or create a key without an IP restriction."
        )
    if isinstance(exc, PartnerProgramOff):
        return _("🚫 The partner program is switched off on this exchange.")
    return partner_error_text(exc, url)


def _linked_text(check: KeyCheck, label: str, info: PlatformInfo, url: str) -> str:
    text = _("✅ Key linked: <code>{label}</code>, partner ID <b>{partner_id}</b>.").format(
        label=escape(check.label or label), partner_id=server_text(check.partner_id)
    )
    lacking = capabilities_lacking(info, check.missing)
    if lacking:
        rows = [
            _("• {what}: tick <code>{permission}</code>").format(
                what=capability_name(capability), permission=server_text(permission)
            )
            for capability, permission in lacking.items()
        ]
        where = _(
            "⚠️ With this key the bot can't yet do the following; tick these in the key's settings "
            "on the site:"
        )
        if url:
            where += " " + escape(url)
        text += "\n\n" + where + "\n" + "\n".join(rows)
    return text


async def logout(
    event: Message | CallbackQuery,
    state: FSMContext,
    platform_info: PlatformInfo,
    partner_credentials: PartnerCredentialRepository,
) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()
    await state.clear()
    label = await partner_credentials.label(chat_id_of(event), platform_info.name)
    if label is None:
        await show(event, _("No partner key is linked to this chat."), _unlinked_keyboard())
        return
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🚪 Yes, unlink it"), callback_data=PartnerCb(screen="logout_yes"))
    kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
    kb.adjust(1)
    await show(
        event,
        _("Unlink the key <code>{label}</code> from this chat? The bot forgets it.").format(
            label=escape(label)
        ),
        kb.as_markup(),
    )


async def logout_confirmed(
    callback: CallbackQuery,
    platform: Platform,
    platform_info: PlatformInfo,
    partner_credentials: PartnerCredentialRepository,
) -> None:
    await callback.answer()
    chat_id = chat_id_of(callback)
    await unregister_partner_push(platform, await partner_credentials.load(chat_id, platform_info.name))
    deleted = await partner_credentials.delete(chat_id, platform_info.name)
    text = (
        _("🚪 The key is unlinked and deleted. Send /login to link one again.")
        if deleted
        else _("No partner key is linked to this chat.")
    )
    await show(callback, text, _unlinked_keyboard())


def _unlinked_keyboard() -> InlineKeyboardMarkup:
    """The ways on from a chat without a key: link one, or back to the main menu."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔑 Link a key"), callback_data=PartnerCb(screen="login"))
    kb.button(text=_("⬅️ Main menu"), callback_data=MenuCb(item="main"))
    kb.adjust(1)
    return kb.as_markup()


def create_router(info: PlatformInfo) -> Router:
    router = Router(name="partner-login")
    router.message.register(start_login, Command("login"))
    router.callback_query.register(start_login, PartnerCb.filter(F.screen == "login"))
    router.message.register(logout, Command("logout"))
    router.callback_query.register(logout, PartnerCb.filter(F.screen == "logout"))
    router.callback_query.register(logout_confirmed, PartnerCb.filter(F.screen == "logout_yes"))
    router.callback_query.register(check_again, PartnerCb.filter(F.screen == "login_retry"))
    router.message.register(got_field, LoginStates.field, TYPED_TEXT)
    return router
