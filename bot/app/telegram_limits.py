"""The last guard before Telegram: no request leaves over Telegram's length limits.

Handlers keep their replies short themselves; this session middleware catches what slipped through
(a text built from user input or an exchanger's answer) and cuts it, so Telegram never refuses the
message ("message is too long") and the customer still gets an answer. HTML is cut between tags
and entities, and every tag still open is closed. Each cut is logged as a warning: it is a bug to fix
where the text is made.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import MessageEntity

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
ELLIPSIS = "…"

_TOKEN = re.compile(r"<[^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][\w-]*)")


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def visible_units(telegram_html: str) -> int:
    return units(html.unescape(re.sub(r"<[^>]*>", "", telegram_html)))


def cut_plain(text: str, limit: int) -> str:
    if units(text) <= limit:
        return text
    out, used = [], 0
    for char in text:
        size = units(char)
        if used + size > limit - 1:
            break
        out.append(char)
        used += size
    return "".join(out).rstrip() + ELLIPSIS


def fit_entities(entities: list[MessageEntity], end: int) -> list[MessageEntity]:
    """``entities`` of a text cut to ``end`` UTF-16 units (the cut text's length less the ellipsis):
    those starting after it dropped, those running past it shortened (Telegram refuses an entity
    beyond the text)."""
    fitted = []
    for entity in entities:
        if entity.offset >= end:
            continue
        if entity.offset + entity.length > end:
            entity = entity.model_copy(update={"length": end - entity.offset})
        fitted.append(entity)
    return fitted


def cut_html(text: str, limit: int) -> str:
    """``text`` (Telegram HTML) with at most ``limit`` visible units: cut at a tag or entity boundary,
    an ellipsis added and the tags still open closed."""
    if visible_units(text) <= limit:
        return text
    budget = limit - 1  # room for the ellipsis
    out: list[str] = []
    open_tags: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token.startswith("<") and token.endswith(">") and len(token) > 1:
            name_match = _TAG_NAME.match(token)
            name = name_match.group(1).lower() if name_match else ""
            if token.startswith("</"):
                if name in open_tags:
                    while open_tags:
                        last = open_tags.pop()
                        out.append(f"</{last}>")
                        if last == name:
                            break
            elif name and not token.endswith("/>"):
                out.append(token)
                open_tags.append(name)
            continue
        if token.startswith("&") and token.endswith(";") and len(token) > 1:
            size = units(html.unescape(token))
            if size > budget:
                break
            out.append(token)
            budget -= size
            continue
        piece = html.unescape(token) if token in ("<", "&") else token
        kept = []
        for char in piece:
            size = units(char)
            if size > budget:
                break
            kept.append(char)
            budget -= size
        out.append(html.escape("".join(kept), quote=False) if token in ("<", "&") else "".join(kept))
        if len(kept) < len(piece):
            break
    result = "".join(out).rstrip() + ELLIPSIS
    return result + "".join(f"</{name}>" for name in reversed(open_tags))


class TelegramLimits(BaseRequestMiddleware):
    """Session middleware (``bot.session.middleware(TelegramLimits())``)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        fields = type(method).model_fields
        if isinstance(method, AnswerCallbackQuery):
            if method.text and units(method.text) > MAX_CALLBACK_ANSWER:
                self._warn(method, "text", units(method.text))
                method.text = cut_plain(method.text, MAX_CALLBACK_ANSWER)
        else:
            for name, limit in (("text", MAX_TEXT), ("caption", MAX_CAPTION)):
                if name in fields:
                    self._fit(bot, method, name, limit)
        return await make_request(bot, method)

    def _fit(self, bot: Bot, method: TelegramMethod[Any], name: str, limit: int) -> None:
        value = getattr(method, name)
        if not isinstance(value, str):
            return
        fields = type(method).model_fields
        parse_mode = getattr(method, "parse_mode", None) if "parse_mode" in fields else None
        if isinstance(parse_mode, Default):
            parse_mode = bot.default[parse_mode.name]
        entities_field = "entities" if name == "text" else "caption_entities"
        has_entities = bool(getattr(method, entities_field, None))
        is_html = isinstance(parse_mode, str) and parse_mode.lower() == "html" and not has_entities
        size = visible_units(value) if is_html else units(value)
        if size <= limit:
            return
        self._warn(method, name, size)
        cut = cut_html(value, limit) if is_html else cut_plain(value, limit)
        setattr(method, name, cut)
        if has_entities:
            entities = fit_entities(getattr(method, entities_field), units(cut) - units(ELLIPSIS))
            setattr(method, entities_field, entities)

    @staticmethod
    def _warn(method: TelegramMethod[Any], name: str, size: int) -> None:
        # The length only: the text itself may hold what a customer typed.
        log.warning("%s: %s of %d characters cut to Telegram's limit", type(method).__name__, name, size)
