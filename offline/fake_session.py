"""A Telegram Bot API session that talks to no server.

It answers the methods the bot uses as Telegram would (messages get ids, edits change the stored
message, files are read into memory) and tells its listeners about everything the bot shows. The
terminal chat and the test suite's `BotClient` both run the production Dispatcher on top of it.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import Chat, Document, InlineKeyboardMarkup, InputFile, Message, PhotoSize, User

from bot.text import visible_text

MAX_TEXT, MAX_CAPTION, MAX_BUTTONS, MAX_CALLBACK_DATA = 4096, 1024, 100, 64
BOT_USER = User(id=7000000001, is_bot=True, first_name="Exchanger", username="exchanger_demo_bot")
FAKE_TOKEN = "7000000001:AAFakeTokenForTheOfflineChatAndTests0"


@dataclass
class SentFile:
    kind: str  # "photo" | "document"
    filename: str
    content: bytes


@dataclass
class ShownMessage:
    """A message as the user sees it now: text (HTML as sent), buttons, an attached file."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    file: SentFile | None = None
    deleted: bool = False
    from_bot: bool = True

    @property
    def buttons(self) -> list[list[Any]]:
        return self.reply_markup.inline_keyboard if self.reply_markup else []

    def button_labels(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]


@dataclass
class SessionEvent:
    kind: str  # "sent" | "edited" | "deleted" | "callback_answer"
    chat_id: int | None
    message: ShownMessage | None = None
    text: str | None = None
    show_alert: bool = False
    callback_query_id: str | None = None


@dataclass
class _Injected:
    method: str
    error: Callable[[TelegramMethod[Any]], Exception]
    chat_id: int | None


