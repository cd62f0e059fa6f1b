"""``amtune serve --workers N``: several processes on one port, and a graceful stop.

A real ``amtune serve --workers 2`` subprocess, as an operator starts it. What a user relies
on: both processes serve; SIGTERM (what Docker and Kubernetes send) ends it with status 0; and
a request that is in flight when the signal arrives still completes and is stored. The request
is held in flight deterministically: it asks ``Expect: 100-continue``, so the server says
``100 Continue`` once the application is reading its body; only then is the signal sent, and
only once every process has logged that it is shutting down is the body sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amtune.worker.demo import tuning_job_request
from tests.service.processes import free_port

pytestmark = pytest.mark.slow


class Served:
    def __init__(self, database_url: str, log: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMTUNE_")}
        env.update(AMTUNE_DATABASE_URL=database_url, AMTUNE_LOG_LEVEL="INFO")
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "amtune", "serve", "--port", str(self.port),
                 "--workers", str(workers)],
                env=env, stdout=out, stderr=subprocess.STDOUT,
                # Its own process group, so a failed test can end the worker processes too.
                start_new_session=True,
            )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, condition: str, count: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while self.output().count(condition) < count:
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"no {count} x {condition!r}: {self.output()}"
            time.sleep(0.05)


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    server = Served(database_url, tmp_path / "serve.log", workers=2)
    try:
        server.wait_for("Application startup complete", 2)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


def aws_request(name: str) -> tuple[bytes, bytes]:
    """Headers and body of a CreateHyperParameterTuningJob call, as boto3 sends it."""
    body = json.dumps(tuning_job_request(name, max_jobs=2, max_parallel=1)).encode()
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "X-Amz-Target: SageMaker.CreateHyperParameterTuningJob\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()
    return head, body


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before {marker!r}: {data!r}"
        data += chunk
    return data


def test_two_processes_serve_and_sigterm_finishes_the_request_in_flight(
    served: Served,
) -> None:
    name = f"graceful-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    assert served.output().count("Started server process") == 2
    for _ in range(8):  # new connections each time: the kernel spreads them over the processes
        assert httpx.get(f"{served.url}/healthz", headers={"Connection": "close"}).json() == {
            "status": "ok"
        }
        assert httpx.get(f"{served.url}/readyz").status_code == 200

    head, body = aws_request(name)
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(head)
        assert b" 100 " in read_until(sock, b"\r\n\r\n").split(b"\r\n")[0]
        served.process.send_signal(signal.SIGTERM)
        served.wait_for("Shutting down", 2)
        sock.sendall(body)
        answer = read_until(sock, b"HyperParameterTuningJobArn")
    assert answer.split(b"\r\n")[0] == b"HTTP/1.1 200 OK", answer
    assert f"hyper-parameter-tuning-job/{name}".encode() in answer

    assert served.process.wait(timeout=60) == 0, served.output()
    assert served.output().count("Application shutdown complete") == 2
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{served.url}/healthz", timeout=2)


def test_workers_must_be_positive(tmp_path: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "amtune", "serve", "--workers", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--workers: must be 1 or more" in refused.stderr
