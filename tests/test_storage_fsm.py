"""FSM storage contract, run against aiogram's MemoryStorage and our SQLiteStorage."""

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from bot.storage.database import Database
from bot.storage.fsm import SQLiteStorage, json_dumps


class Form(StatesGroup):
    amount = State()
    account = State()


KEY = StorageKey(bot_id=42, chat_id=-100500, user_id=7)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


@pytest.fixture(params=["memory", "sqlite"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BaseStorage]:
    if request.param == "memory":
        memory = MemoryStorage()
        yield memory
        await memory.close()
        return
    database = await Database.open(tmp_path / "fsm.sqlite3")
    sqlite = SQLiteStorage(database)
    yield sqlite
    await sqlite.close()
    await database.close()


class TestContract:
    async def test_state_set_get_unset(self, storage: BaseStorage) -> None:
        assert await storage.get_state(KEY) is None
        await storage.set_state(KEY, "Form:amount")
        assert await storage.get_state(KEY) == "Form:amount"
        await storage.set_state(KEY, "other")
        assert await storage.get_state(KEY) == "other"
        await storage.set_state(KEY, None)
        assert await storage.get_state(KEY) is None

    async def test_state_object_is_stored_by_name(self, storage: BaseStorage) -> None:
        await storage.set_state(KEY, Form.account)
        assert await storage.get_state(KEY) == "Form:account"
        await storage.set_state(KEY)
        assert await storage.get_state(KEY) is None

    async def test_data_set_get_replace(self, storage: BaseStorage) -> None:
        assert await storage.get_data(KEY) == {}
        await storage.set_data(KEY, {"foo": "bar", "n": 1})
        assert await storage.get_data(KEY) == {"foo": "bar", "n": 1}
        await storage.set_data(KEY, {"baz": [1, 2]})
        assert await storage.get_data(KEY) == {"baz": [1, 2]}

    async def test_nested_and_unicode_data_round_trip(self, storage: BaseStorage) -> None:
        data = {"list": [1, "два", None, True], "nested": {"a": {"b": 1.5}}, "emoji": "💱"}
        await storage.set_data(KEY, data)
        assert await storage.get_data(KEY) == data

    async def test_empty_dict_empties_data_but_keeps_state(self, storage: BaseStorage) -> None:
        await storage.set_state(KEY, Form.amount)
        await storage.set_data(KEY, {"foo": "bar"})
        await storage.set_data(KEY, {})
        assert await storage.get_data(KEY) == {}
        assert await storage.get_state(KEY) == "Form:amount"

    async def test_unsetting_state_keeps_data(self, storage: BaseStorage) -> None:
        await storage.set_state(KEY, Form.amount)
        await storage.set_data(KEY, {"foo": "bar"})
        await storage.set_state(KEY, None)
        assert await storage.get_state(KEY) is None
        assert await storage.get_data(KEY) == {"foo": "bar"}

    @pytest.mark.parametrize("bad", [[("a", 1)], "text", 1, None, MappingProxyType({"a": 1})])
    async def test_non_dict_data_is_rejected(self, storage: BaseStorage, bad: object) -> None:
        await storage.set_data(KEY, {"kept": True})
        with pytest.raises(DataNotDictLikeError):
            await storage.set_data(KEY, bad)  # type: ignore[arg-type]
        assert await storage.get_data(KEY) == {"kept": True}

    async def test_update_data_merges_and_returns_new_data(self, storage: BaseStorage) -> None:
        assert await storage.update_data(KEY, {"foo": "bar"}) == {"foo": "bar"}
        assert await storage.update_data(KEY, {}) == {"foo": "bar"}
        assert await storage.update_data(KEY, {"baz": "spam"}) == {"foo": "bar", "baz": "spam"}
        assert await storage.update_data(KEY, {"baz": "eggs"}) == {"foo": "bar", "baz": "eggs"}
        assert await storage.get_data(KEY) == {"foo": "bar", "baz": "eggs"}

    async def test_concurrent_update_data_loses_nothing(self, storage: BaseStorage) -> None:
        await asyncio.gather(*(storage.update_data(KEY, {f"field{i}": i}) for i in range(20)))
        assert await storage.get_data(KEY) == {f"field{i}": i for i in range(20)}

    async def test_get_value(self, storage: BaseStorage) -> None:
        assert await storage.get_value(KEY, "missing") is None
        assert await storage.get_value(KEY, "missing", "default") == "default"
        await storage.set_data(KEY, {"foo": "bar", "none": None, "items": [1]})
        assert await storage.get_value(KEY, "foo") == "bar"
        assert await storage.get_value(KEY, "foo", "default") == "bar"
        assert await storage.get_value(KEY, "none", "default") is None
        items = await storage.get_value(KEY, "items")
        items.append(2)
        assert await storage.get_value(KEY, "items") == [1]

    async def test_returned_and_given_data_are_copies(self, storage: BaseStorage) -> None:
        given = {"foo": "bar"}
        await storage.set_data(KEY, given)
        given["foo"] = "changed after set"
        returned = await storage.get_data(KEY)
        returned["foo"] = "changed after get"
        returned["extra"] = 1
        assert await storage.get_data(KEY) == {"foo": "bar"}
        merged = await storage.update_data(KEY, {"x": 1})
        merged["x"] = 2
        assert await storage.get_data(KEY) == {"foo": "bar", "x": 1}

    @pytest.mark.parametrize(
        "other",
        [
            StorageKey(bot_id=43, chat_id=-100500, user_id=7),
            StorageKey(bot_id=42, chat_id=-100501, user_id=7),
            StorageKey(bot_id=42, chat_id=-100500, user_id=8),
            StorageKey(bot_id=42, chat_id=-100500, user_id=7, thread_id=5),
            StorageKey(bot_id=42, chat_id=-100500, user_id=7, destiny="dialog"),
        ],
        ids=["bot", "chat", "user", "thread", "destiny"],
    )
    async def test_keys_are_isolated(self, storage: BaseStorage, other: StorageKey) -> None:
        await storage.set_state(KEY, Form.amount)
        await storage.set_data(KEY, {"owner": "main"})
        assert await storage.get_state(other) is None
        assert await storage.get_data(other) == {}

        await storage.set_state(other, Form.account)
        await storage.set_data(other, {"owner": "other"})
        await storage.set_data(KEY, {})
        await storage.set_state(KEY, None)
        assert await storage.get_state(other) == "Form:account"
        assert await storage.get_data(other) == {"owner": "other"}


class TestSQLiteStorage:
    async def test_state_and_data_survive_reopening(self, tmp_path: Path) -> None:
        path = tmp_path / "persist" / "bot.sqlite3"
        first = await Database.open(path)
        storage = SQLiteStorage(first)
        await storage.set_state(KEY, Form.amount)
        await storage.set_data(KEY, {"amount": "100", "direction": 17})
        await storage.close()
        await first.close()

        second = await Database.open(path)
        try:
            reopened = SQLiteStorage(second)
            assert await reopened.get_state(KEY) == "Form:amount"
            assert await reopened.get_data(KEY) == {"amount": "100", "direction": 17}
        finally:
            await second.close()

    async def test_close_leaves_the_shared_database_open(self, db: Database) -> None:
        storage = SQLiteStorage(db)
        await storage.close()
        assert not db.closed
        assert await db.fetchval("SELECT 1") == 1

    async def test_default_key_builder_includes_bot_id_and_destiny(self, db: Database) -> None:
        storage = SQLiteStorage(db)
        assert isinstance(storage.key_builder, DefaultKeyBuilder)
        await storage.set_state(KEY, "s")
        assert await db.fetchval("SELECT key FROM fsm_state") == "fsm:42:-100500:7:default"

    async def test_custom_key_builder_is_used(self, db: Database) -> None:
        storage = SQLiteStorage(db, key_builder=DefaultKeyBuilder(prefix="custom"))
        await storage.set_state(KEY, "s")
        assert await db.fetchval("SELECT key FROM fsm_state") == "custom:-100500:7"

    async def test_data_is_stored_as_json(self, db: Database) -> None:
        storage = SQLiteStorage(db)
        await storage.set_data(KEY, {"a": [1, 2], "b": "текст"})
        raw = await db.fetchval("SELECT data FROM fsm_state")
        assert json.loads(raw) == {"a": [1, 2], "b": "текст"}

    async def test_decimal_is_stored_as_exact_string(self, db: Database) -> None:
        storage = SQLiteStorage(db)
        await storage.set_data(KEY, {"amount": Decimal("1000.10")})
        assert await storage.get_data(KEY) == {"amount": "1000.10"}
        assert Decimal(await storage.get_value(KEY, "amount")) == Decimal("1000.10")

    async def test_unserializable_data_raises_and_keeps_old_data(self, db: Database) -> None:
        storage = SQLiteStorage(db)
        await storage.set_data(KEY, {"ok": 1})
        with pytest.raises(TypeError):
            await storage.set_data(KEY, {"bad": object()})
        assert await storage.get_data(KEY) == {"ok": 1}

    async def test_custom_json_functions(self, db: Database) -> None:
        calls: list[str] = []

        def dumps(value: object) -> str:
            calls.append("dumps")
            return json_dumps(value)

        def loads(text: str) -> object:
            calls.append("loads")
            return json.loads(text)

        storage = SQLiteStorage(db, json_dumps=dumps, json_loads=loads)
        await storage.set_data(KEY, {"a": 1})
        assert await storage.get_data(KEY) == {"a": 1}
        assert calls == ["dumps", "loads"]

    async def test_row_without_state_and_data_is_deleted(self, db: Database) -> None:
        storage = SQLiteStorage(db)
        await storage.set_state(KEY, "s")
        await storage.set_data(KEY, {"a": 1})
        await storage.set_state(KEY, None)
        assert await db.fetchval("SELECT COUNT(*) FROM fsm_state") == 1
        await storage.set_data(KEY, {})
        assert await db.fetchval("SELECT COUNT(*) FROM fsm_state") == 0
        # Unsetting what was never set creates no row either.
        await storage.set_state(KEY, None)
        await storage.set_data(KEY, {})
        assert await db.fetchval("SELECT COUNT(*) FROM fsm_state") == 0

    async def test_works_in_memory(self) -> None:
        database = await Database.open(":memory:")
        try:
            storage = SQLiteStorage(database)
            await storage.set_state(KEY, Form.amount)
            assert await storage.get_state(KEY) == "Form:amount"
        finally:
            await database.close()


async def test_concurrent_set_state_and_set_data_keep_both(tmp_path: Path) -> None:
    """aiogram's FSMContext runs ``set_state`` and ``set_data`` as two calls; two handlers of one chat
    running at once must not write each other's old half back."""
    database = await Database.open(tmp_path / "race.sqlite3")
    storage = SQLiteStorage(database)
    try:
        for round_ in range(30):
            await asyncio.gather(
                storage.set_state(KEY, Form.amount if round_ % 2 else Form.account),
                storage.set_data(KEY, {"round": round_}),
            )
            expected = (Form.amount if round_ % 2 else Form.account).state
            assert await storage.get_state(KEY) == expected
            assert await storage.get_data(KEY) == {"round": round_}
            fresh = SQLiteStorage(database)  # what another reader of the file sees, past any cache
            assert await fresh.get_state(KEY) == expected
            assert await fresh.get_data(KEY) == {"round": round_}
        await asyncio.gather(storage.set_state(KEY, None), storage.set_data(KEY, {}))
        assert await database.fetchone("SELECT 1 FROM fsm_state") is None
    finally:
        await database.close()
