"""Features that show personal data (orders, the partner cabinet) live in private chats only.

`private_only` wraps a feature's routers: in a group, its commands get a short answer with a link to
a private chat, its buttons an alert, and none of its handlers run there."""

from collections.abc import Callable, Iterable

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _


def private_only(
    name: str,
    routers: Iterable[Router],
    *,
    commands: Iterable[str],
    callback_data: str,
    explanation: Callable[[], str],
) -> Router:
    """`callback_data` is a regular expression matching the feature's buttons' data."""

    async def group_command(message: Message, bot: Bot) -> None:
        username = (await bot.me()).username
        markup = None
        if username:
            button = InlineKeyboardButton(text=_("💬 Open a private chat"), url=f"https://t.me/{username}")
            markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
        await message.answer(explanation(), reply_markup=markup)

    async def group_button(callback: CallbackQuery) -> None:
        await callback.answer(explanation(), show_alert=True)

    guard = Router(name=f"{name}-group-guard")
    guard.message.register(group_command, Command(*commands), F.chat.type != "private")
    guard.callback_query.register(
        group_button, F.message.chat.type != "private", F.data.regexp(callback_data)
    )
    private = Router(name=f"{name}-private")
    private.message.filter(F.chat.type == "private")
    private.callback_query.filter(F.message.chat.type == "private")
    private.include_routers(*routers)
    root = Router(name=name)
    # Private traffic is nearly all of it: offer updates to the private routers first.
    root.include_routers(private, guard)
    return root
