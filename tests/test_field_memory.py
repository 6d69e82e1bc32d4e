from pathlib import Path

from bot.domain.models import FieldKind, FormField, ValueKind
from bot.exchange.field_memory import FieldMemory, memory_key
from bot.storage.crypto import SecretBox
from bot.storage.database import Database

CARD_KEY, EMAIL_KEY = "v2:card:RUB", "v2:email"


def _file_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.glob("m.sqlite3*"))


async def test_keeps_the_newest_three_per_field_encrypted(tmp_path: Path) -> None:
    clock = iter(range(1000, 2000))
    db = await Database.open(tmp_path / "m.sqlite3", clock=lambda: next(clock))
    memory = FieldMemory(db, SecretBox.from_secret("field-memory-test-secret-0123"), b"k" * 32)
    try:
        for n in range(5):
            await memory.remember(1, {CARD_KEY: f"4276000000000{n:03d}", EMAIL_KEY: f"user{n}@example.com"})
        await memory.remember(1, {CARD_KEY: "4276000000000001"})  # used again: newest now
        await memory.remember(2, {CARD_KEY: "5555000000000000"})
        assert await memory.recall(1, CARD_KEY) == [
            "4276000000000001",
            "4276000000000004",
            "4276000000000003",
        ]
        assert await memory.recall(1, EMAIL_KEY) == [
            "user4@example.com",
            "user3@example.com",
            "user2@example.com",
        ]
        assert await memory.recall(2, CARD_KEY) == ["5555000000000000"]
        assert await memory.recall(3, CARD_KEY) == []
    finally:
        await db.close()
    raw = _file_bytes(tmp_path)
    assert b"4276000000000001" not in raw and b"user4@example.com" not in raw


def _field(name: str, value: ValueKind, **extra: object) -> FormField:
    return FormField(name=name, value_kind=value, **extra)  # type: ignore[arg-type]


def test_values_are_kept_by_what_they_are() -> None:
    tron = _field("account2", ValueKind.ADDRESS, currency="USDT", network="TRC20")
    assert memory_key(tron) == memory_key(_field("toAddress", ValueKind.ADDRESS, network="Tron"))
    assert memory_key(_field("x", ValueKind.ADDRESS, currency="BTC")) == "v2:address:bitcoin"
    assert memory_key(_field("account2", ValueKind.CARD, currency="RUB")) == "v2:card:RUB"
    assert memory_key(_field("account2", ValueKind.CARD, currency="USD")) == "v2:card:USD"
    assert memory_key(_field(EMAIL_KEY, ValueKind.EMAIL)) == memory_key(_field("email", ValueKind.EMAIL))
    assert memory_key(_field("cf1", ValueKind.FIRST_NAME)) != memory_key(_field("cf3", ValueKind.LAST_NAME))
    # Nothing to key by: free text, an address of a coin on an unnamed network, a select.
    assert memory_key(_field("cfgive8", ValueKind.TEXT)) is None
    assert memory_key(_field("account2", ValueKind.ADDRESS, currency="USDT")) is None
    assert memory_key(FormField(name="cf13", kind=FieldKind.SELECT)) is None


async def test_a_form_is_remembered_by_kind_and_a_refused_value_forgotten(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "m.sqlite3")
    memory = FieldMemory(db, SecretBox.from_secret("field-memory-test-secret-0123"), b"k" * 32)
    card = _field("account1", ValueKind.CARD, currency="RUB")
    tron = _field("account2", ValueKind.ADDRESS, currency="USDT", network="TRC20")
    note = _field("cf20", ValueKind.TEXT)
    try:
        # Kept by an older version under a platform's field name: dropped, never offered.
        await db.execute(
            "INSERT INTO field_memory (chat_id, field_name, value_digest, value_ciphertext, used_at) "
            "VALUES (1, 'account2', 'd', 'c', 1)"
        )
        address = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"
        values = {"account1": "4276380012345679", "account2": address, "cf20": "hi"}
        await memory.remember_form(1, [card, tron, note], values)
        assert await memory.recall(1, "v2:card:RUB") == ["4276380012345679"]
        assert await memory.recall(1, "v2:address:tron") == ["TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"]
        rows = await db.fetchall("SELECT field_name FROM field_memory WHERE chat_id = 1")
        assert sorted(row["field_name"] for row in rows) == ["v2:address:tron", "v2:card:RUB"]

        await memory.forget(1, "v2:card:RUB", "4276380012345679")
        assert await memory.recall(1, "v2:card:RUB") == []
        assert await memory.recall(1, "v2:address:tron") == ["TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"]
    finally:
        await db.close()


async def test_two_fields_sharing_a_key_both_keep_their_answer(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "m.sqlite3")
    memory = FieldMemory(db, SecretBox.from_secret("field-memory-test-secret-0123"), b"k" * 32)
    receive = _field("toAddress", ValueKind.ADDRESS, currency="USDT", network="Tron")
    refund = _field("refundAddress", ValueKind.ADDRESS, currency="USDT", network="TRC20")
    first, second = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7", "TXYZa2f6VPqDgRE67v1736s7bJ8Ray5wYj"
    try:
        await memory.remember_form(1, [receive, refund], {"toAddress": first, "refundAddress": second})
        assert sorted(await memory.recall(1, "v2:address:tron")) == sorted([first, second])
        # A key that merely starts like the prefix's length is still an old platform name: dropped.
        await db.execute(
            "INSERT INTO field_memory (chat_id, field_name, value_digest, value_ciphertext, used_at) "
            "VALUES (1, 'v2x', 'd', 'c', 1)"
        )
        await memory.remember(1, {"v2:email": "a@example.com"})
        rows = await db.fetchall("SELECT DISTINCT field_name FROM field_memory WHERE chat_id = 1")
        assert sorted(row["field_name"] for row in rows) == ["v2:address:tron", "v2:email"]
    finally:
        await db.close()
