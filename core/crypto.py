"""Keyed hashing for identifiers we must match but never store (CCCD)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from core.settings import Settings


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
