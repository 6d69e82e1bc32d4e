"""Repositories over a real SQLite file."""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.domain.capabilities import PartnerCredentials
from bot.domain.models import Attribution, OrderPhase, OrderStatus
from bot.storage.crypto import DecryptionError, SecretBox, generate_secret_key
from bot.storage.database import Database
from bot.storage.repositories import (
    ChatSettingsRepository,
    KeyTaken,
    OrderNotStored,
    OrderRepository,
    PartnerCredentialRepository,
    PayoutRequestRepository,
)

PE, OT = "premiumexchanger", "0trace"


class Clock:
    def __init__(self, now: int = 1_700_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def db(tmp_path: Path, clock: Clock) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3", clock=clock)
    yield database
    await database.close()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox.from_secret(generate_secret_key())


def status(
    code: str, phase: OrderPhase = OrderPhase.AWAITING_PAYMENT, title: str = "", rank: int = 10
) -> OrderStatus:
    return OrderStatus(code=code, phase=phase, title=title, rank=rank)


def creds(platform: str, label: str, **values: str) -> PartnerCredentials:
    return PartnerCredentials(platform, {k: SecretStr(v) for k, v in values.items()}, label=label)


class TestChatSettings:
    async def test_language(self, db: Database) -> None:
        repo = ChatSettingsRepository(db)
        assert await repo.get_language(1) is None
        await repo.set_language(1, "ru")
        await repo.set_language(2, "en")
        assert await repo.get_language(1) == "ru"
        await repo.set_language(1, "en")
        assert await repo.get_language(1) == "en"
        assert await repo.get_language(2) == "en"

    async def test_first_partner_wins_per_platform(self, db: Database, clock: Clock) -> None:
        repo = ChatSettingsRepository(db)
        assert await repo.get_attribution(1, PE) is None
        assert await repo.attribute(1, PE, "77", "spring") is True
        clock.now += 60
        assert await repo.attribute(1, PE, "88", "summer") is False
        assert await repo.get_attribution(1, PE) == Attribution(partner="77", campaign="spring")
        # Another platform's partner is a different account: attributed separately.
        assert await repo.get_attribution(1, OT) is None
        assert await repo.attribute(1, OT, "ref-abc") is True
        assert await repo.get_attribution(1, OT) == Attribution(partner="ref-abc")
        row = await db.fetchone(
            "SELECT attributed_at FROM attributions WHERE chat_id = 1 AND platform = ?", (PE,)
        )
        assert row["attributed_at"] == 1_700_000_000

    async def test_attribution_keeps_language_and_vice_versa(self, db: Database) -> None:
        repo = ChatSettingsRepository(db)
        await repo.set_language(1, "ru")
        assert await repo.attribute(1, PE, "77", None) is True
        assert await repo.get_language(1) == "ru"
        await repo.set_language(1, "en")
        await repo.mark_inactive(1)
        assert await repo.get_attribution(1, PE) == Attribution(partner="77")

    async def test_customers_by_campaign(self, db: Database, clock: Clock) -> None:
        repo = ChatSettingsRepository(db)
        for chat, tag in [(1, "a"), (2, "a"), (3, None), (4, "b")]:
            await repo.attribute(chat, PE, "77", tag)
            clock.now += 100
        await repo.attribute(5, PE, "88", "a")
        await repo.attribute(6, OT, "77", "a")
        assert await repo.customers_by_campaign(PE, "77") == [("a", 2), (None, 1), ("b", 1)]
        assert await repo.customers_by_campaign(PE, "77", 1_700_000_100, 1_700_000_200) == [
            (None, 1),
            ("a", 1),
        ]
        assert await repo.customers_by_campaign(PE, "99") == []

    async def test_active_flag(self, db: Database) -> None:
        repo = ChatSettingsRepository(db)
        assert await repo.is_active(1) is True
        await repo.mark_inactive(1)
        assert await repo.is_active(1) is False
        assert await repo.is_active(2) is True
        await repo.mark_inactive(1)
        assert await repo.is_active(1) is False
        await repo.mark_active(1)
        assert await repo.is_active(1) is True


class TestPartnerCredentials:
    @pytest.fixture
    def repo(self, db: Database, box: SecretBox) -> PartnerCredentialRepository:
        return PartnerCredentialRepository(db, box)

    async def test_save_load_replace_delete(self, repo: PartnerCredentialRepository, clock: Clock) -> None:
        assert await repo.load(1, PE) is None
        assert await repo.label(1, PE) is None
        await repo.save(1, creds(PE, "alice", login="alice", key="key-one-aaaaaaaaaaaaaaaa"), "7")
        loaded = await repo.load(1, PE)
        assert loaded is not None
        assert (loaded.chat_id, loaded.platform, loaded.label, loaded.partner_id) == (1, PE, "alice", "7")
        assert loaded.credentials.get("key") == "key-one-aaaaaaaaaaaaaaaa"
        assert loaded.created_at == clock.now
        assert await repo.partner_id(1, PE) == "7"

        await repo.save(1, creds(PE, "alice2", login="alice2", key="key-two-bbbbbbbbbbbbbbbb"), None)
        loaded = await repo.load(1, PE)
        assert loaded is not None and (loaded.label, loaded.partner_id) == ("alice2", None)
        assert loaded.credentials.get("key") == "key-two-bbbbbbbbbbbbbbbb"
        assert await repo.db.fetchval("SELECT COUNT(*) FROM partner_credentials") == 1

        assert await repo.delete(1, PE) is True
        assert await repo.delete(1, PE) is False
        assert await repo.load(1, PE) is None

    async def test_nothing_readable_at_rest(self, repo: PartnerCredentialRepository, db: Database) -> None:
        await repo.save(1, creds(PE, "alice-login", login="alice-login", key="key-one-aaaaaaaaaaaaaaaa"), "7")
        await repo.set_extra(1, PE, {"webhook_secret": "whsec-zzzzzzzzzzzz"})
        raw = b"".join(
            bytes(value) if isinstance(value, bytes) else str(value).encode()
            for row in await db.fetchall("SELECT * FROM partner_credentials")
            for value in row
        )
        for secret in (b"alice-login", b"key-one", b"whsec-"):
            assert secret not in raw
        loaded = await repo.load(1, PE)
        assert loaded is not None and loaded.extra == {"webhook_secret": "whsec-zzzzzzzzzzzz"}
        assert "key-one" not in repr(loaded) and "whsec" not in repr(loaded)

    async def test_sealed_row_is_bound_to_its_chat(
        self, repo: PartnerCredentialRepository, db: Database
    ) -> None:
        await repo.save(1, creds(PE, "a", login="a", key="key-a-0000000000"), "1")
        await repo.save(2, creds(PE, "b", login="b", key="key-b-0000000000"), "2")
        await db.execute(
            "UPDATE partner_credentials "
            "SET sealed = (SELECT sealed FROM partner_credentials WHERE chat_id = 1) WHERE chat_id = 2"
        )
        with pytest.raises(DecryptionError):
            await repo.load(2, PE)

    async def test_platforms_and_chats_are_separate(self, repo: PartnerCredentialRepository) -> None:
        await repo.save(1, creds(PE, "a", login="a", key="key-a-0000000000"), "1")
        await repo.save(1, creds(OT, "key…", key="key-ot-000000000"), None)
        await repo.save(2, creds(PE, "b", login="b", key="key-b-0000000000"), "2")
        await repo.delete(1, PE)
        assert (await repo.load(1, OT)) is not None
        assert [linked.chat_id for linked in await repo.linked(PE)] == [2]

    async def test_push_token(self, repo: PartnerCredentialRepository) -> None:
        await repo.save(1, creds(PE, "a", login="a", key="key-a-0000000000"), "1")
        assert await repo.set_push_token(1, PE, "tok-1") is True
        assert await repo.set_push_token(9, PE, "tok-9") is False
        found = await repo.get_by_push_token(PE, "tok-1")
        assert found is not None and found.chat_id == 1
        assert await repo.get_by_push_token(OT, "tok-1") is None
        # Linking a new key forgets the old key's push registration.
        await repo.save(1, creds(PE, "a", login="a", key="key-c-0000000000"), "1")
        assert await repo.get_by_push_token(PE, "tok-1") is None


class TestOrders:
    @pytest.fixture
    def repo(self, db: Database, box: SecretBox) -> OrderRepository:
        return OrderRepository(db, box)

    async def test_reserve_then_attach(self, repo: OrderRepository, clock: Clock) -> None:
        local_id = await repo.reserve(10, PE, "1700000000001", "5", b'{"exact": "bytes"}')
        stored = await repo.get_by_key(PE, "1700000000001")
        assert stored is not None and stored.id == local_id
        assert (stored.chat_id, stored.platform, stored.direction_id) == (10, PE, "5")
        assert stored.order_id is None and stored.status is None and stored.created_at == clock.now
        assert await repo.prepared_request(PE, "1700000000001") == b'{"exact": "bytes"}'

        clock.now += 3
        await repo.attach(
            PE, "1700000000001", order_id="1234", number="1234", secret=SecretStr("a1b2"),
            status=status("new", title="Accepted"), push_token="tok-1",
            give_amount="100", give_currency_code="USDT",
        )  # fmt: skip
        stored = await repo.get(local_id)
        assert stored is not None
        assert (stored.order_id, stored.label, stored.status_code, stored.status_title) == (
            "1234",
            "1234",
            "new",
            "Accepted",
        )
        assert stored.secret is not None and stored.secret.get_secret_value() == "a1b2"
        assert stored.notified_status == "new" and stored.give_amount == "100"
        assert stored.updated_at == stored.status_changed_at == clock.now
        assert await repo.get_by_order_id(PE, "1234") == stored
        assert await repo.get_by_push_token("tok-1") == stored
        assert await repo.get_by_order_id(OT, "1234") is None
        assert "a1b2" not in repr(stored)

    async def test_secrets_encrypted_and_bound(self, repo: OrderRepository, db: Database) -> None:
        await repo.reserve(1, OT, "k1", None, b"body-one")
        await repo.reserve(1, OT, "k2", None, b"body-two")
        await repo.attach(OT, "k1", order_id="o1", secret=SecretStr("token-one"))
        await repo.attach(OT, "k2", order_id="o2", secret=SecretStr("token-two"))
        raw = repr([tuple(row) for row in await db.fetchall("SELECT * FROM orders")])
        assert "token-one" not in raw and "body-one" not in raw
        await db.execute(
            "UPDATE orders "
            "SET secret_ciphertext = (SELECT secret_ciphertext FROM orders WHERE order_id = 'o1') "
            "WHERE order_id = 'o2'"
        )
        with pytest.raises(DecryptionError):
            await repo.get_by_order_id(OT, "o2")

    async def test_key_is_unique_per_platform(self, repo: OrderRepository) -> None:
        await repo.reserve(10, PE, "42", None)
        with pytest.raises(KeyTaken) as caught:
            await repo.reserve(11, PE, "42", None)
        assert caught.value.key == "42"
        await repo.reserve(11, OT, "42", None)  # another platform's key space
        assert await repo.count_for_chat(11, PE) == 0

    async def test_attach_unknown_key(self, repo: OrderRepository) -> None:
        with pytest.raises(OrderNotStored):
            await repo.attach(PE, "missing", order_id="1")

    async def test_order_id_and_push_token_are_unique(self, repo: OrderRepository) -> None:
        await repo.reserve(1, PE, "a", None)
        await repo.reserve(1, PE, "b", None)
        await repo.attach(PE, "a", order_id="1", push_token="tok")
        with pytest.raises(sqlite3.IntegrityError):
            await repo.attach(PE, "b", order_id="1", push_token="tok2")
        with pytest.raises(sqlite3.IntegrityError):
            await repo.attach(PE, "b", order_id="2", push_token="tok")

    async def test_list_and_count_newest_first(self, repo: OrderRepository, clock: Clock) -> None:
        for n in range(5):
            clock.now += 10
            await repo.reserve(1, PE, f"k-{n}", str(n))
            await repo.attach(PE, f"k-{n}", order_id=str(100 + n), status=status("new"))
        await repo.reserve(2, PE, "other-chat", None)
        await repo.attach(PE, "other-chat", order_id="200")
        await repo.reserve(1, OT, "other-platform", None)
        await repo.attach(OT, "other-platform", order_id="uuid-1")
        # Same second: the later insert is still listed first.
        await repo.reserve(1, PE, "k-5", "5")
        await repo.attach(PE, "k-5", order_id="105")
        # Reservations that never became an order are not orders: not counted, not listed.
        for n in range(6, 9):
            await repo.reserve(1, PE, f"k-{n}", str(n))

        assert await repo.count_for_chat(1, PE) == 6
        assert await repo.count_for_chat(1, OT) == 1
        assert await repo.count_for_chat(3, PE) == 0
        page = await repo.list_for_chat(1, PE, limit=3)
        assert [o.idempotency_key for o in page] == ["k-5", "k-4", "k-3"]
        page = await repo.list_for_chat(1, PE, limit=3, offset=3)
        assert [o.idempotency_key for o in page] == ["k-2", "k-1", "k-0"]
        assert await repo.list_for_chat(1, PE, limit=3, offset=6) == []
        pending = await repo.pending_reservations(PE, chat_id=1)
        assert [o.idempotency_key for o in pending] == ["k-6", "k-7", "k-8"]
        assert await repo.pending_reservations(PE, chat_id=2) == []
        assert await repo.forget_reservation(PE, "k-7") is True
        assert await repo.forget_reservation(PE, "k-5") is False  # an order: never forgotten
        assert [o.idempotency_key for o in await repo.pending_reservations(PE)] == ["k-6", "k-8"]

    async def test_update_status(self, repo: OrderRepository, clock: Clock) -> None:
        local_id = await repo.reserve(1, PE, "a", None)
        await repo.attach(PE, "a", order_id="99", status=status("new", title="Accepted"))
        attached_at = clock.now

        clock.now += 5
        assert await repo.update_status(local_id, status("new", title="Accepted")) is False
        assert await repo.update_status(local_id, status("new", title="Принята")) is False
        stored = await repo.get(local_id)
        assert (
            stored is not None
            and stored.status_title == "Принята"
            and stored.status_changed_at == attached_at
        )

        clock.now += 5
        paid = status("payed", OrderPhase.CONFIRMING_PAYMENT, "Paid", 30)
        assert await repo.update_status(local_id, paid) is True
        stored = await repo.get(local_id)
        assert stored is not None and stored.status == paid and stored.status_changed_at == clock.now
        assert await repo.update_status(local_id, paid) is False
        assert await repo.update_status(12345, paid) is False

    async def test_open_orders_exclude_final_phases_and_unattached(self, repo: OrderRepository) -> None:
        phases = [OrderPhase.AWAITING_PAYMENT, OrderPhase.NEEDS_DECISION, OrderPhase.PROCESSING]
        finals = [OrderPhase.DONE, OrderPhase.CANCELLED, OrderPhase.FAILED]
        for n, phase in enumerate(phases + finals):
            await repo.reserve(1, PE, f"k-{n}", None)
            await repo.attach(PE, f"k-{n}", order_id=str(100 + n), status=status(f"code{n}", phase))
        await repo.reserve(1, PE, "never-attached", None)
        await repo.reserve(1, OT, "other", None)
        await repo.attach(OT, "other", order_id="x", status=None)  # status unknown yet: open

        open_orders = await repo.open_orders(PE)
        assert [o.status_phase for o in open_orders] == [p.value for p in phases]
        assert all(not o.is_final for o in open_orders)
        assert [o.order_id for o in await repo.open_orders(OT)] == ["x"]
        counts = (await repo.count_open(PE), await repo.count_open(OT), await repo.count_open("none"))
        assert counts == (3, 1, 0)

        first = open_orders[0]
        await repo.update_status(first.id, status("success", OrderPhase.DONE, rank=100))
        assert [o.order_id for o in await repo.open_orders(PE)] == ["101", "102"]
        assert await repo.count_open(PE) == 2

    async def test_due_for_check(self, repo: OrderRepository, clock: Clock) -> None:
        a = await repo.reserve(1, PE, "a", None)
        await repo.attach(PE, "a", order_id="1", status=status("new"))
        clock.now += 100
        b = await repo.reserve(1, PE, "b", None)
        await repo.attach(PE, "b", order_id="2", status=status("new"))
        assert await repo.due_for_check(PE, clock.now, 3600, 5) == []
        clock.now += 3550
        assert [o.id for o in await repo.due_for_check(PE, clock.now, 3600, 5)] == [a]
        await repo.schedule_check(a, clock.now, clock.now + 3600)
        clock.now += 100
        assert [o.id for o in await repo.due_for_check(PE, clock.now, 3600, 5)] == [b]
        assert await repo.due_for_check(OT, clock.now, 3600, 5) == []


class TestPayoutRequests:
    async def test_claim_once_per_key(self, db: Database) -> None:
        repo = PayoutRequestRepository(db)
        assert await repo.claim(1, PE, "req-1", "7") is True
        assert await repo.claim(1, PE, "req-1", "7") is False
        assert [r.platform for r in await repo.list_for_chat(1, PE)] == [PE]
        assert await repo.list_for_chat(1, OT) == []
