"""aiogram FSM storage in SQLite, with the same contract as aiogram's ``RedisStorage``."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, cast

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.context import FSMContext
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
        cache_size: int = 10_000,
    ) -> None:
        self.db = db
        self.key_builder = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
        self.json_dumps = json_dumps
        self.json_loads = json_loads
        # Write-through cache of (state, data JSON) per key: reads cost no database round trip.
        # Sound because this storage is the only writer of its rows: one bot process per database
        # (``bot.storage.writer_lock`` refuses a second one).
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[str | None, str | None]] = OrderedDict()

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    async def _load(self, row_key: str) -> tuple[str | None, str | None]:
        cached = self._cache.get(row_key)
        if cached is not None:
            self._cache.move_to_end(row_key)
            return cached
        row = await self.db.fetchone("SELECT state, data FROM fsm_state WHERE key = ?", (row_key,))
        value = (row["state"], row["data"]) if row is not None else (None, None)
        self._remember(row_key, value)
        return value

    def _remember(self, row_key: str, value: tuple[str | None, str | None]) -> None:
        self._cache[row_key] = value
        self._cache.move_to_end(row_key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def _store(self, row_key: str, state: str | None, payload: str | None) -> None:
        if state is None and payload is None:
            await self.db.execute("DELETE FROM fsm_state WHERE key = ?", (row_key,))
        else:
            await self.db.execute(
                """
                INSERT INTO fsm_state (key, state, data, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE
                SET state = excluded.state, data = excluded.data, updated_at = excluded.updated_at
                """,
                (row_key, state, payload, self.db.now()),
            )
        self._remember(row_key, (state, payload))

    async def _store_column(self, row_key: str, column: str, value: str | None) -> None:
        """Write one of state / data and leave the other as the database has it, so a concurrent
        ``set_state`` and ``set_data`` on one key never overwrite each other's half. The cache takes
        the row as that write left it."""
        if value is not None:
            # One statement: atomic on its own, and RETURNING saves the read.
            row = await self.db.fetchone(
                f"""
                INSERT INTO fsm_state (key, {column}, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at
                RETURNING state, data
                """,
                (row_key, value, self.db.now()),
            )
            self._remember(row_key, (row["state"], row["data"]) if row is not None else (None, None))
            return
        try:
            async with self.db.transaction():
                clear = f"UPDATE fsm_state SET {column} = NULL, updated_at = ? WHERE key = ?"
                await self.db.execute(clear, (self.db.now(), row_key))
                await self.db.execute(
                    "DELETE FROM fsm_state WHERE key = ? AND state IS NULL AND data IS NULL", (row_key,)
                )
                row = await self.db.fetchone("SELECT state, data FROM fsm_state WHERE key = ?", (row_key,))
                self._remember(row_key, (row["state"], row["data"]) if row is not None else (None, None))
        except BaseException:
            self._cache.pop(row_key, None)
            raise

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._store_column(self._key(key), "state", None if value is None else str(value))

    async def set_state_and_data(self, key: StorageKey, state: StateType, data: Mapping[str, Any]) -> None:
        """Both in one write: a conversation step that moves on and saves its answers costs one round trip."""
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        value = state.state if isinstance(state, State) else state
        await self._store(
            self._key(key), None if value is None else str(value), self.json_dumps(data) if data else None
        )

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._load(self._key(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        # Same check as aiogram's own storages, so behaviour matches MemoryStorage/RedisStorage.
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        await self._store_column(self._key(key), "data", self.json_dumps(data) if data else None)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, payload = await self._load(self._key(key))
        if payload is None:
            return {}
        return cast(dict[str, Any], self.json_loads(payload))

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        # Read and write in one transaction so concurrent updates of one key do not lose each other's fields.
        try:
            async with self.db.transaction():
                return await super().update_data(key, data)
        except BaseException:
            self._cache.pop(self._key(key), None)  # it may hold what was rolled back
            raise

    async def close(self) -> None:
        """Nothing to release: the shared :class:`Database` is closed by its owner."""


async def save_step(context: FSMContext, state: StateType, data: Mapping[str, Any]) -> None:
    """Set a conversation's state and data together: one write on SQLiteStorage, two on any other."""
    if isinstance(context.storage, SQLiteStorage):
        await context.storage.set_state_and_data(context.key, state, data)
    else:
        await context.set_state(state)
        await context.set_data(dict(data))
