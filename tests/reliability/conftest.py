"""Fixtures of the reliability tests: databases of their own.

These tests talk to the service unsigned, in the open single-account mode a database without
teams runs in, so they use fresh databases rather than the session's shared ones (where other
tests may create teams).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import migrated_database
from tests.reliability.private_postgres import PrivatePostgres


@pytest.fixture
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh migrated database on the shared test cluster, dropped afterwards."""
    yield from migrated_database("postgres", tmp_path_factory)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of the test's own, to stop, freeze or kill; removed afterwards."""
    cluster = PrivatePostgres().init()
    try:
        yield cluster
    finally:
        cluster.destroy()
