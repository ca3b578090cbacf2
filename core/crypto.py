"""Secrets derived from SECRET_KEY: keyed hashing (CCCD) and sealed bank account numbers.

CCCD numbers are only matched, never read back: an HMAC. Bank account numbers must be read back
(signs, exports) and matched (partner payments, duplicates), so they are stored sealed with
deterministic authenticated encryption (AES-SIV, a key derived from SECRET_KEY with HKDF): the same
number always seals to the same text, so equality, unique constraints and indexes work on the
sealed column, and a copy of the database reads as `v1:…` without the key. Equality is what
leaks, as with any searchable encryption. Every worker derives the same key from the same secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.settings import Settings

SEALED_PREFIX = "v1:"
CREDENTIAL_PREFIX = "g1:"


def secret_key(settings: Settings) -> bytes:
    """SECRET_KEY, or a random key created once under DATA_DIR (shared by every worker)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            tmp.rename(path) if not path.exists() else tmp.unlink()
        except OSError:
            pass
    return path.read_text().strip().encode()


def keyed_hash(key: bytes, value: str) -> bytes:
    """HMAC-SHA256 of a value: equal inputs match, the input cannot be read back."""
    return hmac.new(key, value.encode(), hashlib.sha256).digest()


class AccountSeal:
    """Seals and opens bank account numbers (AES-SIV, deterministic; see the module's docstring)."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=64, salt=None, info=b"choso account number v1"
        ).derive(secret)
        self._siv = AESSIV(key)

    def seal(self, number: str) -> str:
        """`v1:` and the URL-safe base64 of the ciphertext; sealing twice gives the same text."""
        sealed = self._siv.encrypt(number.encode(), None)
        return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, stored: str) -> str:
        """The number; a value that is not sealed (an erased marker `~…`) comes back unchanged."""
        if not stored.startswith(SEALED_PREFIX):
            return stored
        token = stored[len(SEALED_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            return self._siv.decrypt(raw, None).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SealError(
                "An account number was sealed with another SECRET_KEY (or is damaged): set the "
                "SECRET_KEY the data was written with."
            ) from exc


class SealError(RuntimeError):
    """A sealed value does not open with this process's key."""


class CredentialBox:
    """Partner credentials (signing secrets) at rest: AES-GCM with a random nonce, bound to where
    the value belongs (`context`, e.g. "MOMO/secret_key") so a value moved elsewhere fails."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"choso partner credential v1"
        ).derive(secret)
        self._gcm = AESGCM(key)

    def seal(self, value: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._gcm.encrypt(nonce, value.encode(), context.encode())
        return CREDENTIAL_PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, stored: str, context: str) -> str:
        """The value; one stored before sealing (no prefix) comes back unchanged."""
        if not stored.startswith(CREDENTIAL_PREFIX):
            return stored
        token = stored[len(CREDENTIAL_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            return self._gcm.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SealError(
                f"The stored credential {context} was sealed with another SECRET_KEY (or is "
                "damaged): set the SECRET_KEY it was written with, or enter it again."
            ) from exc


FINGERPRINT_VERSION = b"\x01"  # 33 bytes: version + HMAC; a bare 32-byte SHA-256 is from before


class Keys:
    """Every key derived from SECRET_KEY, in one object the app builds at start-up.

    Database connections carry it (core.db.Connection.keys): the columns a query reads and writes
    are sealed and opened with the keys of the connection it runs on, so no key is a global.
    """

    def __init__(self, secret: bytes) -> None:
        self._hash_key = secret
        self._accounts = AccountSeal(secret)
        self._credentials = CredentialBox(secret)
        self._fingerprint_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"choso message fingerprint v1"
        ).derive(secret)

    def keyed_hash(self, value: str) -> bytes:
        """HMAC-SHA256 of an identifier (CCCD): equal inputs match, the input cannot be read back."""
        return keyed_hash(self._hash_key, value)

    def seal(self, number: str) -> str:
        """A bank account number (or a text that carries one, such as a printed payload) sealed."""
        return self._accounts.seal(number)

    def seal_all(self, numbers: Iterable[str]) -> list[str]:
        return [self._accounts.seal(n) for n in numbers]

    def seal_or_none(self, number: str | None) -> str | None:
        return self._accounts.seal(number) if number is not None else None

    def open(self, stored: str) -> str:
        return self._accounts.open(stored)

    def open_or_none(self, stored: str | None) -> str | None:
        return self._accounts.open(stored) if stored is not None else None

    def fingerprint(self, data: bytes) -> bytes:
        """A keyed fingerprint (HMAC-SHA256) of a message's content: equal content matches, and a
        stored fingerprint cannot be used to guess the content (an account number) without the key."""
        return FINGERPRINT_VERSION + hmac.new(self._fingerprint_key, data, hashlib.sha256).digest()

    def fingerprint_matches(self, stored: bytes, data: bytes) -> bool:
        """Whether a stored fingerprint is this content's. One stored before fingerprints were
        keyed (a bare 32-byte SHA-256) is still honoured, so a retry across the upgrade stays one."""
        if len(stored) == 32:
            return hmac.compare_digest(stored, hashlib.sha256(data).digest())
        return hmac.compare_digest(stored, self.fingerprint(data))

    def seal_credentials(self, code: str, credentials: dict[str, str]) -> dict[str, str]:
        """A partner's credentials as stored: names in clear (the API lists them), values sealed."""
        return {
            name: self._credentials.seal(value, f"{code}/{name}")
            for name, value in credentials.items()
        }

    def open_credentials(self, code: str, stored: dict[str, str]) -> dict[str, str]:
        return {
            name: self._credentials.open(value, f"{code}/{name}") for name, value in stored.items()
        }

    def seal_numbers_in(
        self, message: dict[str, Any], *, skip_sealed: bool = False
    ) -> dict[str, Any]:
        """A partner message as stored: the account number it names (top level, or under `data`
        in our own API) sealed. skip_sealed: leave values already sealed (rows written before)."""

        def sealed(holder: dict[str, Any]) -> dict[str, Any]:
            number = holder.get("account_number")
            if not isinstance(number, str) or (skip_sealed and number.startswith(SEALED_PREFIX)):
                return holder
            return holder | {"account_number": self._accounts.seal(number)}

        out = sealed(dict(message))
        if isinstance(out.get("data"), dict):
            out["data"] = sealed(out["data"])
        return out


class _HasKeys(Protocol):
    keys: Keys


def keys_of(conn: object) -> Keys:
    """The keys a database connection carries (core.db.Connection, or a pool's proxy of one)."""
    return cast(_HasKeys, conn).keys
