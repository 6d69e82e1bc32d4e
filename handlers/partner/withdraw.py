"""/withdraw: payout currency → account → review → Confirm (sent once, however often it is pressed).

Where the platform takes payout requests (``Capability.PAYOUT_REQUEST``); elsewhere /withdraw only
says where on the site a payout is requested (:func:`create_site_router`)."""

from __future__ import annotations

import base64
import secrets
from decimal import Decimal, InvalidOperation
from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.capabilities import PlatformInfo
from bot.domain.models import PartnerSummary
from bot.partner.payouts import (
    AccountError,
    Outcome,
    PayoutResult,
    RefusalReason,
    below_minimum,
    clean_account,
    find_method,
    plain,
    refusal_reason,
    request_payout,
)
from bot.platforms.base import Platform
from bot.storage.payouts import PayoutRequestRepository, PayoutState
from bot.storage.repositories import PartnerCredentialRepository
from bot.text import shorten
from handlers.callbacks import NavCb
from handlers.filters import TYPED_TEXT
from handlers.partner.callbacks import PartnerCb, WithdrawCb
from handlers.partner.common import (
    CALLBACK_DATA_LIMIT,
    balance_line,
    balance_text,
    base_currency_note,
    cabinet_of,
    cancel_keyboard,
    chat_id_of,
    fetch_for_screen,
    minimum_text,
    money_text,
    payout_method_lines,
    payout_page_url,
    server_text,
    summary_for_screen,
)
from handlers.partner.states import WithdrawStates
from handlers.replies import show


# The account is personal data and the FSM data is stored in plain JSON: keep it sealed there.
def _seal(partner_credentials: PartnerCredentialRepository, chat_id: int, account: str) -> str:
    blob = partner_credentials.box.encrypt(account, aad=f"payout-account:{chat_id}".encode())
    return base64.b64encode(blob).decode("ascii")


def _unseal(partner_credentials: PartnerCredentialRepository, chat_id: int, sealed: str) -> str:
    return partner_credentials.box.decrypt(base64.b64decode(sealed), aad=f"payout-account:{chat_id}".encode())


MAX_METHOD_BUTTONS = 20
REFUSAL_TEXT = 300
BUTTON_TEXT = 40


def _currencies_text(summary: PartnerSummary) -> str:
    lines = [
        _("💰 <b>Withdraw</b>"),
        balance_line(summary),
        _("The whole balance is paid out. Choose the currency (available · commission):"),
        "",
        *payout_method_lines(summary),
    ]
    note = base_currency_note(summary)
    if note:
        lines += ["", note]
    return "\n".join(lines)


def _method_buttons(kb: InlineKeyboardBuilder, summary: PartnerSummary) -> int:
    """A button per payout method whose id fits in callback data; at most ``MAX_METHOD_BUTTONS``."""
    count = 0
    for method in summary.methods:
        try:
            data = WithdrawCb(action="pick", method=method.id).pack()
        except ValueError:  # the id holds the callback data separator
            continue
        if len(data.encode()) > CALLBACK_DATA_LIMIT:
            continue
        label = shorten(" ".join(method.title.split()), BUTTON_TEXT) or shorten(method.id, BUTTON_TEXT) or "?"
        kb.button(text=label, callback_data=data)
        count += 1
        if count == MAX_METHOD_BUTTONS:
            break
    return count


