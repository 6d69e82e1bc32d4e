"""A minimal Telegram Bot API server on loopback, for testing `exchanger-bot run` end to end."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp import web


class TelegramEmulator:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent = asyncio.Queue[dict[str, Any]]()
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def push_text(self, chat_id: int, text: str, language_code: str = "en") -> None:
        user = {"id": chat_id, "is_bot": False, "first_name": "Tester", "language_code": language_code}
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Tester"},
            "from": user,
            "text": text,
        }
        self._updates.append({"update_id": next(self._update_ids), "message": message})
        self._new_update.set()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.calls.append((method, params))
        result: Any = True
        if method == "getMe":
            result = {"id": 42, "is_bot": True, "first_name": "Emulated", "username": "emulated_bot"}
        elif method == "getUpdates":
            offset = int(params.get("offset", 0))
            pending = [u for u in self._updates if u["update_id"] >= offset]
            if not pending:
                self._new_update.clear()
                try:
                    await asyncio.wait_for(self._new_update.wait(), timeout=0.5)
                except TimeoutError:
                    pass
                pending = [u for u in self._updates if u["update_id"] >= offset]
            result = pending
        elif method == "sendMessage":
            result = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
            await self.sent.put(params)
        return web.json_response({"ok": True, "result": result})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def commands_for(self, language_code: str | None) -> list[dict[str, str]]:
        for method, params in self.calls:
            if method == "setMyCommands" and params.get("language_code") == language_code:
                return json.loads(params["commands"])
        raise AssertionError(f"no setMyCommands for {language_code!r}")
