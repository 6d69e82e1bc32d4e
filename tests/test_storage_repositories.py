"""Repositories over a real SQLite file."""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.storage.crypto import SecretBox, generate_secret_key
from bot.storage.database import Database
from bot.storage.repositories import (
    FINAL_STATUSES,
    ApiIdTaken,
    Attribution,
    BidNotFound,
    BidRepository,
    ChatSettingsRepository,
    PartnerKeyRepository,
)


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

    async def test_first_partner_wins(self, db: Database, clock: Clock) -> None:
        repo = ChatSettingsRepository(db)
        assert await repo.get_attribution(1) is None
        assert await repo.attribute(1, 77, "spring") is True
        clock.now += 60
        assert await repo.attribute(1, 88, "summer") is False
        assert await repo.get_attribution(1) == Attribution(77, "spring")
        assert await repo.get_attribution(1) == (77, "spring")
        row = await db.fetchone("SELECT attributed_at FROM chat_settings WHERE chat_id = 1")
        assert row["attributed_at"] == 1_700_000_000

    async def test_attribution_keeps_language_and_vice_versa(self, db: Database) -> None:
        repo = ChatSettingsRepository(db)
        await repo.set_language(1, "ru")
        assert await repo.attribute(1, 77, None) is True
        assert await repo.get_language(1) == "ru"
        await repo.set_language(1, "en")
        assert await repo.get_attribution(1) == Attribution(77, None)

    async def test_language_row_without_partner_has_no_attribution(self, db: Database) -> None:
        repo = ChatSettingsRepository(db)
        await repo.set_language(1, "ru")
        assert await repo.get_attribution(1) is None

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

    async def test_mark_inactive_keeps_other_settings(self, db: Database) -> None:
        repo = ChatSettingsRepository(db)
        await repo.set_language(1, "ru")
        await repo.attribute(1, 5, "c")
        await repo.mark_inactive(1)
        assert await repo.get_language(1) == "ru"
        assert await repo.get_attribution(1) == Attribution(5, "c")


class TestPartnerKeys:
    @pytest.fixture
    def repo(self, db: Database) -> PartnerKeyRepository:
        return PartnerKeyRepository(db, SecretBox.from_secret(generate_secret_key()))

    async def test_save_load_replace_delete(self, repo: PartnerKeyRepository, clock: Clock) -> None:
        assert await repo.load(1) is None
        assert await repo.get_login(1) is None

        await repo.save(1, "alice", SecretStr("key-one-aaaaaaaaaaaaaaaa"), 7)
        loaded = await repo.load(1)
        assert loaded is not None
        assert (loaded.chat_id, loaded.login, loaded.partner_id) == (1, "alice", 7)
        assert loaded.key.get_secret_value() == "key-one-aaaaaaaaaaaaaaaa"
        assert loaded.created_at == clock.now
        assert await repo.get_login(1) == "alice"

        await repo.save(1, "alice2", SecretStr("key-two-bbbbbbbbbbbbbbbb"), None)
        loaded = await repo.load(1)
        assert loaded is not None
        assert (loaded.login, loaded.partner_id) == ("alice2", None)
        assert loaded.key.get_secret_value() == "key-two-bbbbbbbbbbbbbbbb"
        assert await repo.db.fetchval("SELECT COUNT(*) FROM partner_keys") == 1

        assert await repo.delete(1) is True
        assert await repo.delete(1) is False
        assert await repo.load(1) is None

    async def test_keys_of_chats_are_separate(self, repo: PartnerKeyRepository) -> None:
        await repo.save(1, "a", SecretStr("key-a-0000000000"), 1)
        await repo.save(2, "b", SecretStr("key-b-0000000000"), 2)
        await repo.delete(1)
        loaded = await repo.load(2)
        assert loaded is not None and loaded.key.get_secret_value() == "key-b-0000000000"

    async def test_linked_key_is_frozen(self, repo: PartnerKeyRepository) -> None:
        await repo.save(1, "a", SecretStr("key-a-0000000000"), 1)
        loaded = await repo.load(1)
        with pytest.raises(AttributeError):
            loaded.login = "b"  # type: ignore[misc, union-attr]


