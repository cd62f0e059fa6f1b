"""A client-side deadline for PostgreSQL connections whose server went silent.

PostgreSQL's own ``statement_timeout`` and ``lock_timeout`` end a slow statement, and TCP
keepalives a dead peer; none of them helps when the database server is frozen (stopped,
swapped out, a hung storage volume): its kernel still acknowledges every packet, so the
connection looks alive, and no server-side timer runs. A request would then wait for as long as
the freeze lasts, holding its thread and its pooled connection.

So one thread looks at every open connection every quarter of the limit. A connection is stuck
when libpq says a command is in progress on it (``PQTRANS_ACTIVE``: sent, its answer not yet
read) and its socket has neither sent nor received data for longer than the limit (the kernel
keeps both times for a TCP socket, ``TCP_INFO``). The limit is the server's
``statement_timeout`` plus a margin, so a live server has always answered by then, if only with
the timeout's error. A stuck connection gets its socket shut down (``shutdown(2)``, which leaves
the descriptor to its owner): the blocked read fails at once, SQLAlchemy discards the
connection, and the request is answered 503 ``ServiceUnavailable`` with ``Retry-After``. A
connection is so cut between its limit and a quarter of it later.

Connections are registered once, when the pool opens them, and nothing runs per statement: the
worker path sends several statements per request, and a hook on each cost a measurable share
of its CPU. Judging by the socket's own clock rather than by a timer per statement also means
a long unit of work (Python between its statements, a connection idle in its transaction) is
never cut, however long it holds its connection.

On a Unix-domain socket there is no ``TCP_INFO``; there a connection counts as stuck once it
has been seen in progress at every look for longer than the limit.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
import time
import weakref
from typing import Any, Protocol

log = logging.getLogger(__name__)

# struct tcp_info (linux/tcp.h): 8 one-byte fields, 9 u32 (rto .. fackets), then the u32
# times, in milliseconds, since the last data was sent and since the last data was received.
_TCP_INFO_TIMES = struct.Struct("=8x36xI4xI")
_LAST_DATA_SENT = 8 + 9 * 4
_LAST_DATA_RECV = _LAST_DATA_SENT + 2 * 4
_TCP_INFO_SIZE = _LAST_DATA_RECV + 4
_ACTIVE = 1  # PQTRANS_ACTIVE: a command is in progress


class _PgConn(Protocol):
    @property
    def transaction_status(self) -> int: ...

    @property
    def socket(self) -> int: ...


class _Connection(Protocol):
    @property
    def closed(self) -> bool: ...

    @property
    def pgconn(self) -> _PgConn: ...


class ConnectionWatchdog:
    """Cuts the connections whose server has been silent past the limit mid-command."""

    def __init__(self, limit_seconds: float) -> None:
        self.limit = limit_seconds
        # The connections the pools opened, forgotten with them; written by the pools'
        # threads and read by the watching thread (single operations, atomic under the GIL).
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()
        # Unix-domain sockets only: id -> when the connection was first seen in progress.
        self._seen_active: dict[int, float] = {}
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, connection: _Connection) -> None:
        """Watch ``connection`` (a psycopg connection) for as long as it lives."""
        self._connections.add(connection)
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="database-watchdog", daemon=True
                )
                self._thread.start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.limit / 4)
            self.look(time.monotonic())

    def look(self, now: float) -> None:
        """One look at every connection: cut those that are stuck."""
        seen: dict[int, float] = {}
        for connection in list(self._connections):
            try:
                if connection.closed or connection.pgconn.transaction_status != _ACTIVE:
                    continue
                fd = connection.pgconn.socket
            except Exception:  # closed between the checks: nothing to watch
                continue
            quiet = quiet_seconds(fd)
            if quiet is None:  # no TCP clock: count from the first look that found it busy
                since = self._seen_active.get(id(connection), now)
                seen[id(connection)] = since
                quiet = now - since
            if quiet > self.limit:
                seen.pop(id(connection), None)
                _shut_down(fd, self.limit)
        self._seen_active = seen


def quiet_seconds(fd: int) -> float | None:
    """Seconds since TCP socket ``fd`` last sent or received data; None if it is not TCP."""
    try:
        with socket.socket(fileno=os.dup(fd)) as duplicate:
            if duplicate.family not in (socket.AF_INET, socket.AF_INET6):
                return None
            info = duplicate.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
    except OSError:
        return None
    if len(info) < _TCP_INFO_SIZE:
        return None
    sent, received = _TCP_INFO_TIMES.unpack_from(info)
    return float(min(sent, received)) / 1000


def _shut_down(fd: int, limit: float) -> None:
    log.warning("the database sent nothing for %.1f s mid-command: cutting its connection", limit)
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
