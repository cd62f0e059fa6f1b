"""Fixtures for teams: databases of their own, because one team closes a whole database.

The session-scoped databases of tests/conftest.py are shared by every open-mode test; creating
a team there would make every later test's unsigned request fail. So each module here gets a
fresh database per backend (a temporary SQLite file, a new PostgreSQL database) and its own
server on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from amtune.app.context import Context
from amtune.app.teams import NewKey, create_team
from amtune.settings import Settings
from amtune.store.database import Database
from tests.conftest import BACKENDS, LiveServer, migrated_database, new_account_id

SERVER_KEY = "teams-tests-server-key-7f3a9c2e-41d8b6"


@pytest.fixture(scope="module", params=BACKENDS)
def teams_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh migrated database of each backend, for this module only."""
    yield from migrated_database(request.param, tmp_path_factory)


def closed_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "account_id": new_account_id(),
        "secret_key": SERVER_KEY,
        "lease_seconds": 60,
        "sweep_interval_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def teams_settings(teams_database: str) -> Settings:
    return closed_settings(teams_database)


@pytest.fixture(scope="module")
def admin(teams_settings: Settings) -> Iterator[Context]:
    """What ``amtune teams``/``amtune keys`` run on: the application layer's context."""
    ctx = Context(db=Database(teams_settings.database_url), settings=teams_settings)
    yield ctx
    ctx.db.dispose()


def new_team(
    admin: Context,
    *,
    max_concurrent_tuning_jobs: int | None = None,
    max_parallel_training_jobs: int | None = None,
) -> NewKey:
    return create_team(
        admin,
        f"team-{uuid.uuid4().hex[:8]}",
        max_concurrent_tuning_jobs=max_concurrent_tuning_jobs,
        max_parallel_training_jobs=max_parallel_training_jobs,
    )


@pytest.fixture(scope="module")
def team_a(admin: Context) -> NewKey:
    return new_team(admin)


@pytest.fixture(scope="module")
def team_b(admin: Context) -> NewKey:
    return new_team(admin)


@pytest.fixture(scope="module")
def server(teams_settings: Settings, team_a: NewKey, team_b: NewKey) -> Iterator[LiveServer]:
    """A server on the closed database (two teams exist before it starts)."""
    with LiveServer(teams_settings) as live:
        yield live
