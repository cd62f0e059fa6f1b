"""Fixtures of the reliability tests: databases of their own.

These tests talk to the service unsigned, in the open single-account mode a database without
teams runs in, so they use fresh databases rather than the session's shared ones (where other
tests may create teams).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS, migrated_database


@pytest.fixture
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh migrated database on the shared test cluster, dropped afterwards."""
    yield from migrated_database("postgres", tmp_path_factory)


@pytest.fixture(scope="module", params=BACKENDS)
def own_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh migrated database of each backend for one test module."""
    yield from migrated_database(request.param, tmp_path_factory)
