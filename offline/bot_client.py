"""Drive the production Dispatcher as one Telegram user would: send text, press buttons, read replies.

Every action builds a real `Update` (increasing ids) and feeds it through `Dispatcher.feed_update`,
so filters, middlewares, FSM storage and events isolation all run as in production.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberUpdated,
    Contact,
    Message,
    Update,
    User,
)

from offline.fake_session import FakeTelegramSession, SessionEvent, ShownMessage

_update_ids = itertools.count(1)
_query_ids = itertools.count(1)


@dataclass
class Reply:
    """What the bot did in answer to one user action."""

    events: list[SessionEvent] = field(default_factory=list)
    callback_answer: SessionEvent | None = None

    @property
    def sent(self) -> list[ShownMessage]:
        return [e.message for e in self.events if e.kind == "sent" and e.message]

    @property
    def edited(self) -> list[ShownMessage]:
        return [e.message for e in self.events if e.kind == "edited" and e.message]

    @property
    def deleted(self) -> list[ShownMessage]:
        return [e.message for e in self.events if e.kind == "deleted" and e.message]

    @property
    def shown(self) -> list[ShownMessage]:
        """Messages sent or edited, in order."""
        return [e.message for e in self.events if e.kind in ("sent", "edited") and e.message]

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.shown)

    @property
    def last(self) -> ShownMessage:
        if not self.shown:
            raise AssertionError("the bot showed nothing")
        return self.shown[-1]


class BotClient:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        *,
        user_id: int = 100001,
        chat_id: int | None = None,
        first_name: str = "Alice",
        username: str | None = None,
        language_code: str | None = "en",
        chat_type: str = "private",
    ) -> None:
        if not isinstance(bot.session, FakeTelegramSession):
            raise TypeError("BotClient needs a Bot on a FakeTelegramSession")
        self.dp, self.bot, self.session = dp, bot, bot.session
        self.user = User(
            id=user_id, is_bot=False, first_name=first_name, username=username, language_code=language_code
        )
        chat_id = user_id if chat_id is None else chat_id
        self.chat = Chat(
            id=chat_id,
            type=chat_type,
            first_name=first_name if chat_type == "private" else None,
            title=None if chat_type == "private" else "Group",
        )
        self.session.register_chat(self.chat)

    @property
    def messages(self) -> list[ShownMessage]:
        """The bot's messages in this chat as they look now (edits applied, deleted ones gone)."""
        return self.session.chat_messages(self.chat.id)

    @property
    def last(self) -> ShownMessage:
        if not self.messages:
            raise AssertionError("the bot has sent nothing to this chat")
        return self.messages[-1]

    async def send(self, text: str) -> Reply:
        message_id = self.session.next_message_id()
        self.session.record_user_message(self.chat.id, message_id, text)
        message = Message(
            message_id=message_id, date=int(time.time()), chat=self.chat, from_user=self.user, text=text
        )
        return await self._feed(Update(update_id=next(_update_ids), message=message))

    async def send_contact(self, phone_number: str, user_id: int | None = None) -> Reply:
        """Share a contact, as Telegram's "request contact" button does (``user_id``: whose it is,
        the user's own by default)."""
        contact = Contact(
            phone_number=phone_number,
            first_name=self.user.first_name,
            user_id=self.user.id if user_id is None else user_id,
        )
        message = Message(
            message_id=self.session.next_message_id(),
            date=int(time.time()),
            chat=self.chat,
            from_user=self.user,
            contact=contact,
        )
        return await self._feed(Update(update_id=next(_update_ids), message=message))

    async def block_bot(self, blocked: bool = True) -> Reply:
        """The user blocks (or unblocks) the bot: Telegram sends a `my_chat_member` update."""
        bot_user = self.session.bot_user
        member = ChatMemberMember(user=bot_user)
        banned = ChatMemberBanned(user=bot_user, until_date=0)
        update = ChatMemberUpdated(
            chat=self.chat,
            from_user=self.user,
            date=int(time.time()),
            old_chat_member=member if blocked else banned,
            new_chat_member=banned if blocked else member,
        )
        return await self._feed(Update(update_id=next(_update_ids), my_chat_member=update))

    def find_button(self, label: str | re.Pattern[str], message: ShownMessage | None = None):
        """The newest button whose text equals `label` (or matches the pattern)."""
        candidates = [message] if message is not None else list(reversed(self.messages))
        for shown in candidates:
            for row in shown.buttons:
                for button in row:
                    matches = (
                        label.search(button.text) if isinstance(label, re.Pattern) else button.text == label
                    )
                    if matches:
                        return shown, button
        available = [b for m in candidates for b in m.button_labels()]
        raise LookupError(f"no button {label!r}; buttons shown: {available}")

    async def click(self, label: str | re.Pattern[str], message: ShownMessage | None = None) -> Reply:
        shown, button = self.find_button(label, message)
        if button.callback_data is None:
            raise LookupError(f"button {button.text!r} is not a callback button (url={button.url!r})")
        return await self.click_data(button.callback_data, shown)

    async def click_data(self, data: str, shown: ShownMessage) -> Reply:
        """Press a button with arbitrary callback data on `shown` (forged or stale buttons)."""
        query_id = str(next(_query_ids))
        query = CallbackQuery(
            id=query_id,
            from_user=self.user,
            chat_instance=str(self.chat.id),
            message=Message(
                message_id=shown.message_id,
                date=int(time.time()),
                chat=self.chat,
                from_user=self.session.bot_user,
                text=shown.text,
                reply_markup=shown.reply_markup,
            ),
            data=data,
        )
        self.session.expect_query(query_id, self.chat.id)
        return await self._feed(Update(update_id=next(_update_ids), callback_query=query), query_id)

    async def _feed(self, update: Update, query_id: str | None = None) -> Reply:
        reply = Reply()

        def collect(event: SessionEvent) -> None:
            if event.kind != "callback_answer":
                reply.events.append(event)
            elif event.callback_query_id == query_id:
                reply.callback_answer = event

        unsubscribe = self.session.subscribe(collect, chat_id=self.chat.id)
        try:
            await self.dp.feed_update(self.bot, update)
        finally:
            unsubscribe()
        return reply
