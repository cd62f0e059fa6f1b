"""Request limits hold against a live ``amtune serve``, for every method and before anything
else runs: a GET announcing a gigabyte is refused from its headers, a body streamed past the
limit is cut off without the process growing, clients trickling their bodies are answered
408 (or 503 when too many are pending) while ``/healthz`` keeps answering, and clients that
trickle their headers, or connect and send nothing, are answered 408 and let go at the header
deadline, so they cannot hold the connection cap."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amtune.store.migrate import upgrade
from tests.conftest import new_account_id
from tests.service.processes import ServerProcess

BODY_TIMEOUT = 1.0
HEADER_TIMEOUT = 1.0
PENDING_BODIES = 8
MAX_CONNECTIONS = 40


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    url = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'amtune.db'}"
    upgrade(url)
    env = {
        "AMTUNE_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "AMTUNE_MAX_PENDING_BODIES": str(PENDING_BODIES),
        "AMTUNE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "AMTUNE_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    with ServerProcess(url, new_account_id(), **env) as live:
        yield live


def connect(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def answer(sock: socket.socket) -> tuple[int, dict[str, str]]:
    """The status and JSON body of the response on ``sock`` (the server closes after it)."""
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("announce", ["Content-Length: 1000000000", "Transfer-Encoding: chunked"])
def test_a_get_announcing_a_body_is_refused_before_the_body_is_sent(
    server: ServerProcess, announce: str
) -> None:
    with connect(server) as sock:
        sock.sendall(f"GET /v1/tuning-jobs HTTP/1.1\r\nHost: x\r\n{announce}\r\n\r\n".encode())
        # Not one byte of the body was sent: the answer comes from the headers alone.
        status, body = answer(sock)
    assert status == 400
    assert body["__type"] == "SerializationException"
    assert "GET request takes no body" in body["message"]


def test_a_streamed_body_past_the_limit_is_cut_off_without_buffering(
    server: ServerProcess,
) -> None:
    assert server.process is not None
    before = rss_bytes(server.process.pid)
    chunk = b"x" * 65536
    sent = 0
    with connect(server) as sock:
        sock.sendall(
            b"POST /v1/tuning-jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        try:
            while sent < 200 << 20:
                if select.select([sock], [], [], 0)[0]:
                    break  # the answer is in: stop sending
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection on us, as it should
        status, body = answer(sock)
    assert status == 413, body
    assert body["__type"] == "SerializationException"
    assert sent < 50 << 20, "the server kept reading far past the 1 MiB limit"
    assert rss_bytes(server.process.pid) - before < 20 << 20


def test_slow_bodies_are_timed_out_and_healthz_keeps_answering(server: ServerProcess) -> None:
    tricklers = []
    for _ in range(3 * PENDING_BODIES):
        sock = connect(server)
        sock.sendall(
            b"POST /v1/tuning-jobs/t/claims HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        tricklers.append(sock)
    try:
        started = time.monotonic()
        health = httpx.get(server.url + "/healthz", timeout=2)
        assert health.status_code == 200
        assert time.monotonic() - started < 2
        statuses = []
        for sock in tricklers:
            status, body = answer(sock)
            statuses.append(status)
            assert body["__type"] in ("RequestTimeout", "ServiceUnavailable"), body
    finally:
        for sock in tricklers:
            sock.close()
    # Those over the cap were turned away at once, the rest timed out; none is still held.
    assert statuses.count(408) >= 1 and statuses.count(503) >= 1, statuses
    assert set(statuses) <= {408, 503}
    # And the service serves normally afterwards.
    assert httpx.get(server.url + "/v1/tuning-jobs", timeout=5).status_code == 200


def closed_with(sock: socket.socket) -> bytes:
    """Everything the server sends on ``sock`` until it closes it."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_slow_headers_and_silent_connections_are_let_go_at_the_header_deadline(
    server: ServerProcess,
) -> None:
    # Twice the connection cap: slow-header clients and clients that never send a byte.
    holders = [connect(server) for _ in range(2 * MAX_CONNECTIONS)]
    try:
        for index, sock in enumerate(holders):
            if index % 2:
                sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        for index, sock in enumerate(holders):
            if index % 2 and time.monotonic() - started < HEADER_TIMEOUT / 2:
                sock.sendall(b"a")  # still trickling, but never finishing the headers
        for sock in holders:
            sock.settimeout(HEADER_TIMEOUT + 10)
            assert closed_with(sock).startswith(b"HTTP/1.1 408 ")
        # All were let go at the deadline (plus the time to read them), not held.
        assert time.monotonic() - started < HEADER_TIMEOUT + 8
    finally:
        for sock in holders:
            sock.close()
    health = httpx.get(server.url + "/healthz", timeout=2)
    assert health.status_code == 200


def test_a_kept_alive_connection_gets_the_header_deadline_for_each_request(
    server: ServerProcess,
) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer(sock) == (200, {"status": "ok"})
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        sock.settimeout(HEADER_TIMEOUT + 10)
        assert closed_with(sock).startswith(b"HTTP/1.1 408 ")
