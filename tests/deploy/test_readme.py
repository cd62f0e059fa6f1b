"""README.md and examples/README.md, walked through on a fresh copy of the repository.

Every fenced block of both files is one of:

- ``sh`` or ``python``: run, in the order a reader meets them, in ONE bash session in a copy of
  the repository's files (tracked and new, nothing ignored: no .venv, no database), with a
  clean environment (none of this test run's virtualenv, ``AMTUNE_*`` or ``AWS_*``). So
  ``make run`` really creates the virtualenv and installs ``amtune[server]`` from the package
  index, and ``make demo`` really adds the ``demo`` extra. ``python`` blocks run with the
  ``python`` the session has at that point. README.md's blocks before its Teams section run
  first, then examples/README.md's (they need the service still open), then the rest;
- ``sh`` preceded by ``<!-- readme: background -->``: started in the background (a server);
  the walk goes on once ``/healthz`` answers. ``<!-- readme: stop -->`` before a block stops
  the background server first, as the text tells the reader to (Ctrl-C);
- ``sh`` preceded by ``<!-- readme: same as FILE -->``: commands for Docker or a Kubernetes
  cluster, which this machine does not have. Each line must appear verbatim in FILE, whose
  structure and commands tests/service/test_container.py and tests/deploy/test_kubernetes.py
  check; so the README cannot drift from the files that are tested;
- ``text`` or ``python sketch``: not commands (a layout, a usage synopsis, an API sketch).

Two substitutions, both asserted to happen: the README's address ``127.0.0.1:8000`` becomes a
free port (``AMTUNE_PORT`` is exported to match), and its PostgreSQL URL becomes a fresh test
database. Nothing else is changed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import postgres_database
from tests.service.processes import free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
EXAMPLES = REPO / "examples" / "README.md"
README_ADDRESS = "127.0.0.1:8000"
README_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/amtune"
RUN = {"sh", "python"}
NOT_COMMANDS = {"text", "python sketch"}
MARKER = re.compile(r"<!-- readme: (?P<marker>.+?) -->")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    info: str
    marker: str | None
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text().splitlines()
    index = 0
    previous = ""
    while index < len(lines):
        line = lines[index]
        if line.startswith("```"):
            info = line[3:].strip()
            end = lines.index("```", index + 1)
            marker = MARKER.fullmatch(previous.strip())
            found.append(
                Block(
                    path,
                    index + 1,
                    info,
                    marker.group("marker") if marker else None,
                    "\n".join(lines[index + 1 : end]) + "\n",
                )
            )
            index = end + 1
            previous = ""
            continue
        if line.strip():
            previous = line
        index += 1
    return found


def walk_order() -> list[Block]:
    readme = blocks(README)
    teams = next(i for i, b in enumerate(readme) if "amtune teams create" in b.text)
    return readme[:teams] + blocks(EXAMPLES) + readme[teams:]


def test_every_block_is_run_or_checked_or_plainly_not_a_command() -> None:
    for block in blocks(README) + blocks(EXAMPLES):
        assert block.info in RUN | NOT_COMMANDS, f"{block.where}: ```{block.info}"
        if block.marker is not None:
            assert block.info == "sh", block.where
            assert block.marker in {"background", "stop"} or block.marker.startswith("same as ")
    readme = README.read_text()
    assert "](docs/console.png)" in readme and (README.parent / "docs/console.png").exists()


def bare(line: str) -> str:
    """A command line without its indentation and its trailing ``  # comment``."""
    return re.sub(r"\s{2,}#.*$", "", line).strip()


def test_docker_and_kubernetes_commands_are_the_files_own() -> None:
    checked = 0
    for block in blocks(README):
        if block.marker is None or not block.marker.startswith("same as "):
            continue
        source = REPO / block.marker.removeprefix("same as ")
        # The file says them in comments: compare without the comment marks.
        said = {bare(line.lstrip("#")) for line in source.read_text().splitlines()}
        for line in block.text.splitlines():
            command = bare(line)
            assert command in said, f"{block.where}: {command!r} is not in {source.name}"
            checked += 1
    assert checked >= 6


