"""SecretBox, key files, the start-up key check, and encrypted partner keys on disk."""

import base64
import stat
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.domain.capabilities import PartnerCredentials
from bot.storage.crypto import (
    DecryptionError,
    SecretBox,
    SecretBoxError,
    WrongSecretKey,
    generate_secret_key,
    load_or_create_secret_key,
    verify_secret,
)
from bot.storage.database import Database
from bot.storage.repositories import LinkedCredentials, PartnerCredentialRepository

PARTNER_KEY = "pk-Zq8vN3rT5wY7aB9cD1eF2gH4jK6mP0sX"


@pytest.fixture
def secret() -> str:
    return generate_secret_key()


@pytest.fixture
def box(secret: str) -> SecretBox:
    return SecretBox.from_secret(secret)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


def database_file_bytes(path: Path) -> bytes:
    """The database file plus its -wal and -shm companions, as they are on disk now."""
    files = sorted(p for p in path.parent.iterdir() if p.name.startswith(path.name))
    assert path in files
    return b"".join(p.read_bytes() for p in files)


class TestSecretBox:
    def test_round_trip(self, box: SecretBox) -> None:
        blob = box.encrypt("секрет key", aad=b"chat:1")
        assert isinstance(blob, bytes)
        assert box.decrypt(blob, aad=b"chat:1") == "секрет key"

    def test_nonce_is_random(self, box: SecretBox) -> None:
        first = box.encrypt("same", aad=b"a")
        second = box.encrypt("same", aad=b"a")
        assert first != second
        assert first[9:21] != second[9:21]  # the 96-bit nonces

    def test_ciphertext_does_not_contain_plaintext(self, box: SecretBox) -> None:
        assert PARTNER_KEY.encode() not in box.encrypt(PARTNER_KEY, aad=b"a")

    def test_wrong_key_raises_wrong_secret_key(self, box: SecretBox) -> None:
        blob = box.encrypt(PARTNER_KEY, aad=b"chat:1")
        other_secret = generate_secret_key()
        with pytest.raises(WrongSecretKey) as caught:
            SecretBox.from_secret(other_secret).decrypt(blob, aad=b"chat:1")
        message = str(caught.value)
        assert "SECRET_KEY does not match the one the keys were stored with" in message
        assert other_secret not in message
        assert PARTNER_KEY not in message

    def test_other_aad_fails_but_is_not_reported_as_wrong_key(self, box: SecretBox) -> None:
        blob = box.encrypt(PARTNER_KEY, aad=b"chat:1")
        with pytest.raises(DecryptionError) as caught:
            box.decrypt(blob, aad=b"chat:2")
        assert not isinstance(caught.value, WrongSecretKey)

    @pytest.mark.parametrize("position", [0, 5, 15, 30, -1])
    def test_tampering_is_detected(self, box: SecretBox, position: int) -> None:
        blob = bytearray(box.encrypt(PARTNER_KEY, aad=b"a"))
        blob[position] ^= 0x01
        with pytest.raises(DecryptionError):
            box.decrypt(bytes(blob), aad=b"a")

    def test_truncated_blob(self, box: SecretBox) -> None:
        with pytest.raises(DecryptionError):
            box.decrypt(b"\x01short", aad=b"a")

    def test_generated_key_is_used_raw(self, secret: str) -> None:
        raw = base64.urlsafe_b64decode(secret)
        assert len(raw) == 32
        blob = SecretBox(raw).encrypt("x", aad=b"")
        assert SecretBox.from_secret(secret).decrypt(blob, aad=b"") == "x"
        assert SecretBox.from_secret(secret.rstrip("=") + "\n").decrypt(blob, aad=b"") == "x"

    def test_passphrase_is_derived_deterministically(self) -> None:
        passphrase = "correct horse battery staple, exchanger"
        blob = SecretBox.from_secret(passphrase).encrypt("x", aad=b"")
        assert SecretBox.from_secret(passphrase).decrypt(blob, aad=b"") == "x"
        with pytest.raises(WrongSecretKey):
            SecretBox.from_secret(passphrase + "!").decrypt(blob, aad=b"")

    def test_short_passphrase_is_refused_without_echoing_it(self) -> None:
        with pytest.raises(ValueError) as caught:
            SecretBox.from_secret("hunter2")
        assert "hunter2" not in str(caught.value)

    def test_repr_hides_key(self, secret: str, box: SecretBox) -> None:
        raw = base64.urlsafe_b64decode(secret)
        for text in (repr(box), str(box), f"{box}"):
            assert secret not in text
            assert raw.hex() not in text
        assert not hasattr(box, "__dict__")