class FakeTelegramSession(BaseSession):
    def __init__(self, bot_user: User = BOT_USER) -> None:
        super().__init__()
        self.bot_user = bot_user
        self.requests: list[TelegramMethod[Any]] = []
        self.messages: dict[tuple[int, int], ShownMessage] = {}
        self.chats: dict[int, Chat] = {}
        self._by_chat: dict[int, dict[int, ShownMessage]] = {}
        self._query_chats: dict[str, int] = {}
        self._answered: set[str] = set()
        self._message_ids = itertools.count(1)
        self._listeners: dict[int | None, list[Callable[[SessionEvent], None]]] = {}
        self._injected: deque[_Injected] = deque()

    # -- wiring for clients ---------------------------------------------------------------------
    def subscribe(
        self, listener: Callable[[SessionEvent], None], *, chat_id: int | None = None
    ) -> Callable[[], None]:
        """Hear what the bot shows in `chat_id` (every chat when None); returns the unsubscribe call."""
        self._listeners.setdefault(chat_id, []).append(listener)
        return lambda: self._listeners[chat_id].remove(listener)

    def expect_query(self, query_id: str, chat_id: int) -> None:
        """Route the answer to callback query `query_id` (which names no chat) to `chat_id`'s listeners."""
        self._query_chats[query_id] = chat_id

    def register_chat(self, chat: Chat) -> None:
        self.chats[chat.id] = chat

    def next_message_id(self) -> int:
        """Ids are shared by user and bot messages, as in a real chat."""
        return next(self._message_ids)

    def inject(
        self, method: str, error: Callable[[TelegramMethod[Any]], Exception], *, chat_id: int | None = None
    ) -> None:
        """Make the next call of `method` (e.g. "SendMessage") to `chat_id` (any if None) raise."""
        self._injected.append(_Injected(method, error, chat_id))

    def _store(self, shown: ShownMessage) -> None:
        self.messages[(shown.chat_id, shown.message_id)] = shown
        self._by_chat.setdefault(shown.chat_id, {})[shown.message_id] = shown

    def record_user_message(self, chat_id: int, message_id: int, text: str) -> ShownMessage:
        shown = ShownMessage(chat_id, message_id, text, from_bot=False)
        self._store(shown)
        return shown

    def chat_messages(self, chat_id: int, *, include_user: bool = False) -> list[ShownMessage]:
        """Oldest first (ids only grow, and dicts keep insertion order)."""
        return [
            m
            for m in self._by_chat.get(chat_id, {}).values()
            if not m.deleted and (m.from_bot or include_user)
        ]

    # -- BaseSession ------------------------------------------------------------------------------
    async def close(self) -> None:
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    def _check_limits(self, method: TelegramMethod[Any]) -> None:
        """Refuse what Telegram refuses, so tests meet the errors production would."""
        # Look fields up by name: getattr on a missing pydantic field builds an exception, slowly.
        fields = type(method).model_fields
        text = method.text if "text" in fields else None  # type: ignore[attr-defined]
        caption = method.caption if "caption" in fields else None  # type: ignore[attr-defined]
        if isinstance(text, str) and len(visible_text(text)) > MAX_TEXT:
            raise TelegramBadRequest(method=method, message="Bad Request: message is too long")
        if isinstance(caption, str) and len(visible_text(caption)) > MAX_CAPTION:
            raise TelegramBadRequest(method=method, message="Bad Request: message caption is too long")
        markup = method.reply_markup if "reply_markup" in fields else None  # type: ignore[attr-defined]
        if isinstance(markup, InlineKeyboardMarkup):
            buttons = [button for row in markup.inline_keyboard for button in row]
            if len(buttons) > MAX_BUTTONS:
                raise TelegramBadRequest(method=method, message="Bad Request: reply markup is too long")
            for button in buttons:
                if not button.text:
                    raise TelegramBadRequest(method=method, message="Bad Request: text buttons are unallowed")
                data = button.callback_data
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise TelegramBadRequest(method=method, message="Bad Request: BUTTON_DATA_INVALID")

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> Any:
        self.requests.append(method)
        self._raise_injected(method)
        self._check_limits(method)
        handler = getattr(self, f"_on_{type(method).__name__}", None)
        if handler is not None:
            result = await handler(bot, method)
        elif method.__returning__ is bool:
            result = True
        else:
            raise NotImplementedError(f"the fake Telegram session does not emulate {type(method).__name__}")
        return result.as_(bot) if hasattr(result, "as_") else result

    def _raise_injected(self, method: TelegramMethod[Any]) -> None:
        chat_id = method.chat_id if "chat_id" in type(method).model_fields else None  # type: ignore[attr-defined]
        for item in list(self._injected):
            if item.method == type(method).__name__ and item.chat_id in (None, chat_id):
                self._injected.remove(item)
                raise item.error(method)

    def _emit(self, event: SessionEvent) -> None:
        for key in (event.chat_id, None) if event.chat_id is not None else (None,):
            for listener in list(self._listeners.get(key, ())):
                listener(event)

    # -- emulated methods -------------------------------------------------------------------------
    async def _on_GetMe(self, bot: Bot, method: GetMe) -> User:
        return self.bot_user

    def _chat(self, chat_id: int | str) -> Chat:
        chat_id = int(chat_id)
        return self.chats.get(chat_id) or Chat(id=chat_id, type="private")

    def _new_message(
        self,
        chat_id: int,
        text: str,
        markup: Any,
        file: SentFile | None = None,
    ) -> Message:
        markup = markup if isinstance(markup, InlineKeyboardMarkup) else None
        shown = ShownMessage(int(chat_id), self.next_message_id(), text, markup, file)
        self._store(shown)
        self._emit(SessionEvent("sent", shown.chat_id, shown))
        return self._as_message(shown)

    def _as_message(self, shown: ShownMessage) -> Message:
        extra: dict[str, Any] = {}
        if shown.file is not None and shown.file.kind == "photo":
            extra["photo"] = [
                PhotoSize(file_id=f"photo{shown.message_id}", file_unique_id="p", width=1, height=1)
            ]
            extra["caption"] = shown.text or None
        elif shown.file is not None:
            extra["document"] = Document(
                file_id=f"doc{shown.message_id}", file_unique_id="d", file_name=shown.file.filename
            )
            extra["caption"] = shown.text or None
        else:
            extra["text"] = shown.text
        return Message(
            message_id=shown.message_id,
            date=int(time.time()),
            chat=self._chat(shown.chat_id),
            from_user=self.bot_user,
            reply_markup=shown.reply_markup,
            **extra,
        )

    def _existing(self, method: TelegramMethod[Any]) -> ShownMessage:
        key = (int(method.chat_id), int(method.message_id))  # type: ignore[attr-defined]
        shown = self.messages.get(key)
        if shown is None or shown.deleted or not shown.from_bot:
            raise TelegramBadRequest(method=method, message="Bad Request: message to edit not found")
        return shown

    async def _on_SendMessage(self, bot: Bot, method: SendMessage) -> Message:
        return self._new_message(int(method.chat_id), method.text, method.reply_markup)

    async def _read(self, bot: Bot, payload: InputFile | str, kind: str) -> SentFile:
        if isinstance(payload, str):
            return SentFile(kind, payload, b"")
        chunks = [chunk async for chunk in payload.read(bot)]
        return SentFile(kind, payload.filename or kind, b"".join(chunks))

    async def _on_SendPhoto(self, bot: Bot, method: SendPhoto) -> Message:
        file = await self._read(bot, method.photo, "photo")
        return self._new_message(int(method.chat_id), method.caption or "", method.reply_markup, file)

    async def _on_SendDocument(self, bot: Bot, method: SendDocument) -> Message:
        file = await self._read(bot, method.document, "document")
        return self._new_message(int(method.chat_id), method.caption or "", method.reply_markup, file)

    async def _on_EditMessageText(self, bot: Bot, method: EditMessageText) -> Message:
        shown = self._existing(method)
        markup = method.reply_markup if isinstance(method.reply_markup, InlineKeyboardMarkup) else None
        if shown.text == method.text and shown.reply_markup == markup:
            raise TelegramBadRequest(method=method, message="Bad Request: message is not modified")
        shown.text, shown.reply_markup = method.text, markup
        self._emit(SessionEvent("edited", shown.chat_id, shown))
        return self._as_message(shown)

    async def _on_EditMessageCaption(self, bot: Bot, method: EditMessageCaption) -> Message:
        shown = self._existing(method)
        shown.text = method.caption or ""
        shown.reply_markup = (
            method.reply_markup if isinstance(method.reply_markup, InlineKeyboardMarkup) else None
        )
        self._emit(SessionEvent("edited", shown.chat_id, shown))
        return self._as_message(shown)

    async def _on_EditMessageReplyMarkup(self, bot: Bot, method: EditMessageReplyMarkup) -> Message:
        shown = self._existing(method)
        markup = method.reply_markup if isinstance(method.reply_markup, InlineKeyboardMarkup) else None
        if shown.reply_markup == markup:
            raise TelegramBadRequest(method=method, message="Bad Request: message is not modified")
        shown.reply_markup = markup
        self._emit(SessionEvent("edited", shown.chat_id, shown))
        return self._as_message(shown)

    async def _on_DeleteMessage(self, bot: Bot, method: DeleteMessage) -> bool:
        shown = self.messages.get((int(method.chat_id), int(method.message_id)))
        if shown is None or shown.deleted:
            raise TelegramBadRequest(method=method, message="Bad Request: message to delete not found")
        shown.deleted = True
        self._emit(SessionEvent("deleted", shown.chat_id, shown))
        return True

    async def _on_AnswerCallbackQuery(self, bot: Bot, method: AnswerCallbackQuery) -> bool:
        if method.callback_query_id in self._answered:
            raise TelegramBadRequest(
                method=method,
                message="Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._answered.add(method.callback_query_id)
        self._emit(
            SessionEvent(
                "callback_answer",
                self._query_chats.pop(method.callback_query_id, None),
                text=method.text,
                show_alert=bool(method.show_alert),
                callback_query_id=method.callback_query_id,
            )
        )
        return True
