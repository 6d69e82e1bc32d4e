"""Telegram's sending limits as earliest-send times: about 30 messages a second overall, one a
second per chat, and nothing at all while a flood-control pause (429 ``retry_after``) runs."""

from __future__ import annotations

GLOBAL_RATE = 30.0
PER_CHAT_INTERVAL = 1.0
_PRUNE_AT = 10_000


class SendPacer:
    def __init__(
        self, global_rate: float = GLOBAL_RATE, per_chat_interval: float = PER_CHAT_INTERVAL
    ) -> None:
        self._gap = 1.0 / global_rate
        self._per_chat = per_chat_interval
        self._next_any = 0.0
        self._paused_until = 0.0
        self._next_in_chat: dict[int, float] = {}

    def ready_at(self, chat_id: int) -> float:
        """The earliest monotonic time a message to ``chat_id`` may go."""
        return max(self._next_any, self._paused_until, self._next_in_chat.get(chat_id, 0.0))

    def attempted(self, chat_id: int, now: float) -> None:
        """A request reached (or tried to reach) Telegram at ``now``: it counts against both limits."""
        self._next_any = now + self._gap
        self._next_in_chat[chat_id] = now + self._per_chat
        if len(self._next_in_chat) > _PRUNE_AT:
            self._next_in_chat = {c: t for c, t in self._next_in_chat.items() if t > now}

    def pause(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)
