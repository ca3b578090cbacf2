"""Service settings, read from the environment (and `.env`) once, in get_settings()."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_pool_max(cores: int | None = None) -> int:
    """Connections per worker unless DB_POOL_MAX says otherwise: two per core of this machine and
    one more, at most 10. PostgreSQL does the most work with few more busy connections than cores;
    more of them only wait on each other's locks and the CPU (docs/deployment.md, "Connections").
    Where the database runs on its own server, set DB_POOL_MAX from that server's cores."""
    return min(10, 2 * (cores or os.cpu_count() or 1) + 1)


class Settings(BaseSettings):
    """Every knob the service has. Secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Database: unset -> an embedded PostgreSQL (pgserver) under DATA_DIR.
    database_url: str | None = None
    data_dir: Path = Path("./var")
    auto_migrate: bool = True
    db_pool_min: int = 1
    db_pool_max: int = Field(default_factory=default_pool_max)

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    public_url: str | None = None

    # Demo data and the first administrator.
    demo_data: bool = True
    admin_username: str | None = None
    admin_password: SecretStr | None = None

    # Sign-in.
    token_ttl_hours: float = 12.0
    password_min_length: int = 10
    login_max_failures: int = 5
    login_lock_seconds: int = 300
    login_slowdown_after: int = 3

    # Keyed hashing of identifiers (CCCD). Unset -> a key generated once under DATA_DIR.
    secret_key: SecretStr | None = None

    # Personal data: deadlines are settings, not constants (PDPL 91/2025, Decree 356/2025).
    data_request_deadline_days: int = 3
    notice_version: str = "2026-01"

    # Web.
    max_body_bytes: int = 1_048_576
    max_upload_bytes: int = 20 * 1_048_576
    cors_origins: list[str] = Field(default_factory=list)
    map_tile_url: str | None = None
    # Proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed; empty: none.
    trusted_proxies: list[str] = Field(default_factory=list)

    # Coverage.
    transacting_window_days: int = 30

    # Account-name lookup (vietqr.io compatible); disabled when base URL is unset.
    lookup_base_url: str | None = None
    lookup_client_id: str | None = None
    lookup_api_key: SecretStr | None = None
    lookup_timeout_s: float = 5.0

    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
