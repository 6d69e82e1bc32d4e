"""Database wrapper and schema migrations, on real SQLite files."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.database import Database
from bot.storage.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    Migration,
    MigrationError,
    SchemaTooNewError,
    apply_migrations,
    get_schema_version,
)

TABLES = {"meta", "fsm_state", "chat_settings", "partner_credentials", "orders", "attributions", "outbox"}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


async def table_names(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


class TestOpen:
    async def test_creates_parent_folders_and_file(self, tmp_path: Path) -> None:
        path = tmp_path / "a" / "b" / "bot.sqlite3"
        database = await Database.open(path)
        await database.close()
        assert path.is_file()

    async def test_pragmas(self, db: Database) -> None:
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        assert await db.fetchval("PRAGMA synchronous") == 1  # NORMAL
        assert await db.fetchval("PRAGMA busy_timeout") == 5000

    async def test_wal_is_persistent_in_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "bot.sqlite3"
        await (await Database.open(path)).close()
        with sqlite3.connect(path) as plain:
            assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        plain.close()

    async def test_memory_database(self) -> None:
        database = await Database.open(":memory:")
        try:
            assert await get_schema_version(database) == LATEST_VERSION
            assert TABLES <= await table_names(database)
        finally:
            await database.close()

    async def test_close_is_idempotent(self, tmp_path: Path) -> None:
        database = await Database.open(tmp_path / "bot.sqlite3")
        await database.close()
        await database.close()
        assert database.closed
        assert "closed" in repr(database)

    async def test_injected_clock(self, tmp_path: Path) -> None:
        database = await Database.open(tmp_path / "bot.sqlite3", clock=lambda: 1_700_000_000)
        try:
            assert database.now() == 1_700_000_000
        finally:
            await database.close()


class TestMigrations:
    async def test_fresh_database_gets_latest_schema(self, db: Database) -> None:
        assert await get_schema_version(db) == LATEST_VERSION == MIGRATIONS[-1].version
        assert TABLES <= await table_names(db)
        indexes = {row["name"] for row in await db.fetchall("PRAGMA index_list(orders)")}
        assert {"ix_orders_chat_created", "ix_orders_open"} <= indexes

    async def test_reopening_is_a_no_op(self, tmp_path: Path) -> None:
        path = tmp_path / "bot.sqlite3"
        first = await Database.open(path)
        await first.execute("INSERT INTO meta (name, value) VALUES ('marker', x'01')")
        await first.close()

        # Version 1 uses plain CREATE TABLE: running it again would raise "table already exists".
        second = await Database.open(path)
        try:
            assert await apply_migrations(second) == LATEST_VERSION
            assert await get_schema_version(second) == LATEST_VERSION
            assert await second.fetchval("SELECT value FROM meta WHERE name = 'marker'") == b"\x01"
        finally:
            await second.close()

    async def test_newer_schema_is_refused_with_clear_error(self, tmp_path: Path) -> None:
        path = tmp_path / "bot.sqlite3"
        await (await Database.open(path)).close()
        plain = sqlite3.connect(path)
        plain.execute(f"PRAGMA user_version = {LATEST_VERSION + 3}")
        plain.close()

        with pytest.raises(SchemaTooNewError) as caught:
            await Database.open(path)
        assert caught.value.found == LATEST_VERSION + 3
        assert caught.value.known == LATEST_VERSION
        message = str(caught.value)
        assert str(LATEST_VERSION + 3) in message
        assert "newer" in message

    async def test_later_migrations_are_applied_in_order(self, db: Database) -> None:
        extra = (
            *MIGRATIONS,
            Migration(LATEST_VERSION + 1, "add t", ("CREATE TABLE t (x INTEGER)",)),
            Migration(LATEST_VERSION + 2, "fill t", ("INSERT INTO t (x) VALUES (1)",)),
        )
        assert await apply_migrations(db, extra) == LATEST_VERSION + 2
        assert await apply_migrations(db, extra) == LATEST_VERSION + 2
        assert await db.fetchval("SELECT COUNT(*) FROM t") == 1

    async def test_failed_migration_is_rolled_back(self, db: Database) -> None:
        broken = (
            *MIGRATIONS,
            Migration(LATEST_VERSION + 1, "half", ("CREATE TABLE half (x INTEGER)", "NOT SQL AT ALL")),
        )
        with pytest.raises(sqlite3.OperationalError):
            await apply_migrations(db, broken)
        assert await get_schema_version(db) == LATEST_VERSION
        assert "half" not in await table_names(db)

    async def test_misnumbered_migrations_are_refused(self, db: Database) -> None:
        with pytest.raises(MigrationError):
            await apply_migrations(db, (*MIGRATIONS, Migration(LATEST_VERSION + 2, "gap", ())))


class TestTransactions:
    async def test_commit(self, tmp_path: Path) -> None:
        path = tmp_path / "bot.sqlite3"
        database = await Database.open(path)
        async with database.transaction():
            await database.execute("INSERT INTO meta (name, value) VALUES ('a', 'x')")
            await database.execute("INSERT INTO meta (name, value) VALUES ('b', 'y')")
        await database.close()
        with sqlite3.connect(path) as plain:
            assert plain.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == 2
        plain.close()

    async def test_rollback_on_error(self, db: Database) -> None:
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute("INSERT INTO meta (name, value) VALUES ('a', 'x')")
                raise RuntimeError("boom")
        assert await db.fetchval("SELECT COUNT(*) FROM meta") == 0

    async def test_nested_transaction_is_a_savepoint(self, db: Database) -> None:
        async with db.transaction():
            await db.execute("INSERT INTO meta (name, value) VALUES ('outer', 'x')")
            with pytest.raises(ValueError):
                async with db.transaction():
                    await db.execute("INSERT INTO meta (name, value) VALUES ('inner', 'y')")
                    raise ValueError
        names = [row["name"] for row in await db.fetchall("SELECT name FROM meta")]
        assert names == ["outer"]

    async def test_writers_are_serialized(self, db: Database) -> None:
        await db.execute("INSERT INTO meta (name, value) VALUES ('counter', 0)")

        async def increment() -> None:
            async with db.transaction():
                value = await db.fetchval("SELECT value FROM meta WHERE name = 'counter'")
                await asyncio.sleep(0)
                await db.execute("UPDATE meta SET value = ? WHERE name = 'counter'", (value + 1,))

        await asyncio.gather(*(increment() for _ in range(25)))
        assert await db.fetchval("SELECT value FROM meta WHERE name = 'counter'") == 25

    async def test_execute_returns_rowcount_and_insert_returns_rowid(self, db: Database) -> None:
        rowid = await db.execute_insert(
            "INSERT INTO outbox (chat_id, payload, created_at) VALUES (1, '{}', 0)"
        )
        assert rowid == 1
        assert await db.execute("UPDATE outbox SET attempts = 1") == 1
        assert await db.execute("UPDATE outbox SET attempts = 2 WHERE chat_id = 999") == 0

    async def test_reads_never_see_another_tasks_uncommitted_rows(self, db: Database) -> None:
        inside = asyncio.Event()

        async def doomed_writer() -> None:
            async with db.transaction():
                await db.execute("INSERT INTO meta (name, value) VALUES ('doomed', 'x')")
                inside.set()
                await asyncio.sleep(0.05)
                raise RuntimeError("rolled back")

        task = asyncio.create_task(doomed_writer())
        await inside.wait()
        assert await db.fetchval("SELECT COUNT(*) FROM meta") == 0
        with pytest.raises(RuntimeError):
            await task