async def withdraw(
    event: Message | CallbackQuery,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()
    await state.clear()
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    fetched = await summary_for_screen(event, access, PartnerCb(screen="wd"))
    if fetched is None:
        return
    summary = fetched[1]
    kb = InlineKeyboardBuilder()
    if below_minimum(summary):
        kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
        text = _(
            "💰 Your balance is <b>{balance}</b>, below the minimum payout of <b>{minimum}</b>. "
            "You can request a payout once the balance reaches the minimum."
        ).format(balance=balance_text(summary), minimum=minimum_text(summary))
        await show(event, text, kb.as_markup())
        return
    if not _method_buttons(kb, summary):
        kb = InlineKeyboardBuilder()
        kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
        await show(event, _("The exchange offers no payout currencies right now."), kb.as_markup())
        return
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    kb.adjust(1)
    await show(event, _currencies_text(summary), kb.as_markup())


async def pick_currency(
    callback: CallbackQuery,
    callback_data: WithdrawCb,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
) -> None:
    await callback.answer()
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    fetched = await summary_for_screen(callback, access, callback_data.pack())
    if fetched is None:
        return
    method = find_method(fetched[1], callback_data.method)
    if method is None:
        await show(
            callback, _("This payout currency is no longer offered. Choose another one: /withdraw"), None
        )
        return
    await state.set_state(WithdrawStates.account)
    await state.set_data(
        {
            "method": method.id,
            "title": method.title,
            "amount": str(method.available if method.available is not None else ""),
            "currency": method.currency_code,
            "commission": method.fee_text,
        }
    )
    await show(
        callback,
        _("💰 Payout in <b>{title}</b>.\nSend the account (wallet, card or purse number) to pay to:").format(
            title=server_text(method.title or method.id)
        ),
        cancel_keyboard(),
    )


async def got_account(
    message: Message, state: FSMContext, partner_credentials: PartnerCredentialRepository
) -> None:
    try:
        account = clean_account(message.text)
    except AccountError:
        await message.answer(
            _("That does not look like an account number. Send it as one line of text."),
            reply_markup=cancel_keyboard(),
        )
        return
    request_key = secrets.token_urlsafe(12)
    await state.update_data(
        account=_seal(partner_credentials, message.chat.id, account), request_key=request_key
    )
    await state.set_state(WithdrawStates.review)
    data = await state.get_data()
    await message.answer(
        _review_text(data, account), reply_markup=_review_keyboard(data["method"], request_key)
    )


def _review_text(data: dict, account: str) -> str:
    amount = data.get("amount") or ""
    return "\n".join(
        (
            _("💰 <b>Check your payout request</b>"),
            _("Currency: <b>{title}</b>").format(title=server_text(data.get("title") or data.get("method"))),
            _("Amount available: <b>{amount}</b>, commission {commission}").format(
                amount=money_text(_decimal(amount), str(data.get("currency") or "")),
                commission=server_text(data.get("commission") or "—"),
            ),
            _("Account: <code>{account}</code>").format(account=escape(account)),
            "",
            _("The exchange pays out your whole balance. Confirm?"),
        )
    )


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _review_keyboard(method: str, request_key: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Confirm"), callback_data=WithdrawCb(action="confirm", method=method, key=request_key)
    )
    kb.button(text=_("✏️ Change the account"), callback_data=WithdrawCb(action="edit"))
    kb.button(text=_("✖️ Cancel"), callback_data=NavCb(action="cancel"))
    kb.adjust(1)
    return kb.as_markup()


async def edit_account(callback: CallbackQuery, state: FSMContext) -> None:
    await callback.answer()
    if not (await state.get_data()).get("method"):
        await show(callback, _("Let's start again: send /withdraw."), _done_keyboard())
        return
    await state.set_state(WithdrawStates.account)
    await show(callback, _("Send the account to pay to:"), cancel_keyboard())


def _result_text(result: PayoutResult) -> str:
    if result.outcome is Outcome.CREATED or (result.outcome is Outcome.ALREADY and result.payout_id):
        return _(
            "✅ Payout requested. Payout ID: <b>{payout_id}</b>.\n"
            "Keep it to reconcile; see its status in /payouts."
        ).format(payout_id=server_text(result.payout_id))
    if result.outcome is Outcome.REFUSED:
        return _("❌ The exchange refused the payout: {reason}").format(reason=refusal_text(result.refusal))
    if result.outcome is Outcome.UNKNOWN or result.state is PayoutState.UNKNOWN:
        return _(
            "⚠️ The exchange did not answer in time, so the payout may or may not have been created. "
            "Check /payouts before requesting it again."
        )
    if result.state is PayoutState.SENDING:
        return _("⏳ This payout request is already being sent. Its result follows shortly; see /payouts.")
    if result.state is PayoutState.REFUSED:
        return _("This payout request was refused. Start a new one with /withdraw.")
    return _("This payout request is no longer active. Start a new one with /withdraw.")


def refusal_text(text: str) -> str:
    reason = refusal_reason(text)
    if reason is RefusalReason.MINIMUM:
        return _("your balance is below the minimum payout.")
    if reason is RefusalReason.ACCOUNT:
        return _("the account is empty.")
    if reason is RefusalReason.METHOD:
        return _("this payout currency is not available.")
    return server_text(plain(text), REFUSAL_TEXT) or _("no reason given.")


async def confirm(
    callback: CallbackQuery,
    callback_data: WithdrawCb,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    payout_requests: PayoutRequestRepository,
    locale: str,
    site_url: str,
) -> None:
    chat_id = chat_id_of(callback)
    repo = payout_requests
    name = platform.info.name
    data = await state.get_data()
    if data.get("request_key") != callback_data.key or data.get("method") != callback_data.method:
        # Not the request under review: a second press after it finished, or forged data. Only our
        # database is read, so the answer can carry the outcome.
        previous = (
            await repo.get(chat_id=chat_id, request_key=callback_data.key) if callback_data.key else None
        )
        if previous is None:
            text = _("This payout request is no longer active. Start a new one with /withdraw.")
            await callback.answer(text, show_alert=True)
            await show(callback, text, _done_keyboard())
        else:
            text = _result_text(
                PayoutResult(Outcome.ALREADY, payout_id=previous.payout_id, state=previous.state)
            )
            await callback.answer(plain(text), show_alert=True)
            await show(callback, text, _done_keyboard())
        return
    await callback.answer()
    account = _unseal(partner_credentials, chat_id, data["account"])
    fetched = await fetch_for_screen(
        callback,
        cabinet_of(platform, partner_credentials, locale, site_url),
        lambda cabinet: request_payout(
            repo, cabinet, chat_id, name, callback_data.key, data["method"], account
        ),
        callback_data.pack(),
    )
    if fetched is None:
        return
    result = fetched[1]
    if result.outcome is not Outcome.ALREADY:
        await state.clear()
    await show(callback, _result_text(result), _done_keyboard())


def _done_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("💸 Payouts"), callback_data=PartnerCb(screen="pay"))
    kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
    return kb.as_markup()


