"""One bot process per database: the second opener is refused with the first one named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.app.wiring import open_services
from bot.storage.writer_lock import DatabaseInUse, DatabaseNotWritable, WriterLock
from tests.conftest import make_settings


def test_second_lock_names_the_holder_and_a_released_lock_is_free(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    first = WriterLock.acquire(database)
    with pytest.raises(DatabaseInUse) as refused:
        WriterLock.acquire(database)
    assert f"pid {os.getpid()} " in str(refused.value)
    assert str(database) in str(refused.value)
    first.release()
    first.release()  # twice is harmless
    WriterLock.acquire(database).release()


def test_a_file_where_the_folder_should_be_is_reported(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("x")
    with pytest.raises(DatabaseNotWritable, match="not writable"):
        WriterLock.acquire(tmp_path / "data" / "bot.sqlite3")


async def test_services_refuse_a_database_already_served(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, None)
    async with open_services(settings, sandbox_step_seconds=None):
        with pytest.raises(DatabaseInUse):
            async with open_services(settings, sandbox_step_seconds=None):
                pass  # pragma: no cover
    async with open_services(settings, sandbox_step_seconds=None) as services:  # released on close
        assert await services.db.fetchone("SELECT 1") is not None