class TestBids:
    @pytest.fixture
    def repo(self, db: Database) -> BidRepository:
        return BidRepository(db)

    async def test_reserve_then_attach(self, repo: BidRepository, clock: Clock) -> None:
        await repo.reserve(10, "1700000000001", direction_id=5)
        bid = await repo.get_by_api_id("1700000000001")
        assert bid is not None
        assert (bid.chat_id, bid.api_id, bid.direction_id) == (10, "1700000000001", 5)
        assert bid.bid_id is None and bid.status is None and bid.created_at == clock.now

        clock.now += 3
        await repo.attach("1700000000001", 1234, "a1b2", "new", "Accepted", "tok-1")
        bid = await repo.get_by_api_id("1700000000001")
        assert bid is not None
        assert (bid.bid_id, bid.bid_hash, bid.status, bid.status_title, bid.callback_token) == (
            1234,
            "a1b2",
            "new",
            "Accepted",
            "tok-1",
        )
        assert bid.updated_at == bid.status_changed_at == clock.now
        assert await repo.get_by_bid_id(1234) == bid
        assert await repo.get_by_callback_token("tok-1") == bid

    async def test_lookups_miss(self, repo: BidRepository) -> None:
        assert await repo.get_by_api_id("nope") is None
        assert await repo.get_by_bid_id(1) is None
        assert await repo.get_by_callback_token("nope") is None

    async def test_api_id_is_unique(self, repo: BidRepository) -> None:
        await repo.reserve(10, "42", None)
        with pytest.raises(ApiIdTaken) as caught:
            await repo.reserve(11, "42", None)
        assert caught.value.api_id == "42"
        assert await repo.count_for_chat(11) == 0

    async def test_attach_unknown_api_id(self, repo: BidRepository) -> None:
        with pytest.raises(BidNotFound):
            await repo.attach("missing", 1, "h", "new", "New")

    async def test_bid_id_and_callback_token_are_unique(self, repo: BidRepository) -> None:
        await repo.reserve(1, "a", None)
        await repo.reserve(1, "b", None)
        await repo.attach("a", 1, "h", "new", "New", "tok")
        with pytest.raises(sqlite3.IntegrityError):
            await repo.attach("b", 1, "h2", "new", "New", "tok2")
        with pytest.raises(sqlite3.IntegrityError):
            await repo.attach("b", 2, "h2", "new", "New", "tok")

    async def test_list_and_count_newest_first(self, repo: BidRepository, clock: Clock) -> None:
        for n in range(5):
            clock.now += 10
            await repo.reserve(1, f"api-{n}", n)
            await repo.attach(f"api-{n}", 100 + n, None, "new", "New")
        await repo.reserve(2, "other-chat", None)
        await repo.attach("other-chat", 200, None, "new", "New")
        # Same second: the later insert is still listed first.
        await repo.reserve(1, "api-5", 5)
        await repo.attach("api-5", 105, None, "new", "New")
        # Reservations that never became an order are not orders: not counted, not listed.
        for n in range(6, 9):
            await repo.reserve(1, f"api-{n}", n)

        assert await repo.count_for_chat(1) == 6
        assert await repo.count_for_chat(2) == 1
        assert await repo.count_for_chat(3) == 0
        page = await repo.list_for_chat(1, limit=3)
        assert [b.api_id for b in page] == ["api-5", "api-4", "api-3"]
        page = await repo.list_for_chat(1, limit=3, offset=3)
        assert [b.api_id for b in page] == ["api-2", "api-1", "api-0"]
        assert await repo.list_for_chat(1, limit=3, offset=6) == []
        assert [b.api_id for b in await repo.pending_reservations(chat_id=1)] == ["api-6", "api-7", "api-8"]
        assert await repo.pending_reservations(chat_id=2) == []
        assert await repo.forget_reservation("api-7") is True
        assert await repo.forget_reservation("api-5") is False  # an order: never forgotten
        assert [b.api_id for b in await repo.pending_reservations()] == ["api-6", "api-8"]

    async def test_update_status(self, repo: BidRepository, clock: Clock) -> None:
        await repo.reserve(1, "a", None)
        await repo.attach("a", 99, "h", "new", "Accepted")
        attached_at = clock.now

        clock.now += 5
        assert await repo.update_status(99, "new", "Accepted") is False
        assert await repo.update_status(99, "new", "Принята") is False
        bid = await repo.get_by_bid_id(99)
        assert bid is not None
        assert bid.status_title == "Принята"
        assert bid.status_changed_at == attached_at

        clock.now += 5
        assert await repo.update_status(99, "payed", "Paid") is True
        bid = await repo.get_by_bid_id(99)
        assert bid is not None
        assert (bid.status, bid.status_title, bid.status_changed_at) == ("payed", "Paid", clock.now)
        assert await repo.update_status(99, "payed", "Paid") is False
        assert await repo.update_status(12345, "success", "Done") is False

    async def test_open_bids_excludes_final_and_unattached(self, repo: BidRepository) -> None:
        statuses = ["new", "payed", "someNewSiteStatus", *sorted(FINAL_STATUSES)]
        for n, status in enumerate(statuses):
            await repo.reserve(1, f"api-{n}", None)
            await repo.attach(f"api-{n}", 100 + n, f"h{n}", status, status.title())
        await repo.reserve(1, "never-attached", None)

        open_bids = await repo.open_bids()
        assert [b.status for b in open_bids] == ["new", "payed", "someNewSiteStatus"]
        assert all(not b.is_final for b in open_bids)

        await repo.update_status(100, "success", "Done")
        assert [b.bid_id for b in await repo.open_bids()] == [101, 102]
        assert FINAL_STATUSES == {"success", "cancel", "delete", "error"}

    async def test_bid_is_frozen(self, repo: BidRepository) -> None:
        await repo.reserve(1, "a", None)
        bid = await repo.get_by_api_id("a")
        with pytest.raises(AttributeError):
            bid.status = "x"  # type: ignore[misc, union-attr]
