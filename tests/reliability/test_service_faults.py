"""An API process killed under load: every acknowledged write survives, nothing is half-written.

A 200 is a promise. Workers keep writing through the fault and
remember each 200 they saw; after ``kill -9`` and a restart (or with a second replica carrying
on), every one of those writes must be in the database, the counters Describe shows must agree
with the rows, and SQLite's own integrity check must pass.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest

from amtune.store.migrate import upgrade
from tests.conftest import new_account_id
from tests.reliability.acked import assert_nothing_lost, run_workers, stop_workers
from tests.reliability.support import create_tuning_job, describe_tuning_job, started, wait_for
from tests.service.processes import ServerProcess

pytestmark = pytest.mark.slow


def kill(server: ServerProcess) -> None:
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()


def restart_on_same_port(old: ServerProcess, database_url: str, account: str) -> ServerProcess:
    new = ServerProcess(database_url, account)
    new.port, new.url = old.port, old.url
    new.env["AMTUNE_PORT"] = str(old.port)
    return started(new)


def assert_integrity(database_url: str) -> None:
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_killed_api_process_on_sqlite_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """SQLite, one process: the embedded default. PostgreSQL's kill is the replica test below."""
    database_url = f"sqlite:///{tmp_path / 'amtune.db'}"
    upgrade(database_url)
    account = new_account_id()
    server = started(ServerProcess(database_url, account))
    restarted: ServerProcess | None = None
    try:
        create_tuning_job(server.url, "survivor", max_jobs=10_000, max_parallel=8)
        acks, stop, workers = run_workers([server.url], "survivor", 6)
        wait_for("writes before the kill", lambda: len(acks.metrics) >= 25)
        kill(server)
        assert_integrity(database_url)
        before = len(acks.metrics)
        restarted = restart_on_same_port(server, database_url, account)
        wait_for("writes after the restart", lambda: len(acks.metrics) >= before + 25)
        stop_workers(stop, workers)
        assert acks.outages > 0, "the kill went unnoticed: the test proved nothing"
        assert_nothing_lost(database_url, restarted.url, account, "survivor", acks)
    finally:
        server.stop()
        if restarted is not None:
            restarted.stop()
    assert_integrity(database_url)


def test_two_replicas_on_postgres_one_killed_lose_nothing(postgres_url: str) -> None:
    account = new_account_id()
    one = started(ServerProcess(postgres_url, account))
    two: ServerProcess | None = None
    restarted: ServerProcess | None = None
    try:
        two = started(ServerProcess(postgres_url, account))
        create_tuning_job(one.url, "shared", max_jobs=10_000, max_parallel=8)
        acks, stop, workers = run_workers([one.url, two.url], "shared", 8)
        wait_for("writes before the kill", lambda: len(acks.metrics) >= 25)
        kill(one)
        during = len(acks.metrics)
        # The surviving replica carries the whole load meanwhile.
        wait_for("writes through the other replica", lambda: len(acks.metrics) >= during + 25)
        restarted = restart_on_same_port(one, postgres_url, account)
        after = len(acks.metrics)
        wait_for("writes after the restart", lambda: len(acks.metrics) >= after + 25)
        stop_workers(stop, workers)
        assert acks.outages > 0
        assert_nothing_lost(postgres_url, two.url, account, "shared", acks)
        # Both replicas answer the same truth.
        seen = [describe_tuning_job(u, "shared") for u in (one.url, two.url)]
        for described in seen:
            described.pop("ConsumedResources", None)  # runtime so far: ticks between the calls
        assert seen[0] == seen[1]
    finally:
        for server in (one, two, restarted):
            if server is not None:
                server.stop()
