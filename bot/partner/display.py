"""Short texts for list rows that don't need translating: browsers, query parameters, times."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.partner.stats import query_params

_BROWSERS = (  # order matters: Edge and Opera also say Chrome, Chrome also says Safari
    ("TelegramBot", "Telegram preview"), ("YaBrowser", "Yandex Browser"), ("Edg/", "Edge"), ("OPR/", "Opera"),
    ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("CriOS/", "Chrome"), ("Safari/", "Safari"),
)  # fmt: skip
_SYSTEMS = (
    ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
    ("Mac OS X", "macOS"), ("Linux", "Linux"),
)  # fmt: skip


def browser_label(user_agent: str) -> str:
    """``Chrome · Android`` from a user agent; the start of it when nothing is recognised."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in agent), "")
    label = " · ".join(part for part in (browser, system) if part)
    return label or agent[:40]


def params_text(query_string: str) -> str:
    return " · ".join(f"{name}={value}" for name, value in query_params(query_string))


def utc_minute(unix_time: int) -> str:
    return datetime.fromtimestamp(unix_time, UTC).strftime("%Y-%m-%d %H:%M")
