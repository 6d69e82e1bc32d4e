"""Small helpers every handler uses to show a screen the same way."""

from __future__ import annotations

from contextlib import suppress

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def show(event: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer a message with a new message; answer a button press by editing the message it was on
    (falling back to a new message when that one is too old or has no text to edit)."""
    if isinstance(event, Message):
        await event.answer(text, reply_markup=markup)
        return
    message = event.message
    if isinstance(message, Message) and message.text is not None:
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "message is not modified" in str(exc):
                return
    if event.message is not None:
        await event.bot.send_message(event.message.chat.id, text, reply_markup=markup)  # type: ignore[union-attr]


async def drop_keyboard(message: Message | None) -> None:
    """Remove the buttons of an old message so they can't be pressed again."""
    if isinstance(message, Message) and message.reply_markup is not None:
        with suppress(TelegramBadRequest):
            await message.edit_reply_markup(reply_markup=None)