class TestKeyFile:
    def test_created_with_mode_0600_and_reused(self, tmp_path: Path) -> None:
        path = tmp_path / "secrets" / "nested" / "secret.key"
        key = load_or_create_secret_key(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_or_create_secret_key(path) == key
        assert path.read_text().strip() == key
        SecretBox.from_secret(key)  # a valid raw key
        assert len(base64.urlsafe_b64decode(key)) == 32

    def test_existing_file_is_not_overwritten(self, tmp_path: Path) -> None:
        path = tmp_path / "secret.key"
        path.write_text("a passphrase somebody chose on purpose\n")
        assert load_or_create_secret_key(path) == "a passphrase somebody chose on purpose"

    def test_empty_file_is_an_error(self, tmp_path: Path) -> None:
        path = tmp_path / "secret.key"
        path.write_text("")
        with pytest.raises(SecretBoxError):
            load_or_create_secret_key(path)

    def test_concurrent_creation_yields_one_key(self, tmp_path: Path) -> None:
        path = tmp_path / "race" / "secret.key"
        with ThreadPoolExecutor(max_workers=8) as pool:
            keys = set(pool.map(lambda _: load_or_create_secret_key(path), range(16)))
        assert keys == {path.read_text().strip()}


class TestVerifySecret:
    async def test_first_use_writes_check_then_same_key_passes(self, db: Database, box: SecretBox) -> None:
        assert await db.fetchval("SELECT COUNT(*) FROM meta") == 0
        await verify_secret(db, box)
        stored = await db.fetchval("SELECT value FROM meta WHERE name = 'secret_check'")
        await verify_secret(db, box)
        assert await db.fetchval("SELECT value FROM meta WHERE name = 'secret_check'") == stored

    async def test_wrong_key_detected_after_restart(self, tmp_path: Path, secret: str) -> None:
        path = tmp_path / "bot.sqlite3"
        first = await Database.open(path)
        await verify_secret(first, SecretBox.from_secret(secret))
        await first.close()

        second = await Database.open(path)
        try:
            await verify_secret(second, SecretBox.from_secret(secret))
            with pytest.raises(WrongSecretKey, match="SECRET_KEY does not match"):
                await verify_secret(second, SecretBox.from_secret(generate_secret_key()))
        finally:
            await second.close()


def linked_key(login: str, key: str) -> PartnerCredentials:
    return PartnerCredentials(PE, {"login": SecretStr(login), "key": SecretStr(key)}, label=login)


PE = "premiumexchanger"


class TestPartnerKeysAtRest:
    async def test_file_bytes_do_not_contain_the_key_or_login(self, tmp_path: Path, box: SecretBox) -> None:
        path = tmp_path / "bot.sqlite3"
        database = await Database.open(path)
        try:
            repo = PartnerCredentialRepository(database, box)
            await repo.save(
                1001, linked_key("partner_login_hidden", PARTNER_KEY), partner_id="partner-7-visible"
            )
            loaded = await repo.load(1001, PE)
            assert loaded is not None
            assert loaded.credentials.get("key") == PARTNER_KEY

            content = database_file_bytes(path)
            # The partner id is stored in clear: finding it proves the bytes scanned hold the row.
            assert b"partner-7-visible" in content
            for secret in (PARTNER_KEY, "partner_login_hidden"):
                assert secret.encode() not in content
                assert secret.encode("utf-16-le") not in content
        finally:
            await database.close()

    async def test_wrong_secret_on_load(self, db: Database, box: SecretBox) -> None:
        await PartnerCredentialRepository(db, box).save(1, linked_key("login", PARTNER_KEY), None)
        other = PartnerCredentialRepository(db, SecretBox.from_secret(generate_secret_key()))
        with pytest.raises(WrongSecretKey) as caught:
            await other.load(1, PE)
        assert PARTNER_KEY not in str(caught.value)

    async def test_ciphertext_moved_to_another_chat_fails(self, db: Database, box: SecretBox) -> None:
        repo = PartnerCredentialRepository(db, box)
        await repo.save(1, linked_key("victim", PARTNER_KEY), "7")
        await repo.save(2, linked_key("attacker", "attacker-own-key-000000000"), "8")
        await db.execute(
            """
            UPDATE partner_credentials
            SET sealed = (SELECT sealed FROM partner_credentials WHERE chat_id = 1)
            WHERE chat_id = 2
            """
        )
        with pytest.raises(DecryptionError):
            await repo.load(2, PE)
        loaded = await repo.load(1, PE)
        assert loaded is not None and loaded.credentials.get("key") == PARTNER_KEY

    async def test_linked_credentials_repr_hides_key(self, db: Database, box: SecretBox) -> None:
        repo = PartnerCredentialRepository(db, box)
        await repo.save(1, linked_key("login", PARTNER_KEY), "7")
        loaded = await repo.load(1, PE)
        assert isinstance(loaded, LinkedCredentials)
        for text in (repr(loaded), str(loaded), f"{loaded}", repr(loaded.credentials)):
            assert PARTNER_KEY not in text
