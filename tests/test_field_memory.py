from pathlib import Path

from bot.exchange.field_memory import FieldMemory
from bot.storage.crypto import SecretBox
from bot.storage.database import Database


def _file_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.glob("m.sqlite3*"))


async def test_keeps_the_newest_three_per_field_encrypted(tmp_path: Path) -> None:
    clock = iter(range(1000, 2000))
    db = await Database.open(tmp_path / "m.sqlite3", clock=lambda: next(clock))
    memory = FieldMemory(db, SecretBox.from_secret("field-memory-test-secret-0123"), b"k" * 32)
    try:
        for n in range(5):
            await memory.remember(1, {"account1": f"4276000000000{n:03d}", "cf6": f"user{n}@example.com"})
        await memory.remember(1, {"account1": "4276000000000001"})  # used again: newest now
        await memory.remember(2, {"account1": "5555000000000000"})
        assert await memory.recall(1, "account1") == [
            "4276000000000001",
            "4276000000000004",
            "4276000000000003",
        ]
        assert await memory.recall(1, "cf6") == [
            "user4@example.com",
            "user3@example.com",
            "user2@example.com",
        ]
        assert await memory.recall(2, "account1") == ["5555000000000000"]
        assert await memory.recall(3, "account1") == []
    finally:
        await db.close()
    raw = _file_bytes(tmp_path)
    assert b"4276000000000001" not in raw and b"user4@example.com" not in raw
