"""``amtune worker`` on a terminal: where the tuning job stands is one line redrawn in place."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

import amtune.sdk
from amtune.worker.local_service import LocalService
from tests.worker.live import SCRIPT, tuning_request, unique_name

pytestmark = pytest.mark.slow


def test_on_a_terminal_the_progress_is_one_live_line(service: LocalService, tmp_path: Path) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("tty")
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=2, parallel=1))
    controller, terminal = pty.openpty()
    argv = [
        sys.executable, "-m", "amtune", "worker", "--endpoint", service.url,
        "--tuning-job", name, "--workdir", str(tmp_path), "--", sys.executable, str(SCRIPT),
    ]  # fmt: skip
    process = subprocess.Popen(argv, stdout=terminal, stderr=terminal, stdin=subprocess.DEVNULL)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the worker has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=120) == 0
    output = b"".join(chunks).decode()

    # Redrawn in place (carriage return, erase line), never as "progress:" log lines.
    assert f"\r\x1b[K{name}: 2/2 done, 0 running, 0 failed | best " in output
    assert "progress:" not in output
    # The job lines still scroll above it, each on its own line.
    assert output.count("started") == 2