def script(walk: list[Block], port: int, database_url: str, workdir: Path) -> str:
    """The blocks as one bash script; each block's output follows a ``::block WHERE::`` line."""
    readiness = (
        "import sys, time, urllib.request\n"
        "for _ in range(1800):\n"
        "    try:\n"
        f"        urllib.request.urlopen('http://127.0.0.1:{port}/healthz', timeout=2)\n"
        "        sys.exit(0)\n"
        "    except OSError: time.sleep(0.2)\n"
        "sys.exit(1)\n"
    )
    parts = [
        "set -euo pipefail",
        f"export AMTUNE_PORT={port}",
        f"wait_healthy() {{ python3 -c {shlex.quote(readiness)}; }}",
        # A server runs in its own session (setsid), so that stopping it stops `make` and
        # every process under it, as Ctrl-C does in a terminal.
        'stop_server() { if [ -n "${SERVER:-}" ]; then kill -TERM -- -$SERVER; '
        'wait $SERVER || true; SERVER=""; fi; }',
    ]
    for number, block in enumerate(walk):
        if block.info not in RUN or (block.marker or "").startswith("same as "):
            continue
        text = block.text.replace(README_ADDRESS, f"127.0.0.1:{port}")
        text = text.replace(README_DATABASE, database_url)
        parts.append(f"echo '::block {block.where}::'")
        if block.marker == "stop":
            parts.append("stop_server")
        if block.info == "python":
            parts.append(f"python - <<'AMTUNE_README_PY'\n{text}AMTUNE_README_PY")
        elif block.marker == "background":
            log = workdir / f"server-{number}.log"
            parts.append(f"setsid bash -c {shlex.quote(text)} > {log} 2>&1 &")
            parts.append(f"SERVER=$!; echo $SERVER >> {workdir / 'servers'}")
            parts.append(f"wait_healthy || {{ cat {log}; exit 1; }}")
        else:
            parts.append(text)
    parts.append("echo '::block end::'")
    parts.append("stop_server")
    return "\n".join(parts) + "\n"


def outputs(log: str) -> dict[str, str]:
    pieces = re.split(r"^::block (\S+)::$", log, flags=re.MULTILINE)
    return dict(zip(pieces[1::2], pieces[2::2], strict=True))


@pytest.fixture
def copy_of_the_repository(tmp_path: Path) -> Path:
    """The repository's files as a clone has them, plus new ones not yet committed."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    copy = tmp_path / "amtune"
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    return copy


@pytest.fixture
def readme_database() -> Iterator[str]:
    yield from postgres_database()


def fresh_environment() -> dict[str, str]:
    ours = str(Path(sys.executable).parent)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AMTUNE_", "AWS_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != ours)
    return env


def test_walk_through_the_readme_on_a_fresh_copy(
    copy_of_the_repository: Path, readme_database: str, tmp_path: Path
) -> None:
    walk = walk_order()
    text = README.read_text() + EXAMPLES.read_text()
    assert README_ADDRESS in text and README_DATABASE in text, "the substitutions must apply"
    workdir = tmp_path / f"walk-{uuid.uuid4().hex[:6]}"
    workdir.mkdir()
    (workdir / "walk.sh").write_text(script(walk, free_port(), readme_database, workdir))
    log = workdir / "walk.log"
    with log.open("w") as out:
        walk_process = subprocess.Popen(
            ["bash", str(workdir / "walk.sh")], cwd=copy_of_the_repository,
            env=fresh_environment(), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        code = walk_process.wait(timeout=1200)
    finally:
        servers = workdir / "servers"
        for pid in servers.read_text().split() if servers.exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(pid), signal.SIGKILL)
        if walk_process.poll() is None:
            os.killpg(walk_process.pid, signal.SIGKILL)
    output = log.read_text()
    assert code == 0, output[-6000:]

    by_block = outputs(output)
    assert list(by_block)[-1] == "end"

    def said(command: str) -> str:
        where = next(b.where for b in walk if command in b.text)
        return by_block[where]

    assert "Bayesian search, 12 training jobs, 4 workers" in said("make demo")
    assert "[demo] best training job:" in said("make demo")
    assert (
        "created arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/digits-svc"
        in said("--name digits-svc --jobs 6")
    )
    watched = said('describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="digits-svc")')
    assert "Completed {'Completed': 6," in watched
    assert "best: digits-svc-" in watched
    assert '"TrainingJobSummaries"' in said("aws sagemaker list-training-jobs")
    assert "InProgress" in said("xgb-sweep")
    assert "digits-cli: Completed" in said("--name digits-cli --no-create")
    assert said("examples/python_worker.py").count("validation:accuracy=") == 3
    assert '"Name": "vision"' in said("amtune teams list")
    assert (copy_of_the_repository / "vision-key.json").read_text().count("SecretAccessKey") == 1
    assert "migrated to head" in said("amtune migrate")
    # `amtune serve --workers 2`: two processes served, and both stopped cleanly at the end.
    number = next(i for i, b in enumerate(walk) if "amtune serve --workers 2" in b.text)
    served = (workdir / f"server-{number}.log").read_text()
    assert served.count("Started server process") == 2, served
    assert served.count("Application shutdown complete") == 2, served
