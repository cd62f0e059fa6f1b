"""Engines and transactions for SQLite and PostgreSQL.

SQLite: WAL, a busy timeout and ``BEGIN IMMEDIATE`` for every writing transaction, so that
writers queue on the database lock instead of failing with "database is locked" halfway
through. PostgreSQL: READ COMMITTED, row locks where a rule needs them, and a bounded retry
of serialization failures and deadlocks so clients never see them. Reads run in autocommit:
under READ COMMITTED every statement takes its own snapshot anyway, so a BEGIN/COMMIT around
them would cost two round trips and buy nothing.

Pooled connections are not pinged before use: that would be a round trip on every
transaction of the worker path. A connection that died meanwhile (PostgreSQL restarted)
fails its first statement; SQLAlchemy then invalidates the whole pool and the request is
answered 503 (retryable), and the next ones get fresh connections.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from amtune.observe import metrics
from amtune.store.watchdog import ConnectionWatchdog

log = logging.getLogger(__name__)

T = TypeVar("T")

READONLY = "amtune_readonly"
# SQLSTATEs that mean "nothing was done, do it again".
RETRYABLE_SQLSTATES = {"40001", "40P01"}


class DatabaseUnavailable(Exception):
    """The database cannot be reached, or stays contended past the retry budget."""


#: SQLSTATEs of PostgreSQL's own timeouts (statement_timeout, lock_timeout): the database is
#: too slow to answer now; the request may be retried.
TIMED_OUT_SQLSTATES = {"57014", "55P03"}


@dataclass(frozen=True)
class Timeouts:
    """How long a request may wait on PostgreSQL, so a slow or hung database answers 503.

    ``statement`` and ``lock`` become the server's ``statement_timeout`` and ``lock_timeout``;
    a connection whose server has sent nothing for a second more than ``statement`` while a
    command is in progress is cut by the :class:`~amtune.store.watchdog.ConnectionWatchdog`
    (the server may be frozen). ``checkout`` bounds the wait for a pooled connection,
    ``connect`` a new connection (libpq's minimum is 2 s); TCP keepalives find a peer that
    vanished.
    """

    statement: float = 5.0
    lock: float = 2.0
    checkout: float = 3.0
    connect: int = 3

    @property
    def watchdog(self) -> float:
        return self.statement + 1.0


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN itself (pysqlite's own handling defers it).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = "DEFERRED" if conn.get_execution_options().get(READONLY) else "IMMEDIATE"
    conn.exec_driver_sql(f"BEGIN {mode}")


# psycopg prepares a statement on its fifth run on a connection, and PostgreSQL then keeps one
# generic plan for it as long as the pooled connection lives. Planned while the tables were
# nearly empty (a new service, the first minute of a benchmark), that plan looked a training job
# up by name through the (account, created) index: 890 buffers per metric report instead of
# 56 once the account had 3,000 jobs (pg_stat_statements under bench/load). Planning each run
# with its values costs a fraction of that and never goes stale; the parse is still saved.
PLAN_CACHE_MODE = "force_custom_plan"


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    autocommit: bool = False,
    timeouts: Timeouts | None = None,
    watchdog: ConnectionWatchdog | None = None,
) -> Engine:
    """An engine with its own pool; ``autocommit`` (PostgreSQL only) makes its connections
    autocommit for their whole life, so that a checkout neither switches the mode on and off
    nor rolls back on return (about a third of a one-statement request's database-layer CPU).
    On PostgreSQL every limit of ``timeouts`` applies, and ``watchdog`` watches each connection.
    """
    timeouts = timeouts or Timeouts()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    extra: dict[str, Any] = {}
    if autocommit:
        # Nothing outlives a statement on such a connection, so there is nothing to reset.
        extra = {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
    options = (
        f"-c plan_cache_mode={PLAN_CACHE_MODE} "
        f"-c statement_timeout={int(timeouts.statement * 1000)} "
        f"-c lock_timeout={int(timeouts.lock * 1000)}"
    )
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeouts.checkout,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": max(2, timeouts.connect),
            "options": options,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        },
        **extra,
    )
    if watchdog is not None:
        _watch_connections(engine, watchdog)
    return engine


def _watch_connections(engine: Engine, watchdog: ConnectionWatchdog) -> None:
    """Hand each connection ``engine`` opens to ``watchdog``: once per connection, since an
    event on every statement would cost the worker path a share of its CPU."""
    event.listen(
        engine, "connect", lambda dbapi_connection, _record: watchdog.watch(dbapi_connection)
    )


def _count_checkouts(engine: Engine) -> None:
    """Connections in use, for /metrics: one gauge step per checkout and per return."""
    event.listen(engine, "checkout", lambda *_: metrics.POOL_CHECKED_OUT.inc())
    event.listen(engine, "checkin", lambda *_: metrics.POOL_CHECKED_OUT.dec())


def is_retryable(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    # SQLite reports contention past busy_timeout as OperationalError "database is locked".
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


class Database:
    """A session factory plus the one transaction helper every use case goes through."""

    def __init__(self, url: str, *, pool_size: int = 10, timeouts: Timeouts | None = None) -> None:
        self.url = url
        self.timeouts = timeouts or Timeouts()
        watchdog = None if url.startswith("sqlite") else ConnectionWatchdog(self.timeouts.watchdog)
        limits: dict[str, Any] = {"timeouts": self.timeouts, "watchdog": watchdog}
        self.engine = make_engine(url, pool_size=pool_size, **limits)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._engines = [self.engine]
        _count_checkouts(self.engine)
        reads: Engine = self.engine.execution_options(**{READONLY: True})
        single = self.engine
        if not self.is_sqlite:
            # Reads and one-statement writes: a pool of connections that stay in autocommit.
            reads = single = make_engine(url, pool_size=pool_size, autocommit=True, **limits)
            self._engines.append(single)
            _count_checkouts(single)
        self._readonly = sessionmaker(reads, expire_on_commit=False)
        self._single = sessionmaker(single, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        for engine in self._engines:
            engine.dispose()

    @contextmanager
    def _session(self, readonly: bool, one_statement: bool = False) -> Iterator[Session]:
        factory = self._sessions
        if one_statement:
            factory = self._single
        elif readonly:
            factory = self._readonly
        with factory() as session, session.begin():
            yield session

    def run(
        self,
        work: Callable[[Session], T],
        *,
        readonly: bool = False,
        one_statement: bool = False,
        attempts: int = 8,
    ) -> T:
        """Run ``work`` in one transaction, committed before this returns.

        ``one_statement``: on PostgreSQL ``work`` writes with a single statement, atomic by
        itself (reads before it need no transaction under READ COMMITTED), so it runs in
        autocommit, without the BEGIN and COMMIT round trips. SQLite keeps its transaction:
        there the write may take two statements.

        Serialization failures and deadlocks roll back and run again with jittered backoff;
        a lost connection becomes :class:`DatabaseUnavailable` (HTTP 503, retryable).
        """
        for attempt in range(1, attempts + 1):
            try:
                with self._session(readonly, one_statement) as session:
                    return work(session)
            except DBAPIError as exc:
                if is_retryable(exc) and attempt < attempts:
                    delay = min(0.5, 0.01 * 2**attempt) * (0.5 + random.random())
                    log.info("retrying transaction after %s (attempt %d)", exc.orig, attempt)
                    metrics.TRANSACTION_RETRIES.inc()
                    time.sleep(delay)
                    continue
                if (
                    exc.connection_invalidated
                    or is_retryable(exc)
                    or _is_connect_error(exc)
                    or getattr(exc.orig, "sqlstate", None) in TIMED_OUT_SQLSTATES
                ):
                    raise DatabaseUnavailable(str(exc.orig)) from exc
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False


def _is_connect_error(exc: DBAPIError) -> bool:
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate.startswith("57P")
