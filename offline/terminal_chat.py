"""`exchanger-bot chat`: the real Dispatcher and handlers, talked to from a terminal.

The bot's messages are printed as plain text, buttons as numbers to type, files are saved to a
folder and their paths printed. Background messages (notifications) are printed as they come.
On an embedded sandbox, lines starting with ``!`` are demo controls (offline/demo.py): ``!help`` lists
what the sandbox can be made to do, e.g. ``!deposit 7`` or ``!pay``.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from pathlib import Path
from typing import TextIO

from aiogram import Bot, Dispatcher
from aiogram.types import InlineKeyboardButton

from offline.bot_client import BotClient
from offline.demo import DemoControl
from offline.fake_session import FakeTelegramSession, SessionEvent, ShownMessage

_LINK_RE = re.compile(r'<a\s+href="([^"]*)"[^>]*>(.*?)</a>', re.S)
_TAG_RE = re.compile(r"<[^>]+>")
QUIT_WORDS = {"/quit", "/exit", "quit", "exit"}
DEMO_PREFIX = "!"


def html_to_text(text: str) -> str:
    text = _LINK_RE.sub(lambda m: f"{m.group(2)} ({html.unescape(m.group(1))})", text)
    return html.unescape(_TAG_RE.sub("", text))


class TerminalChat:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        *,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
        files_dir: Path = Path("chat-files"),
        language_code: str | None = None,
        controls: list[DemoControl] | None = None,
    ) -> None:
        session = bot.session
        if not isinstance(session, FakeTelegramSession):
            raise TypeError("the terminal chat needs a Bot on a FakeTelegramSession")
        self.session = session
        self.client = BotClient(dp, bot, user_id=1, first_name="You", language_code=language_code)
        self.stdin, self.stdout, self.files_dir = stdin, stdout, files_dir
        self.numbered: list[tuple[ShownMessage, InlineKeyboardButton]] = []
        self.controls = {c.name: c for c in controls or []}

    def _print(self, line: str = "") -> None:
        self.stdout.write(line + "\n")
        self.stdout.flush()

    def _on_event(self, event: SessionEvent) -> None:
        if event.kind == "callback_answer":
            if event.text:
                self._print(f"  ({html_to_text(event.text)})")
            return
        if event.chat_id != self.client.chat.id or event.message is None:
            return
        if event.kind == "deleted":
            if not event.message.from_bot:
                self._print("  (the bot deleted your message)")
            return
        self._render(event.message, edited=event.kind == "edited")

    def _render(self, message: ShownMessage, *, edited: bool) -> None:
        if not message.from_bot:
            return
        self._print()
        self._print("bot (edited):" if edited else "bot:")
        for line in html_to_text(message.text).splitlines() or [""]:
            self._print("  " + line)
        if message.file is not None:
            self._print("  " + self._save(message))
        if message.buttons:
            self.numbered = []
            for row in message.buttons:
                cells = []
                for button in row:
                    self.numbered.append((message, button))
                    label = f"[{len(self.numbered)}] {button.text}"
                    cells.append(f"{label} -> {button.url}" if button.url else label)
                self._print("  " + "   ".join(cells))

    def _save(self, message: ShownMessage) -> str:
        assert message.file is not None
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = Path(message.file.filename).name or message.file.kind
        path = self.files_dir / f"{message.message_id}-{name}"
        path.write_bytes(message.file.content)
        return f"[{message.file.kind} saved to {path}]"

    async def _read_line(self) -> str | None:
        self.stdout.write("> ")
        self.stdout.flush()
        line = await asyncio.to_thread(self.stdin.readline)
        return None if line == "" else line.rstrip("\n")

    async def demo(self, line: str) -> str:
        """``!name args``: run a demo control; returns (and prints) what it did, ``!help`` lists them."""
        words = line.strip().removeprefix(DEMO_PREFIX).split()
        name = words[0].lower() if words else "help"
        if not self.controls:
            answer = "No demo controls: the bot is not on an embedded sandbox."
        elif name == "help" or name not in self.controls:
            unknown = "" if name == "help" else f"No demo control !{name[:20]}. "
            lines = [f"  {DEMO_PREFIX}{c.name} {c.help}" for c in self.controls.values()]
            head = "Demo controls (what a customer or the exchanger's staff would do):"
            answer = "\n".join([unknown + head, *lines])
        else:
            try:
                answer = await self.controls[name].run(words[1:])
            except Exception as exc:  # a demo control must never end the chat
                answer = f"!{name} failed: {type(exc).__name__}: {exc}"
        for text in answer.splitlines():
            self._print("  [sandbox] " + text)
        return answer

    async def handle(self, line: str) -> None:
        """A number of a button shown presses it; `"` before a line sends it as typed (for an amount
        like 1); `!` runs a demo control; anything else is sent as a message."""
        line = line.strip()
        if not line:
            return
        if line.startswith(DEMO_PREFIX) and len(line) > 1:
            await self.demo(line)
            return
        if line.startswith('"'):
            await self.client.send(line[1:].strip())
            return
        if line.isdigit() and 1 <= int(line) <= len(self.numbered):
            message, button = self.numbered[int(line) - 1]
            if button.callback_data is None:
                self._print(f"  (this button opens {button.url or 'a link'} in Telegram)")
                return
            await self.client.click_data(button.callback_data, message)
            return
        await self.client.send(line)

    async def run(self) -> None:
        unsubscribe = self.session.subscribe(self._on_event)
        self._print("Offline chat with the bot. Type messages or /commands; a button's number presses it")
        self._print('(start a line with " to send a small number as text); /quit or Ctrl-D leaves.')
        if self.controls:
            names = ", ".join(DEMO_PREFIX + name for name in self.controls)
            self._print(f"Demo controls for the sandbox: {names}; !help explains them.")
        try:
            await self.client.send("/start")
            while (line := await self._read_line()) is not None:
                if line.strip().lower() in QUIT_WORDS:
                    break
                await self.handle(line)
        finally:
            unsubscribe()
            self._print()
