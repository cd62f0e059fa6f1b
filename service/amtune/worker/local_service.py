"""A throwaway amtune service in a subprocess: for ``amtune demo`` and for end-to-end tests.

It runs the real ``amtune serve`` on 127.0.0.1 and a free port over an SQLite file, waits for
``/healthz``, and can be stopped and started again on the same port and file (which is how the
tests show that a restart loses nothing). The subprocess is all it knows of the service.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(host: str, port: int) -> list[str]:
    """``amtune serve`` from the running interpreter's environment."""
    script = Path(sys.executable).with_name("amtune")
    if script.exists():
        return [str(script), "serve", "--host", host, "--port", str(port)]
    bootstrap = "import sys; from amtune.cli import main; sys.exit(main())"
    return [sys.executable, "-c", bootstrap, "serve", "--host", host, "--port", str(port)]


class ServiceFailedToStart(RuntimeError):
    pass


class LocalService:
    def __init__(
        self,
        database_path: Path,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.database_path = database_path
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.extra_env = dict(env or {})
        self.log_path = log_path or database_path.with_suffix(".service.log")
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 60.0) -> LocalService:
        if self.running:
            return self
        env = dict(os.environ)
        env["AMTUNE_DATABASE_URL"] = f"sqlite:///{self.database_path}"
        env.update(self.extra_env)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            serve_command(self.host, self.port),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServiceFailedToStart(
                    f"amtune serve exited with {self._process.returncode}: {self.log_tail()}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise ServiceFailedToStart(f"amtune serve not healthy after {timeout}s: {self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> LocalService:
        self.stop()
        return self.start()

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_bytes()[-size:].decode("utf-8", errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> LocalService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
