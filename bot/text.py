"""Turning the exchanger's HTML into what Telegram's HTML mode accepts."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Telegram's HTML parse mode accepts these tags; everything else must go.
_KEPT = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "blockquote"}
_BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}


class _Sanitizer(HTMLParser):
    def __init__(self, keep_markup: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.keep_markup = keep_markup
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.out.append("\n")
            if tag == "li":
                self.out.append("• ")
        elif self.keep_markup and tag in _KEPT:
            self.out.append(f"<{tag}>")
            self.open.append(tag)
        elif self.keep_markup and tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith(("http://", "https://", "tg://")):
                self.out.append(f'<a href="{html.escape(href, quote=True)}">')
                self.open.append("a")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKS and tag != "br":
            self.out.append("\n")
        elif tag in self.open:
            # Close in order, so what we emit is always well nested.
            while self.open:
                last = self.open.pop()
                self.out.append(f"</{last}>")
                if last == tag:
                    break

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False) if self.keep_markup else data)

    def result(self) -> str:
        self.close()
        tail = "".join(f"</{tag}>" for tag in reversed(self.open))
        text = "".join(self.out) + tail
        text = re.sub(r"[ \t]+\n", "\n", text)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def telegram_html(raw: str | None, limit: int | None = None) -> str:
    """The server's HTML as Telegram-safe HTML: allowed tags kept, others dropped, text escaped.

    With `limit`, a text longer than that (in visible characters) becomes plain escaped text cut to
    the limit: Telegram refuses messages over 4096 characters, and HTML can't be cut safely."""
    if not raw:
        return ""
    parser = _Sanitizer(keep_markup=True)
    parser.feed(raw)
    result = parser.result()
    if limit is not None:
        plain = plain_text(raw)
        if len(plain) > limit:
            return html.escape(plain[: limit - 1].rstrip() + "…", quote=False)
    return result


def plain_text(raw: str | None) -> str:
    """The server's HTML as plain text (for error messages we put inside our own markup: escape it)."""
    if not raw:
        return ""
    parser = _Sanitizer(keep_markup=False)
    parser.feed(raw)
    return parser.result()


_TAG = re.compile(r"<[^>]+>")


def visible_text(telegram_html_text: str) -> str:
    """What Telegram counts of an HTML message (its 4096 / 1024 limits): the text without tags and
    with entities decoded."""
    return html.unescape(_TAG.sub("", telegram_html_text))


def shorten(text: str, limit: int) -> str:
    """Keep both ends of a long value (an address, a card number) and elide the middle."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[-(limit - 1 - head) :]
