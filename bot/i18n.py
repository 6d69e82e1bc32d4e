"""Translations: compiled from locales/*/LC_MESSAGES/messages.po, chosen per chat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.app.config import SUPPORTED_LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


def ensure_compiled(locales_dir: Path = LOCALES_DIR) -> None:
    """Compile every .po whose .mo is missing or older, so a checkout runs without a build step."""
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)


def build_i18n(default_locale: str, locales_dir: Path = LOCALES_DIR) -> I18n:
    ensure_compiled(locales_dir)
    return I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)


def language_from_user(user: User | None) -> str | None:
    """The Telegram client's language, if we speak it ("ru-RU" -> "ru")."""
    if user is None or not user.language_code:
        return None
    code = user.language_code.replace("_", "-").split("-")[0].lower()
    return code if code in SUPPORTED_LANGUAGES else None


class ChatLanguageMiddleware(I18nMiddleware):
    """The chat's stored language, else the Telegram user's, else DEFAULT_LANGUAGE.

    Also hands handlers the chat's `locale`: services take it to ask the platform for texts in it.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        locale = await self.get_locale(event=event, data=data)
        data["locale"] = locale
        data[self.i18n_key or "i18n"] = self.i18n
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await handler(event, data)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chat = data.get("event_chat")
        settings_repo = data.get("chat_settings")
        if chat is not None and settings_repo is not None:
            stored = await settings_repo.get_language(chat.id)
            if stored in self.i18n.available_locales:
                return stored
        return language_from_user(data.get("event_from_user")) or self.i18n.default_locale


def N_(message: str) -> str:
    """Marks a msgid for extraction where it is translated later (with an explicit locale)."""
    return message
