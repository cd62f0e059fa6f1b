"""A client-side deadline on every PostgreSQL statement, for a database that hangs.

PostgreSQL's own ``statement_timeout`` and ``lock_timeout`` end a slow statement, and TCP
keepalives a dead peer; none of them helps when the database server is frozen (stopped,
swapped out, a hung storage volume): its kernel still acknowledges every packet, so the
connection looks alive, and no server-side timer runs. A request would then wait for as long as
the freeze lasts, holding its thread and its pooled connection.

So each statement is recorded here with its start when it begins and forgotten when it returns:
two dictionary operations, no lock, because the worker path runs several statements per request
and a lock and a wake-up per statement cost more than the statements' own Python. One thread
looks at the running statements every quarter of the limit; one that has run past the limit
(the server's ``statement_timeout`` plus a margin) gets its socket shut down (``shutdown(2)``,
which leaves the descriptor to its owner). The blocked read then fails at once, SQLAlchemy
discards the connection, and the request is answered 503 ``ServiceUnavailable`` with
``Retry-After``. A statement is so cut between its limit and a quarter of it later.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time

log = logging.getLogger(__name__)


class StatementWatchdog:
    """Cuts the connection of a statement that outlives its limit."""

    def __init__(self, limit_seconds: float) -> None:
        self.limit = limit_seconds
        # token -> (socket descriptor, start). Written by the statements' threads and read by
        # the watching thread: single dictionary operations, atomic under the GIL.
        self._running: dict[int, tuple[int, float]] = {}
        self._tokens = itertools.count()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None

    def arm(self, fd: int) -> int:
        """Record the statement about to run on socket ``fd``; returns the token to disarm."""
        token = next(self._tokens)
        self._running[token] = (fd, time.monotonic())
        if self._thread is None:
            self._start()
        return token

    def disarm(self, token: int) -> None:
        self._running.pop(token, None)

    def _start(self) -> None:
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="statement-watchdog", daemon=True
                )
                self._thread.start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.limit / 4)
            now = time.monotonic()
            for token, (fd, started) in list(self._running.items()):
                if now - started > self.limit and self._running.pop(token, None) is not None:
                    # The statement may return between the pop and the shutdown: then the cut
                    # falls on the connection's next statement, whose request answers 503 with
                    # Retry-After as a cut one does.
                    _shut_down(fd, self.limit)


def _shut_down(fd: int, limit: float) -> None:
    log.warning("a statement ran past %.1f s: cutting its database connection", limit)
    try:
        duplicate = socket.socket(fileno=os.dup(fd))
    except OSError:
        return  # already closed
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()
