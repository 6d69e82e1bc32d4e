"""Status titles as the exchanger words them, learned from every ``bid_info`` answer.

Titles are configured per site and localized by API-LANG, and ``get_exchanges`` (the status tracker's
one call per cycle) carries only status codes; so the title of a code in a language is remembered
the first time some ``bid_info`` in that language shows it. ``None`` as the language means the bot
client's own (no API-LANG).
"""

from __future__ import annotations


class StatusTitles:
    def __init__(self) -> None:
        self._titles: dict[tuple[str | None, str], str] = {}

    def learn(self, lang: str | None, status: str, title: str | None) -> None:
        if status and title:
            self._titles[(lang, status)] = title

    def get(self, lang: str | None, status: str) -> str | None:
        return self._titles.get((lang, status))
