"""The partner cabinet: linking a key, figures, lists, exports, payouts and referral links.

Private chats only: in a group every partner command and button gets a short "open a private chat"
answer, and no partner data is ever shown there. ``deeplink`` is registered on its own, before the
``start`` router, so ``/start <payload>`` reaches it.
"""

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

COMMANDS = ("login", "logout", "partner", "stats", "referrals", "pexchanges", "payouts", "withdraw", "link")
_OUR_CALLBACKS = r"^(pt[a-z]*:|m:partner$)"


def _private_only_text() -> str:
    return _(
        "🔒 The partner cabinet works only in a private chat with me. Open it and send the command there."
    )


async def group_command(message: Message, bot: Bot) -> None:
    username = (await bot.me()).username
    kb = InlineKeyboardBuilder()
    if username:
        kb.button(text=_("💬 Open a private chat"), url=f"https://t.me/{username}")
    await message.answer(_private_only_text(), reply_markup=kb.as_markup() if username else None)


async def group_button(callback: CallbackQuery) -> None:
    await callback.answer(_private_only_text(), show_alert=True)


def create_router() -> Router:
    from handlers.partner import cabinet, links, lists, login, stats, withdraw

    root = Router(name="partner")
    guard = Router(name="partner-group-guard")
    guard.message.register(group_command, Command(*COMMANDS), F.chat.type != "private")
    guard.callback_query.register(
        group_button,
        F.message.chat.type != "private",
        F.data.regexp(_OUR_CALLBACKS),
    )
    private = Router(name="partner-private")
    private.message.filter(F.chat.type == "private")
    private.callback_query.filter(F.message.chat.type == "private")
    private.include_routers(
        *(module.create_router() for module in (login, cabinet, stats, lists, withdraw, links))
    )
    root.include_routers(guard, private)
    return root
