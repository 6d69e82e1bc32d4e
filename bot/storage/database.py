"""One shared aiosqlite connection with serialized write transactions."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

logger = logging.getLogger(__name__)

MEMORY = ":memory:"
DEFAULT_BUSY_TIMEOUT_MS = 5000

Params = Sequence[Any] | dict[str, Any]


def unix_now() -> int:
    return int(time.time())


class Database:
    """Wraps one aiosqlite connection; build it with :meth:`open`.

    The connection runs in autocommit mode; every write goes through :meth:`transaction` (``execute``
    opens one of its own), and an ``asyncio.Lock`` lets one transaction run at a time, because all
    coroutines share the connection and an open transaction would otherwise swallow their statements.
    Calls made inside a transaction by the task that owns it join it; a nested ``transaction()``
    becomes a savepoint. Reads from other tasks wait for the transaction to end. Keep transactions short
    and do not start tasks that use the database from inside one: they would wait for it forever.
    """

    def __init__(self, connection: aiosqlite.Connection, path: str, clock: Callable[[], int]) -> None:
        self._conn = connection
        self._path = path
        self._clock = clock
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        clock: Callable[[], int] = unix_now,
        migrate: bool = True,
    ) -> Database:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date.

        ``clock`` returns unix seconds; repositories take their timestamps from :meth:`now`.
        """
        target = str(path)
        if target != MEMORY:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(target, isolation_level=None)
        db = cls(conn, target, clock)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await conn.execute("PRAGMA foreign_keys = ON")
            if target != MEMORY:
                async with conn.execute("PRAGMA journal_mode = WAL") as cursor:
                    row = await cursor.fetchone()
                if row is None or str(row[0]).lower() != "wal":
                    logger.warning("SQLite refused WAL journal mode for %s", target)
            await conn.execute("PRAGMA synchronous = NORMAL")
            if migrate:
                from bot.storage.migrations import apply_migrations

                await apply_migrations(db)
        except BaseException:
            await conn.close()
            raise
        return db

    @property
    def path(self) -> str:
        return self._path

    @property
    def connection(self) -> aiosqlite.Connection:
        return self._conn

    @property
    def closed(self) -> bool:
        return self._closed

    def now(self) -> int:
        return self._clock()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self._conn.close()

    def _owns_transaction(self) -> bool:
        return self._owner is not None and self._owner is asyncio.current_task()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` when the block raises."""
        if self._owns_transaction():
            savepoint = f"sp_{self._depth}"
            self._depth += 1
            await self._conn.execute(f"SAVEPOINT {savepoint}")
            try:
                yield self
            except BaseException:
                await self._conn.execute(f"ROLLBACK TO {savepoint}")
                await self._conn.execute(f"RELEASE {savepoint}")
                raise
            else:
                await self._conn.execute(f"RELEASE {savepoint}")
            finally:
                self._depth -= 1
            return

        async with self._lock:
            self._owner = asyncio.current_task()
            self._depth = 1
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    await self._conn.rollback()
                    raise
                else:
                    await self._conn.commit()
            finally:
                self._owner = None
                self._depth = 0

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        # One statement needs no BEGIN/COMMIT of its own: in autocommit mode SQLite makes it atomic.
        # Each aiosqlite call is a hop to its thread, so that saves three of the four per write.
        if self._owns_transaction():
            yield
            return
        async with self._lock:
            yield

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement, atomically (or inside the caller's transaction); return the row count."""
        async with self._writing():
            cursor = await self._conn.execute(sql, params)
            return cursor.rowcount

    async def execute_insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row's rowid."""
        async with self._writing():
            cursor = await self._conn.execute(sql, params)
            return int(cursor.lastrowid or 0)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction():
            await self._conn.executemany(sql, rows)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[None]:
        # Another task's open transaction shares this connection: wait for it, never read its
        # uncommitted (maybe rolled back) rows.
        if self._owns_transaction():
            yield
            return
        async with self._lock:
            yield

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._reading():
            return list(await self._conn.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """First column of the first row, or ``None`` when there is no row."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def get_meta(self, name: str) -> str | None:
        """A value the bot keeps for itself (cursors, markers) from the ``meta`` table."""
        value = await self.fetchval("SELECT value FROM meta WHERE name = ?", (name,))
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def set_meta(self, name: str, value: str) -> None:
        await self.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def __repr__(self) -> str:
        return f"<Database path={self._path!r}{' closed' if self._closed else ''}>"
