"""A client-side deadline on every PostgreSQL statement, for a database that hangs.

PostgreSQL's own ``statement_timeout`` and ``lock_timeout`` end a slow statement, and TCP
keepalives a dead peer; none of them helps when the database server is frozen (stopped,
swapped out, a hung storage volume): its kernel still acknowledges every packet, so the
connection looks alive, and no server-side timer runs. A request would then wait for as long as
the freeze lasts, holding its thread and its pooled connection.

So each statement is armed here with a deadline (the server's ``statement_timeout`` plus a
margin) when it starts and disarmed when it returns. One thread watches the deadlines; when one
passes, it shuts the statement's socket down (``shutdown(2)``, which leaves the descriptor to
its owner). The blocked read then fails at once, SQLAlchemy discards the connection, and the
request is answered 503 ``ServiceUnavailable`` with ``Retry-After``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import socket
import threading
import time

log = logging.getLogger(__name__)


class StatementWatchdog:
    """Deadlines for statements in flight; cuts the connection of one that outlives its own."""

    def __init__(self, limit_seconds: float) -> None:
        self.limit = limit_seconds
        self._cond = threading.Condition()
        self._armed: dict[int, int] = {}  # token -> socket descriptor
        self._deadlines: list[tuple[float, int]] = []  # (deadline, token), a heap
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, fd: int) -> int:
        """Watch the statement about to run on socket ``fd``; returns the token to disarm."""
        token = next(self._tokens)
        deadline = time.monotonic() + self.limit
        with self._cond:
            self._armed[token] = fd
            heapq.heappush(self._deadlines, (deadline, token))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="statement-watchdog", daemon=True
                )
                self._thread.start()
            elif self._deadlines[0][1] == token:
                self._cond.notify()
        return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.pop(token, None)

    def _watch(self) -> None:
        while True:
            with self._cond:
                while self._deadlines and self._deadlines[0][1] not in self._armed:
                    heapq.heappop(self._deadlines)  # finished in time
                if not self._deadlines:
                    self._cond.wait()
                    continue
                deadline, token = self._deadlines[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._deadlines)
                fd = self._armed.pop(token)
                # Under the lock: the statement cannot return and its descriptor be reused
                # by another connection between the check above and the shutdown.
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
