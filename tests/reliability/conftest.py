"""Fixtures of the reliability tests: databases of their own.

These tests talk to the service unsigned, in the open single-account mode a database without
teams runs in, so they use fresh databases rather than the session's shared ones (where other
tests may create teams).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import cast

import pytest

from amtune.store.migrate import upgrade
from tests.conftest import BACKENDS, postgres_database


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh migrated database on the shared test cluster, dropped afterwards."""
    generator = cast(Generator[str, None, None], postgres_database())
    url = next(generator)
    upgrade(url)
    yield url
    generator.close()


@pytest.fixture(scope="module", params=BACKENDS)
def own_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh migrated database of each backend for one test module."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('own') / 'amtune.db'}"
        upgrade(url)
        yield url
        return
    generator = cast(Generator[str, None, None], postgres_database())
    url = next(generator)
    upgrade(url)
    yield url
    generator.close()
