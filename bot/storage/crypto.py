"""Authenticated encryption of secrets at rest (partner API keys) with AES-256-GCM.

Blob layout: ``version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext + tag``. The key id
is an HKDF output of the key (reveals nothing usable about it) that tells "wrong SECRET_KEY" apart from
"ciphertext moved or altered".
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from bot.storage.database import Database

logger = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_BYTES = 8
MIN_PASSPHRASE_CHARS = 16
_FORMAT_V1 = b"\x01"
_HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
_RAW_KEY_RE = re.compile(r"[A-Za-z0-9_-]{43}=?")
_PASSPHRASE_SALT = b"exchanger-bot/secretbox/passphrase/v1"

SECRET_CHECK_NAME = "secret_check"
_SECRET_CHECK_PLAINTEXT = "exchanger-bot secret check v1"
_SECRET_CHECK_AAD = b"meta:secret_check"


class SecretBoxError(Exception):
    """Base class of the errors raised by :class:`SecretBox`."""


class DecryptionError(SecretBoxError):
    """The blob is malformed, was altered, or belongs to other associated data (e.g. another chat)."""


class WrongSecretKey(DecryptionError):
    def __init__(self) -> None:
        super().__init__(
            "SECRET_KEY does not match the one the keys were stored with: the stored partner keys cannot "
            "be decrypted. Restore the previous SECRET_KEY (or key file); if it is lost, the partners "
            "have to link their keys again."
        )


def _hkdf(material: bytes, *, salt: bytes | None, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(material)


def generate_secret_key() -> str:
    """A fresh random key in the form :meth:`SecretBox.from_secret` takes as-is (urlsafe base64)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _decode_raw_key(secret: str) -> bytes | None:
    if not _RAW_KEY_RE.fullmatch(secret):
        return None
    padded = secret if secret.endswith("=") else secret + "="
    try:
        raw = base64.urlsafe_b64decode(padded)
    except ValueError:
        return None
    # A string whose last character carries stray bits is a passphrase, not one of our keys.
    if len(raw) != KEY_BYTES or base64.urlsafe_b64encode(raw).decode("ascii") != padded:
        return None
    return raw


class SecretBox:
    """Encrypts short strings with AES-256-GCM, a random 96-bit nonce each time, and caller-given AAD."""

    __slots__ = ("_aead", "_key_id")

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"SecretBox needs a {KEY_BYTES}-byte key")
        self._aead = AESGCM(key)
        self._key_id = _hkdf(key, salt=None, info=b"exchanger-bot/secretbox/key-id", length=KEY_ID_BYTES)

    @classmethod
    def from_secret(cls, secret: str) -> SecretBox:
        """Accept a urlsafe-base64 32-byte key (see :func:`generate_secret_key`) or a passphrase.

        A passphrase (at least 16 characters) is stretched with HKDF-SHA256; it must be strong itself,
        HKDF adds no brute-force cost.
        """
        secret = secret.strip()
        raw = _decode_raw_key(secret)
        if raw is None:
            if len(secret) < MIN_PASSPHRASE_CHARS:
                raise ValueError(
                    f"SECRET_KEY is too short: use a generated key or a passphrase of at least "
                    f"{MIN_PASSPHRASE_CHARS} characters"
                )
            raw = _hkdf(
                secret.encode("utf-8"), salt=_PASSPHRASE_SALT, info=b"secretbox key", length=KEY_BYTES
            )
        return cls(raw)

    def encrypt(self, plaintext: str, *, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), aad)
        return _FORMAT_V1 + self._key_id + nonce + sealed

    def seal(self, plaintext: str, *, aad: bytes) -> str:
        """`encrypt` as ASCII text, for values kept in JSON (conversation data)."""
        return base64.urlsafe_b64encode(self.encrypt(plaintext, aad=aad)).decode("ascii")

    def unseal(self, token: str, *, aad: bytes) -> str:
        try:
            blob = base64.urlsafe_b64decode(token.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise DecryptionError("Encrypted value is malformed or has an unknown format") from None
        return self.decrypt(blob, aad=aad)

    def decrypt(self, blob: bytes, *, aad: bytes) -> str:
        blob = bytes(blob)
        if len(blob) < _HEADER_BYTES + 16 or blob[:1] != _FORMAT_V1:
            raise DecryptionError("Encrypted value is malformed or has an unknown format")
        key_id = blob[1 : 1 + KEY_ID_BYTES]
        if not hmac.compare_digest(key_id, self._key_id):
            raise WrongSecretKey()
        nonce = blob[1 + KEY_ID_BYTES : _HEADER_BYTES]
        try:
            plaintext = self._aead.decrypt(nonce, blob[_HEADER_BYTES:], aad)
        except InvalidTag:
            raise DecryptionError(
                "Encrypted value failed authentication: it was altered or belongs to another record"
            ) from None
        return plaintext.decode("utf-8")

    def __repr__(self) -> str:
        return "<SecretBox AES-256-GCM>"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("SecretBox cannot be pickled")


def load_or_create_secret_key(path: Path) -> str:
    """Return the key stored in ``path``, generating it (mode 0600) on first use.

    The key is written to a private temporary file and hard-linked into place, which either creates
    ``path`` whole or fails because it exists: a racing process never sees a half-written file.
    """
    path = Path(path)
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = generate_secret_key()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, (key + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read_key_file(path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    logger.info("Generated a new secret key in %s", path)
    return key


def _read_key_file(path: Path) -> str:
    text = path.read_text(encoding="ascii").strip()
    if not text:
        raise SecretBoxError(f"Secret key file {path} is empty")
    if path.stat().st_mode & 0o077:
        logger.warning("Secret key file %s is readable by other users; chmod 600 it", path)
    return text


async def verify_secret(db: Database, box: SecretBox) -> None:
    """Check ``box`` against the check value in ``meta``, writing it on first use.

    Raises :class:`WrongSecretKey` at start-up when SECRET_KEY changed, before any partner key is read.
    """
    sealed = box.encrypt(_SECRET_CHECK_PLAINTEXT, aad=_SECRET_CHECK_AAD)
    await db.execute("INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)", (SECRET_CHECK_NAME, sealed))
    stored = await db.fetchval("SELECT value FROM meta WHERE name = ?", (SECRET_CHECK_NAME,))
    if box.decrypt(stored, aad=_SECRET_CHECK_AAD) != _SECRET_CHECK_PLAINTEXT:
        raise WrongSecretKey()
