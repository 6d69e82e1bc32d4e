"""A database written by the schema-2 release (tests/fixtures/schema2.sql) opens under schema 3 with
nothing lost: orders, their secrets, linked keys, attributions, queued notifications, payout requests."""

import json
import sqlite3
from pathlib import Path

import pytest

from bot.domain.models import Attribution, OrderPhase
from bot.platforms.premiumexchanger.statuses import status_of
from bot.storage.crypto import SecretBox, verify_secret
from bot.storage.database import Database
from bot.storage.migrations import LATEST_VERSION, get_schema_version
from bot.storage.repositories import (
    ChatSettingsRepository,
    OrderRepository,
    PartnerCredentialRepository,
    PayoutRequestRepository,
    seal_legacy,
)
from tests.conftest import TEST_SECRET_KEY

FIXTURE = Path(__file__).parent / "fixtures" / "schema2.sql"
PE = "premiumexchanger"


@pytest.fixture
def schema2_file(tmp_path: Path) -> Path:
    path = tmp_path / "bot.sqlite3"
    connection = sqlite3.connect(path)
    connection.executescript(FIXTURE.read_text(encoding="utf-8"))
    connection.close()
    return path


async def upgrade(path: Path) -> tuple[Database, SecretBox]:
    """What open_services does at start-up, with PremiumExchanger's reading of its status codes."""
    db = await Database.open(path)
    box = SecretBox.from_secret(TEST_SECRET_KEY)
    await verify_secret(db, box)
    await seal_legacy(db, box)
    await OrderRepository(db, box).restore_phases(PE, status_of)
    return db, box


async def test_fixture_is_schema_2(schema2_file: Path) -> None:
    connection = sqlite3.connect(schema2_file)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
    assert connection.execute("SELECT COUNT(*) FROM bids").fetchone()[0] == 3
    connection.close()


async def test_upgrade_keeps_everything(schema2_file: Path) -> None:
    db, box = await upgrade(schema2_file)
    try:
        assert await get_schema_version(db) == LATEST_VERSION
        tables = {
            row["name"] for row in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert not {"bids", "legacy_bids", "partner_keys"} & tables

        orders = OrderRepository(db, box)
        first = await orders.get_by_order_id(PE, "4001")
        assert first is not None
        assert (first.chat_id, first.idempotency_key, first.direction_id) == (101, "1700000000000001", "5")
        assert (first.status_code, first.status_phase, first.status_title) == (
            "new",
            "awaiting_payment",
            "Новая",
        )
        assert first.secret is not None and first.secret.get_secret_value() == "hash4001secret"
        assert (first.give_amount, first.get_amount, first.give_currency_code) == ("100", "95.5", "USDTTRC20")
        assert first.push_token == "cbtoken1" and await orders.get_by_push_token("cbtoken1") == first
        done = await orders.get_by_order_id(PE, "4002")
        assert done is not None and done.is_final and done.status_phase == OrderPhase.DONE
        assert [o.order_id for o in await orders.open_orders(PE)] == ["4001"]
        pending = await orders.pending_reservations(PE)
        assert [(o.chat_id, o.idempotency_key) for o in pending] == [(102, "1700000000000003")]
        raw = repr([tuple(row) for row in await db.fetchall("SELECT * FROM orders")])
        assert "hash4001secret" not in raw

        # A notification queued under schema 2 now names the order by its local id.
        payload = json.loads(await db.fetchval("SELECT payload FROM outbox"))
        assert payload == {
            "order": first.id,
            "status": "payed",
            "status_title": "Оплачена",
            "title_lang": "ru",
        }

        linked = await PartnerCredentialRepository(db, box).load(201, PE)
        assert linked is not None and linked.partner_id == "77" and linked.label == "partnerlogin"
        assert linked.credentials.get("login") == "partnerlogin" and linked.credentials.get("key") == "k" * 32

        chats = ChatSettingsRepository(db)
        assert await chats.get_language(101) == "ru"
        assert await chats.get_attribution(101, PE) == Attribution(partner="77", campaign="spring")
        assert await chats.get_attribution(102, PE) == Attribution(partner="78")
        assert [r.request_key for r in await PayoutRequestRepository(db).list_for_chat(201, PE)] == ["req-1"]
    finally:
        await db.close()


async def test_second_start_changes_nothing(schema2_file: Path) -> None:
    db, _ = await upgrade(schema2_file)
    before = [
        tuple(row) for row in await db.fetchall("SELECT id, status_code, push_token FROM orders ORDER BY id")
    ]
    await db.close()
    db, box = await upgrade(schema2_file)
    try:
        after = [
            tuple(row)
            for row in await db.fetchall("SELECT id, status_code, push_token FROM orders ORDER BY id")
        ]
        assert after == before
        stored = await OrderRepository(db, box).get_by_order_id(PE, "4001")
        assert stored is not None and stored.secret is not None
    finally:
        await db.close()
