"""What the running app holds: built once by main.py's lifespan, read by routes through deps.

One typed object instead of loose `app.state` attributes: the settings, the keys derived from
SECRET_KEY, the database pool and the outbound HTTP client. Domain code never reads it: routers
take what a use case needs from it (a setting, the pool) and pass it on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import asyncpg
import httpx
from fastapi import Depends, FastAPI, Request

from core.crypto import Keys
from core.network import Network
from core.sessions import SessionCache
from core.settings import Settings


@dataclass
class AppState:
    settings: Settings
    keys: Keys
    trusted_proxies: list[Network] = field(default_factory=list)
    pool: asyncpg.Pool | None = None
    http: httpx.AsyncClient | None = None
    # Built on first use by the domains that own them (e.g. the account-name lookup provider).
    providers: dict[str, Any] = field(default_factory=dict)
    # Sessions this worker read, for registration only (core.sessions explains the rule).
    sessions: SessionCache = field(default_factory=SessionCache)


def attach(app: FastAPI, state: AppState) -> None:
    """Give the app its state (create_app does this once)."""
    app.state.choso = state


def state_of(app: FastAPI) -> AppState:
    """The app's state (lifespan, tests, CLI tools)."""
    state: AppState = app.state.choso
    return state


# The dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread, a
# hand-off that costs more than the dependency itself on every request that uses it.
async def get_state(request: Request) -> AppState:
    """FastAPI dependency: the app's state."""
    return state_of(request.app)


async def get_settings_dep(request: Request) -> Settings:
    """FastAPI dependency: the app's settings."""
    return state_of(request.app).settings


async def get_window_days(request: Request) -> int:
    """FastAPI dependency: N of `transacting` (a payment in the last N days)."""
    return state_of(request.app).settings.transacting_window_days


State = Annotated[AppState, Depends(get_state)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
WindowDays = Annotated[int, Depends(get_window_days)]
