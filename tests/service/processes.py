"""Real processes for concurrency tests: API replicas and worker loops."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def _ephemeral_low() -> int:
    """The first port the system hands out for outgoing connections and ``bind(0)``."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_PORT_PICKS = random.SystemRandom()
"""Its own source of randomness: a test that seeds the ``random`` module must not make every
test process pick the same ports."""


def free_port() -> int:
    """A port free now, for a server that a process started later binds.

    Chosen at random below the system's ephemeral range, not with ``bind(0)``: between this
    check and the server's own bind, the many outgoing connections of parallel test processes
    take ephemeral ports, and one of them took a port ``bind(0)`` had just returned ("address
    already in use"). Below that range only another server can take it, and two random picks
    among thousands seldom meet."""
    low = 20_000
    high = max(low + 1_000, _ephemeral_low())
    for _ in range(100):
        port = _PORT_PICKS.randrange(low, high)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high - 1}")


class ServerProcess:
    """``amtune serve`` in its own process, as a user runs it."""

    def __init__(self, database_url: str, account_id: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "AMTUNE_DATABASE_URL": database_url,
            "AMTUNE_ACCOUNT_ID": account_id,
            "AMTUNE_PORT": str(self.port),
            "AMTUNE_LOG_LEVEL": "WARNING",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "amtune", "serve"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    self.process.stderr.read().decode() if self.process.stderr else ""
                )
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def worker_loop(
    urls: list[str], tuning_job: str, worker_id: str, out: Path, hang: bool = False
) -> None:
    """Claim, 'train' briefly, report, complete, until the tuning job ends.

    Appends each claimed training job name to ``out``; a worker with ``hang`` claims one job
    and then sleeps forever (to be SIGKILLed).
    """
    rng = random.Random(worker_id)
    # No keep-alive: a reused connection the server just closed would be a spurious error.
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    clients = [httpx.Client(base_url=u, timeout=30, limits=no_reuse) for u in urls]
    while True:
        client = rng.choice(clients)
        response = client.post(f"/v1/tuning-jobs/{tuning_job}/claims", json={"WorkerId": worker_id})
        if response.status_code == 409:
            return
        if response.status_code == 204:
            time.sleep(float(response.headers["Retry-After"]) * rng.uniform(0.5, 1.0))
            continue
        response.raise_for_status()
        job: dict[str, Any] = response.json()
        name, token = job["TrainingJobName"], job["LeaseToken"]
        with out.open("a") as handle:
            handle.write(name + "\n")
        if hang:
            time.sleep(3600)
        time.sleep(rng.random() * 0.05)
        metric = job["HyperParameters"]["_tuning_objective_metric"]
        value = rng.random()
        client.post(
            f"/v1/training-jobs/{name}/metrics",
            json={"LeaseToken": token, "Metrics": [{"MetricName": metric, "Value": value}]},
        )
        done = client.post(f"/v1/training-jobs/{name}/complete", json={"LeaseToken": token})
        assert done.status_code in (200, 409), done.text
