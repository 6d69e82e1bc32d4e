"""The outer update middleware: counts and times every update, gives the exchanger calls made for it a
deadline, and shows "typing…" while a slow one is being handled.

A fast answer sends nothing extra: the chat action starts only after ``typing_after`` seconds, and is
repeated every ``typing_every`` seconds (Telegram shows one for about five) until the handler returns.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatAction, ChatType
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from bot.observability import deadline
from bot.observability.metrics import Metrics

__all__ = ["FeedbackPolicy", "UpdateObserver"]

log = logging.getLogger(__name__)

# Only what a customer waits for in their chat gets the chat action.
_TYPING_UPDATES = frozenset({"message", "callback_query"})


def _type_of(event: TelegramObject) -> str:
    if not isinstance(event, Update):
        return type(event).__name__.lower()
    try:
        return event.event_type
    except UpdateTypeLookupError:  # a kind of update newer than this aiogram
        return "unknown"


@dataclass(frozen=True)
class FeedbackPolicy:
    # Exchanger calls for one update give up after this (retries included); the handler then says
    # the exchange is slow. Under the ~20 s a customer waits; above the adapters' 15 s request timeout,
    # so a slow create still leaves time to look the order up.
    deadline_seconds: float | None = 18.0
    typing_after: float = 1.0
    typing_every: float = 4.0


class UpdateObserver(BaseMiddleware):
    def __init__(self, metrics: Metrics, policy: FeedbackPolicy | None = None) -> None:
        self.metrics = metrics
        self.policy = policy or FeedbackPolicy()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        update_type = _type_of(event)
        started = time.perf_counter()
        typing = self._start_typing(update_type, data)
        try:
            with deadline.within(self.policy.deadline_seconds):
                return await handler(event, data)
        finally:
            if typing is not None and await typing.stop():
                self.metrics.slow_updates.labels(update_type).inc()
            self.metrics.update_handled(update_type, time.perf_counter() - started)

    def _start_typing(self, update_type: str, data: dict[str, Any]) -> _Typing | None:
        chat = data.get("event_chat")
        bot = data.get("bot")
        if update_type not in _TYPING_UPDATES or not isinstance(chat, Chat) or not isinstance(bot, Bot):
            return None
        if chat.type != ChatType.PRIVATE:
            return None
        thread_id = data.get("event_thread_id")
        typing = _Typing()
        typing.timer = asyncio.get_running_loop().call_later(
            self.policy.typing_after, typing.start, lambda: self._keep_typing(bot, chat.id, thread_id)
        )
        return typing

    async def _keep_typing(self, bot: Bot, chat_id: int, thread_id: int | None) -> bool:
        """Returns whether the action was shown (the update was slow)."""
        shown = False
        try:
            while True:
                try:
                    await bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread_id)
                except Exception as exc:  # blocked, flood control, network...: the answer matters, not this
                    log.debug("chat action not sent to %s: %s", chat_id, type(exc).__name__)
                    return shown
                shown = True
                await asyncio.sleep(self.policy.typing_every)
        except asyncio.CancelledError:
            return shown


class _Typing:
    """A timer, then the task that shows the action: an update answered before the timer fires (most
    of them) costs no task at all."""

    def __init__(self) -> None:
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[bool] | None = None

    def start(self, keep_typing: Callable[[], Awaitable[bool]]) -> None:
        self.task = asyncio.get_running_loop().create_task(keep_typing())

    async def stop(self) -> bool:
        """Stop showing the action; returns whether it was shown."""
        if self.timer is not None:
            self.timer.cancel()
        if self.task is None:
            return False
        self.task.cancel()
        await asyncio.wait({self.task})
        return not self.task.cancelled() and self.task.result()
