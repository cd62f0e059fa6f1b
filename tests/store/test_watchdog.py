"""The connection watchdog cuts a connection whose server went silent mid-command, and only it.

A server busy in ``pg_sleep`` sends nothing while the command runs, exactly as a frozen one
(tests/reliability/test_frozen_database.py freezes a whole cluster with SIGSTOP); here no
``statement_timeout`` is set, so only the watchdog can end the wait.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from amtune.store.database import Database, DatabaseUnavailable, Timeouts
from amtune.store.watchdog import ConnectionWatchdog, quiet_seconds
from tests.conftest import POSTGRES_ADMIN_URL, postgres_database


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def quiet_for(fd: int) -> float:
    """Seconds since TCP socket ``fd`` last sent or received data (it must be TCP)."""
    seconds = quiet_seconds(fd)
    assert seconds is not None, "not a TCP socket: the kernel keeps no send and receive times"
    return seconds


@pytest.fixture
def connection() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        yield conn


def test_a_command_the_server_never_answers_is_cut(
    connection: psycopg.Connection[tuple[object, ...]],
) -> None:
    watchdog = ConnectionWatchdog(limit_seconds=0.5)
    watchdog.watch(connection)
    outcome: list[BaseException | None] = []

    def silent_command() -> None:
        try:
            connection.execute("SELECT pg_sleep(60)")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=silent_command)
    thread.start()
    thread.join(timeout=30)
    assert outcome and isinstance(outcome[0], psycopg.OperationalError), outcome
    # Cut between the limit and a quarter of it later (plus the kernel's clock resolution).
    assert 0.5 <= time.monotonic() - started < 5.0


def test_a_connection_idle_in_its_transaction_is_never_cut(
    connection: psycopg.Connection[tuple[object, ...]],
) -> None:
    """A long unit of work (Python between statements) holds its connection, in a transaction
    and silent, for longer than the limit: it is not the server that is stuck."""
    watchdog = ConnectionWatchdog(limit_seconds=0.2)
    watchdog.watch(connection)
    with connection.transaction():
        connection.execute("SELECT 1")
        fd = connection.pgconn.socket
        wait_until("the socket to be quiet past the limit", lambda: quiet_for(fd) > 0.3)
        watchdog.look(time.monotonic())
        assert connection.execute("SELECT 2").fetchone() == (2,)


def test_a_busy_connection_that_is_answered_is_not_cut() -> None:
    """A command the server answers within the limit, looked at while it runs."""
    watchdog = ConnectionWatchdog(limit_seconds=1.0)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        watchdog.watch(conn)
        looking = threading.Event()

        def look_while_running() -> None:
            while not looking.is_set():
                watchdog.look(time.monotonic())
                time.sleep(0.01)

        thread = threading.Thread(target=look_while_running)
        thread.start()
        try:
            assert conn.execute("SELECT pg_sleep(0.3), 7").fetchone() == ("", 7)
        finally:
            looking.set()
            thread.join()


@dataclass
class _PgConnOverUnixSocket:
    socket: int
    transaction_status: int = 1  # a command in progress


@dataclass(eq=False)
class _ConnectionOverUnixSocket:
    pgconn: _PgConnOverUnixSocket
    closed: bool = False
    ends: tuple[socket.socket, socket.socket] = field(default_factory=socket.socketpair)


def test_without_a_tcp_clock_a_connection_is_cut_after_a_limit_of_looks() -> None:
    """A Unix-domain socket keeps no send and receive times: a connection found in progress
    at every look for longer than the limit counts as stuck."""
    ends = socket.socketpair()
    client, server = ends
    connection = _ConnectionOverUnixSocket(_PgConnOverUnixSocket(client.fileno()), ends=ends)
    assert quiet_seconds(client.fileno()) is None
    watchdog = ConnectionWatchdog(limit_seconds=2.0)
    watchdog.watch(connection)
    try:
        watchdog.look(100.0)
        watchdog.look(101.5)
        server.sendall(b"x")
        assert client.recv(1) == b"x"  # still open: 1.5 s in progress is within the limit
        watchdog.look(102.5)
        assert client.recv(1) == b""  # shut down: reads end at once
    finally:
        client.close()
        server.close()


def test_a_connection_seen_idle_between_looks_starts_its_count_again() -> None:
    ends = socket.socketpair()
    client, server = ends
    connection = _ConnectionOverUnixSocket(_PgConnOverUnixSocket(client.fileno()), ends=ends)
    watchdog = ConnectionWatchdog(limit_seconds=2.0)
    watchdog.watch(connection)
    try:
        watchdog.look(100.0)
        connection.pgconn.transaction_status = 0  # answered: idle
        watchdog.look(101.0)
        connection.pgconn.transaction_status = 1  # the next command
        watchdog.look(102.5)
        watchdog.look(104.0)
        server.sendall(b"x")
        assert client.recv(1) == b"x"
    finally:
        client.close()
        server.close()


def test_the_service_database_answers_unavailable_when_its_server_goes_silent() -> None:
    """Every connection the service opens is watched: a command its server never answers
    ends as DatabaseUnavailable (HTTP 503) soon after the limit."""
    databases = postgres_database()
    url = next(databases)
    database = Database(url, timeouts=Timeouts(statement=0.3, lock=0.3))

    def silent(session: Session) -> object:
        # Lift the server's own timeout for this transaction, as a frozen server would.
        session.execute(text("SET LOCAL statement_timeout = 0"))
        return session.execute(text("SELECT pg_sleep(60)")).scalar()

    try:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable):
            database.run(silent, attempts=1)
        assert time.monotonic() - started < 5.0
        assert database.run(lambda session: session.execute(text("SELECT 1")).scalar()) == 1
    finally:
        database.dispose()
        databases.close()
