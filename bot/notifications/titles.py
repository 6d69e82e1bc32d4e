"""Status titles as the exchanger words them, learned per chat language from every order read.

Titles are configured per site and localized by the language the bot asks in, and order feeds carry
only status codes; so the title of a code in a language is remembered the first time some read in that
language shows it. ``None`` as the language means the platform's default (no language asked): such a
title is never shown to a chat, whose language it may not be.

A site may answer in another language than asked (a language it has no titles for); :func:`fits`
refuses a title whose script can't be the chat's, so an English chat never shows a Cyrillic title
and a Russian chat never shows a Latin-only one.
"""

from __future__ import annotations

import re

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")


def fits(lang: str | None, title: str | None) -> bool:
    """Whether ``title`` can be in the chat language ``lang`` (False for an empty title or no language)."""
    if not lang or not title or not title.strip():
        return False
    if lang == "ru":
        return bool(_CYRILLIC.search(title)) or not _LATIN.search(title)
    return not _CYRILLIC.search(title)


class StatusTitles:
    def __init__(self) -> None:
        self._titles: dict[tuple[str | None, str], str] = {}

    def learn(self, lang: str | None, status: str, title: str | None) -> None:
        if status and title and (lang is None or fits(lang, title)):
            self._titles[(lang, status)] = title

    def get(self, lang: str | None, status: str) -> str | None:
        return self._titles.get((lang, status))

    def for_chat(self, lang: str | None, status: str) -> str | None:
        """The title to show a chat in ``lang``: only one learned in that very language."""
        return self._titles.get((lang, status)) if lang else None
