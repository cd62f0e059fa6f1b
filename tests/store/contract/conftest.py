"""The storage contract runs on each backend's shared migrated database, one team per test."""

from __future__ import annotations

import pytest

from amtune.store.database import Database
from tests.store.contract.support import Store


@pytest.fixture
def store(database_url: str, shared_databases: dict[str, Database]) -> Store:
    db = shared_databases.get(database_url)
    if db is None:
        db = shared_databases[database_url] = Database(database_url)
    return Store(db)
