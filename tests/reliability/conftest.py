"""Fixtures of the reliability tests: a PostgreSQL-only database for the multi-replica faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from amtune.store.migrate import upgrade
from tests.conftest import postgres_database


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh migrated database on the shared test cluster, dropped afterwards."""
    generator = postgres_database()
    url = next(generator)
    upgrade(url)
    yield url
    generator.close()
