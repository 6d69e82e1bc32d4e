"""Whether a chat can receive messages: a user blocks or unblocks the bot, or simply writes again."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated, TelegramObject

from bot.storage.repositories import ChatSettingsRepository


async def blocked(event: ChatMemberUpdated, chat_settings: ChatSettingsRepository) -> None:
    await chat_settings.mark_inactive(event.chat.id)


async def unblocked(event: ChatMemberUpdated, chat_settings: ChatSettingsRepository) -> None:
    await chat_settings.mark_active(event.chat.id)


async def chat_is_back(
    handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
    event: TelegramObject,
    data: dict[str, Any],
) -> Any:
    """A chat marked inactive (a send was refused) that writes to us can be written to again. A
    private chat is remembered, so an operator's broadcast reaches it."""
    chat, chat_settings = data.get("event_chat"), data.get("chat_settings")
    if chat is not None and chat_settings is not None:
        if not await chat_settings.is_active(chat.id):
            await chat_settings.mark_active(chat.id)
        if chat.type == "private":
            await chat_settings.remember_chat(chat.id)
    return await handler(event, data)


def create_router() -> Router:
    router = Router(name="chat-member")
    router.my_chat_member.register(blocked, ChatMemberUpdatedFilter(member_status_changed=KICKED))
    router.my_chat_member.register(unblocked, ChatMemberUpdatedFilter(member_status_changed=MEMBER))
    return router
