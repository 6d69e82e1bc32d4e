"""A minimal Telegram Bot API server on loopback, for testing `exchanger-bot run` end to end.

It keeps the messages the bot sent (and edits them in place), so a test can press their buttons;
answers ``getUpdates`` from a queue (409 while a webhook is set, as Telegram does); records
``setWebhook``/``deleteWebhook``; and can hold a method (``hold``): its calls wait until ``release``,
and a call whose client went away meanwhile (a killed bot) is not delivered, as with Telegram when
the request never completed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp import web

USER = {"is_bot": False, "first_name": "Tester"}


class TelegramEmulator:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent = asyncio.Queue[dict[str, Any]]()
        # Every message the bot sent, by message_id, as it is now (edits applied).
        self.messages: dict[int, dict[str, Any]] = {}
        # Every text the bot made visible, in order: sent or edited ({"method", "chat_id", "text"}).
        self.delivered: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.webhook_error: tuple[int, str] | None = None  # (unix time, message) for getWebhookInfo
        self.polled_elsewhere = False  # getUpdates: 409, another process polls the token
        self.token_revoked = False  # every method: 401 Unauthorized
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._held: dict[str, asyncio.Event] = {}
        self.attempts: dict[str, int] = {}  # calls per method, held or not, delivered or not
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- what the customer does ----------------------------------------------------------------

    def _user(self, chat_id: int, language_code: str) -> dict[str, Any]:
        return {"id": chat_id, **USER, "language_code": language_code}

    def push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **payload}
        self._updates.append(update)
        self._new_update.set()
        return update

    def text_update(self, chat_id: int, text: str, language_code: str = "en") -> dict[str, Any]:
        """An update (not queued) with the customer's text message."""
        return {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Tester"},
                "from": self._user(chat_id, language_code),
                "text": text,
            },
        }

    def push_text(self, chat_id: int, text: str, language_code: str = "en") -> None:
        update = self.text_update(chat_id, text, language_code)
        self._updates.append(update)
        self._new_update.set()

    def button(self, chat_id: int, label: str) -> tuple[int, str]:
        """(message_id, callback data) of the newest button labelled ``label`` in the chat."""
        for message_id in sorted(self.messages, reverse=True):
            message = self.messages[message_id]
            if message["chat_id"] != chat_id:
                continue
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button.get("text") == label and "callback_data" in button:
                        return message_id, button["callback_data"]
        shown = [m.get("text", "")[:80] for m in self.messages.values() if m["chat_id"] == chat_id]
        raise AssertionError(f"no button {label!r} in chat {chat_id}; messages: {shown}")

    def has_button(self, chat_id: int, label: str) -> bool:
        try:
            self.button(chat_id, label)
        except AssertionError:
            return False
        return True

    def callback_update(self, chat_id: int, label: str, language_code: str = "en") -> dict[str, Any]:
        message_id, data = self.button(chat_id, label)
        message = self.messages[message_id]
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._message_ids)),
                "from": self._user(chat_id, language_code),
                "chat_instance": str(chat_id),
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private", "first_name": "Tester"},
                    "from": {"id": 42, "is_bot": True, "first_name": "Emulated"},
                    "text": message.get("text", ""),
                    **({"reply_markup": message["reply_markup"]} if message.get("reply_markup") else {}),
                },
            },
        }

    def click(self, chat_id: int, label: str, language_code: str = "en") -> None:
        update = self.callback_update(chat_id, label, language_code)
        self._updates.append(update)
        self._new_update.set()

    # -- what the test waits for ----------------------------------------------------------------

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)

    async def wait_for(self, predicate: Any, within: float = 30.0, what: str = "") -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            await asyncio.sleep(0.05)

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [d["text"] for d in self.delivered if chat_id is None or d["chat_id"] == chat_id]

    def unconfirmed(self) -> list[dict[str, Any]]:
        """Updates the bot has not confirmed yet (by a later getUpdates offset): Telegram would send
        them again."""
        confirmed = max((int(p.get("offset", 0)) for m, p in self.calls if m == "getUpdates"), default=0)
        return [u for u in self._updates if u["update_id"] >= confirmed]

    def hold(self, method: str) -> None:
        self._held[method] = asyncio.Event()

    def release(self, method: str) -> None:
        held = self._held.pop(method, None)
        if held is not None:
            held.set()

    # -- the Bot API ----------------------------------------------------------------------------

    def _message(self, chat_id: int, params: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
        markup = json.loads(params["reply_markup"]) if params.get("reply_markup") else None
        text = params.get("text", params.get("caption", ""))
        stored = {"chat_id": chat_id, "text": text, "reply_markup": markup}
        self.messages[message_id or next(self._message_ids)] = stored
        return stored

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.attempts[method] = self.attempts.get(method, 0) + 1
        held = self._held.get(method)
        if held is not None:
            await held.wait()  # cancelled here when the client goes away: nothing is delivered
        self.calls.append((method, params))
        if self.token_revoked:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        result: Any = True
        if method == "getMe":
            result = {"id": 42, "is_bot": True, "first_name": "Emulated", "username": "emulated_bot"}
        elif method == "getUpdates":
            if self.polled_elsewhere:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 409,
                        "description": "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    },
                    status=409,
                )
            if self.webhook is not None:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 409,
                        "description": "Conflict: can't use getUpdates method while webhook is active; "
                        "use deleteWebhook to delete the webhook first",
                    },
                    status=409,
                )
            offset = int(params.get("offset", 0))
            self._updates = [u for u in self._updates if u["update_id"] >= offset]  # confirmed
            pending = self._updates
            if not pending and float(params.get("timeout", 0)) > 0:
                self._new_update.clear()
                try:
                    await asyncio.wait_for(self._new_update.wait(), timeout=0.5)
                except TimeoutError:
                    pass
                pending = [u for u in self._updates if u["update_id"] >= offset]
            result = pending[: int(params.get("limit", 100))]
        elif method == "setWebhook":
            self.webhook = params
        elif method == "deleteWebhook":
            self.webhook = None
        elif method == "getWebhookInfo":
            result = {
                "url": (self.webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
            if self.webhook_error is not None:
                result.update(last_error_date=self.webhook_error[0], last_error_message=self.webhook_error[1])
        elif method.startswith("send") and method != "sendChatAction":
            chat_id = int(params["chat_id"])
            message_id = next(self._message_ids)
            stored = self._message(chat_id, params, message_id)
            self.delivered.append({"method": method, "chat_id": chat_id, "text": stored["text"]})
            result = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": stored["text"],
            }
            await self.sent.put(params)
        elif method in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup"):
            chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
            before = self.messages.get(message_id, {"chat_id": chat_id, "text": ""})
            if method == "editMessageReplyMarkup":
                params = {"text": before["text"], **params}
            stored = self._message(chat_id, params, message_id)
            if method != "editMessageReplyMarkup":
                self.delivered.append({"method": method, "chat_id": chat_id, "text": stored["text"]})
        return web.json_response({"ok": True, "result": result})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        for event in self._held.values():
            event.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def commands_for(self, language_code: str | None) -> list[dict[str, str]]:
        for method, params in self.calls:
            if method == "setMyCommands" and params.get("language_code") == language_code:
                return json.loads(params["commands"])
        raise AssertionError(f"no setMyCommands for {language_code!r}")
