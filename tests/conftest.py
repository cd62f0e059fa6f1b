"""Fixtures shared by every test: one database per backend, a live server, boto3.

Every test that takes ``database_url`` runs twice, on SQLite and on PostgreSQL. PostgreSQL
is not optional: when it cannot be reached the tests fail, they never skip.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn

from amtune.api.app import create_app
from amtune.app.service import Tuner
from amtune.settings import Settings
from amtune.store.database import Database
from amtune.store.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "AMTUNE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgres"]


def postgres_database() -> Generator[str, None, None]:
    """A fresh, empty PostgreSQL database, dropped when the generator closes."""
    name = f"amtune_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is required for the tests and is not reachable at "
            f"{POSTGRES_ADMIN_URL}: {exc}",
            pytrace=False,
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database of ``backend`` at the head revision, removed when the generator closes."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'amtune.db'}"
        upgrade(url)
        yield url
        return
    databases = postgres_database()
    url = next(databases)
    try:
        upgrade(url)
        yield url
    finally:
        databases.close()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of each backend, shared by the session (tests use own accounts)."""
    yield from migrated_database(request.param, tmp_path_factory)


@pytest.fixture(scope="module", params=BACKENDS)
def own_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh migrated database of each backend for one test module: for tests that create
    teams (which close a database to unsigned requests) or otherwise need it to themselves."""
    yield from migrated_database(request.param, tmp_path_factory)


@pytest.fixture(scope="session")
def shared_databases() -> dict[str, Database]:
    return {}


def new_account_id() -> str:
    return "9" + "".join(secrets.choice("0123456789") for _ in range(11))


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for one test: its own account, so tests never see each other's jobs."""
    return Settings(
        database_url=database_url,
        account_id=new_account_id(),
        lease_seconds=60,
        sweep_interval_seconds=0.2,
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tuner(settings: Settings, shared_databases: dict[str, Database], clock: FakeClock) -> Tuner:
    """The application layer on a real database, with a clock the test moves by hand."""
    db = shared_databases.get(settings.database_url)
    if db is None:
        db = shared_databases[settings.database_url] = Database(settings.database_url)
    return Tuner(settings, db=db, clock=clock)


class LiveServer:
    """uvicorn in a thread of the test process, on a socket bound here to a free port.

    The socket stays bound from the moment its port is chosen until the server closes it, so
    no other test process can take the port in between (asking the system for a free port,
    closing it and binding again later lost that race under parallel test processes)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server


def boto3_client(endpoint_url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sagemaker",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"mode": "standard", "max_attempts": 2}),
    )


@pytest.fixture
def sm(live_server: LiveServer) -> Any:
    """A real boto3 SageMaker client pointed at the live server."""
    return boto3_client(live_server.url)


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
