"""Processes a benchmark starts and measures: a service until it answers, and CPU from /proc.

Every benchmark that drives a real ``amtune serve`` (or a peer's server) waits for it the same
way: poll a health URL until it answers 200, failing when the process exits first or a deadline
passes; :func:`serving` also spawns it and terminates it at the end. The CPU
figures they quote are the kernel's ``utime + stime`` of the processes concerned (Linux only).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (None if the process is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pids: Iterable[int], *, children: bool = False) -> float:
    """User + system CPU seconds of ``pids`` so far, with their child processes if asked (a
    uvicorn supervisor's workers); processes already gone count 0."""
    wanted = set(pids)
    if children:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                fields = _stat_fields(entry.name)
                if fields is not None and int(fields[1]) in wanted:
                    wanted.add(int(entry.name))
    ticks = 0
    for pid in wanted:
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_ready(process: subprocess.Popen[bytes], health: str, *, deadline_s: float) -> None:
    """Poll ``health`` until it answers 200; raise if ``process`` exits or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            if httpx.get(health, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited before it was ready")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{process.args!r} was not ready within {deadline_s:g} s")
        time.sleep(0.1)  # polling a starting process; not part of any measurement


@contextmanager
def serving(
    command: list[str], env: dict[str, str], health: str, *, deadline_s: float = 120.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until ``health`` answers 200, yield the process, terminate it after.

    Its standard error goes to a temporary file (a pipe nobody reads would block a chatty
    server), whose last lines join the error when it does not become ready."""
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            try:
                wait_ready(process, health, deadline_s=deadline_s)
            except RuntimeError as exc:
                stderr.seek(0)
                tail = stderr.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"{exc}: {tail}") from exc
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
