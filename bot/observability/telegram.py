"""Bot API calls as the operator sees them: Telegram's 429s (flood control), whoever made the call."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from bot.observability.metrics import Metrics

__all__ = ["instrument_bot"]


class _RateLimitCounter(BaseRequestMiddleware):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter:
            self.metrics.telegram_rate_limited.labels(type(method).__name__).inc()
            raise


def instrument_bot(bot: Bot, metrics: Metrics) -> Bot:
    """Count ``bot``'s 429s in ``metrics`` (once per bot: a second call does nothing)."""
    session = bot.session
    if not any(isinstance(m, _RateLimitCounter) for m in session.middleware):
        session.middleware(_RateLimitCounter(metrics))
    return bot
