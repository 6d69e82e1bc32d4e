"""aiogram FSM storage in SQLite, with the same contract as aiogram's ``RedisStorage``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, cast

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey

from bot.storage.database import Database

JsonDumps = Callable[[Any], str]
JsonLoads = Callable[[str], Any]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_dumps(value: Any) -> str:
    """Compact JSON; ``Decimal`` becomes its exact string (``Decimal("1.10")`` -> ``"1.10"``).

    The value comes back as ``str``: convert with ``Decimal(data["amount"])`` where it is used.
    Anything else that JSON cannot hold raises ``TypeError``.
    """
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def json_loads(text: str) -> Any:
    return json.loads(text)


class SQLiteStorage(BaseStorage):
    """FSM state and data in the ``fsm_state`` table, one row per built key.

    ``set_state(None)`` unsets the state, ``set_data({})`` empties the data and keeps the state, and a row
    with neither is deleted. Data is stored as JSON (see :func:`json_dumps`), never pickled.
    The :class:`Database` is shared with the rest of the bot, so :meth:`close` leaves it open.
    """

    def __init__(
        self,
        db: Database,
        key_builder: KeyBuilder | None = None,
        json_dumps: JsonDumps = json_dumps,
        json_loads: JsonLoads = json_loads,
    ) -> None:
        self.db = db
        self.key_builder = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
        self.json_dumps = json_dumps
        self.json_loads = json_loads

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        row_key = self._key(key)
        if value is None:
            async with self.db.transaction():
                await self.db.execute(
                    "UPDATE fsm_state SET state = NULL, updated_at = ? WHERE key = ?",
                    (self.db.now(), row_key),
                )
                await self._drop_if_empty(row_key)
            return
        await self.db.execute(
            """
            INSERT INTO fsm_state (key, state, data, updated_at) VALUES (?, ?, NULL, ?)
            ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
            """,
            (row_key, str(value), self.db.now()),
        )

    async def get_state(self, key: StorageKey) -> str | None:
        return cast(
            str | None, await self.db.fetchval("SELECT state FROM fsm_state WHERE key = ?", (self._key(key),))
        )

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        # Same check as aiogram's own storages, so behaviour matches MemoryStorage/RedisStorage.
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        row_key = self._key(key)
        if not data:
            async with self.db.transaction():
                await self.db.execute(
                    "UPDATE fsm_state SET data = NULL, updated_at = ? WHERE key = ?", (self.db.now(), row_key)
                )
                await self._drop_if_empty(row_key)
            return
        payload = self.json_dumps(data)
        await self.db.execute(
            """
            INSERT INTO fsm_state (key, state, data, updated_at) VALUES (?, NULL, ?, ?)
            ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
            """,
            (row_key, payload, self.db.now()),
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        payload = await self.db.fetchval("SELECT data FROM fsm_state WHERE key = ?", (self._key(key),))
        if payload is None:
            return {}
        return cast(dict[str, Any], self.json_loads(payload))

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        # Read and write in one transaction so concurrent updates of one key do not lose each other's fields.
        async with self.db.transaction():
            return await super().update_data(key, data)

    async def _drop_if_empty(self, row_key: str) -> None:
        await self.db.execute(
            "DELETE FROM fsm_state WHERE key = ? AND state IS NULL AND data IS NULL", (row_key,)
        )

    async def close(self) -> None:
        """Nothing to release: the shared :class:`Database` is closed by its owner."""