async def withdraw_on_site(
    message: Message, state: FSMContext, platform_info: PlatformInfo, site_url: str
) -> None:
    await state.clear()
    url = payout_page_url(platform_info, site_url)
    kb = InlineKeyboardBuilder()
    if url:
        kb.button(text=_("💰 Withdraw on the site"), url=url)
        text = _("💰 This exchange takes payout requests on its website, not through the bot: {url}").format(
            url=escape(url)
        )
    else:
        text = _(
            "💰 This exchange takes payout requests in your personal account on its website, "
            "not through the bot."
        )
    kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
    kb.adjust(1)
    await message.answer(text, reply_markup=kb.as_markup())


def create_site_router(info: PlatformInfo) -> Router:
    """/withdraw where the platform takes no payout request through its API: where to ask on the site."""
    router = Router(name="partner-withdraw-on-site")
    router.message.register(withdraw_on_site, Command("withdraw"))
    return router


def create_router(info: PlatformInfo) -> Router:
    router = Router(name="partner-withdraw")
    router.message.register(withdraw, Command("withdraw"))
    router.callback_query.register(withdraw, PartnerCb.filter(F.screen == "wd"))
    router.callback_query.register(pick_currency, WithdrawCb.filter(F.action == "pick"))
    router.callback_query.register(edit_account, WithdrawCb.filter(F.action == "edit"))
    router.callback_query.register(confirm, WithdrawCb.filter(F.action == "confirm"))
    router.message.register(got_account, WithdrawStates.account, TYPED_TEXT)
    return router
