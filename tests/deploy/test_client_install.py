"""``pip install amtune`` is the client: the SDK and ``amtune worker`` on a training machine.

The wheel is built from what the Dockerfile copies (pyproject.toml, README.md, service/) and
installed into a fresh virtualenv WITHOUT the ``server`` extra, from the configured package
index, exactly as a user's ``pip install`` would. Then, from that virtualenv and an unrelated
directory:

- only httpx and its own dependencies came with it (no FastAPI, SQLAlchemy, numpy, ...);
- the SDK creates and describes a tuning job on a live service (started from the development
  environment, as a separate machine would run it), and ``amtune worker`` runs its training jobs
  to the end;
- ``amtune serve`` says which extra to install and exits 2, as ``amtune demo`` does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from amtune.extras import SERVER_MODULES
from amtune.worker.demo import tuning_job_request
from amtune.worker.local_service import LocalService

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

#: httpx and what it pulls in; anything else in the client virtualenv is a heavy dependency.
CLIENT_DISTRIBUTIONS = {
    "amtune", "httpx", "httpcore", "h11", "anyio", "idna", "certifi", "sniffio",
    "typing-extensions", "exceptiongroup", "pip", "setuptools", "wheel",
}  # fmt: skip


@dataclass
class Client:
    venv: Path
    cwd: Path

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AMTUNE_", "PYTHON", "VIRTUAL_ENV", "AWS_"))
        }
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            list(argv), cwd=self.cwd, env=env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Client:
    root = tmp_path_factory.mktemp("client-install")
    source, wheels, venv, cwd = root / "source", root / "wheels", root / "venv", root / "cwd"
    cwd.mkdir()
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "service", source / "service",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
         str(wheels), str(source)],
        check=True, timeout=300,
    )  # fmt: skip
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    (wheel,) = wheels.glob("amtune-*.whl")
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)], check=True, timeout=300
    )
    return Client(venv, cwd)


def installed(client: Client) -> set[str]:
    listed = client.run("pip", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    return {row["name"].lower().replace("_", "-") for row in json.loads(listed.stdout)}


def test_the_client_install_brings_httpx_and_nothing_of_the_server(client: Client) -> None:
    assert installed(client) <= CLIENT_DISTRIBUTIONS
    imported = client.run(
        "python", "-c",
        "import sys, amtune, amtune.sdk, amtune.worker.cli, amtune.cli;"
        "amtune.cli.build_parser();"
        "print(amtune.__file__);"
        f"print(sorted(set({list(SERVER_MODULES)!r}) & set(sys.modules)))",
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    where, server_modules = imported.stdout.splitlines()
    assert Path(where).is_relative_to(client.venv), "the wheel, not the repository"
    assert server_modules == "[]"
    helped = client.run("amtune", "worker", "--help")
    assert helped.returncode == 0 and "--endpoint" in helped.stdout, helped.stderr


def test_server_commands_say_which_extra_to_install(client: Client) -> None:
    for argv in (["serve"], ["migrate"], ["teams", "list"]):
        refused = client.run("amtune", *argv)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "pip install 'amtune[server]'" in refused.stderr
        assert "Traceback" not in refused.stderr
    demo = client.run("amtune", "demo")
    assert demo.returncode == 2
    assert "pip install 'amtune[demo]'" in demo.stderr


@pytest.fixture
def service(tmp_path: Path) -> Iterator[LocalService]:
    with LocalService(tmp_path / "amtune.db", env={"AMTUNE_LOG_LEVEL": "WARNING"}) as live:
        yield live


def test_the_sdk_and_worker_from_the_client_install_tune_a_job(
    client: Client, service: LocalService
) -> None:
    request = tuning_job_request("from-the-client", max_jobs=2, max_parallel=2)
    created = client.run(
        "python", "-c",
        "import json, sys, amtune;"
        f"sm = amtune.client(endpoint_url={service.url!r});"
        "sm.create_hyper_parameter_tuning_job(**json.loads(sys.argv[1]))",
        json.dumps(request),
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    worked = client.run(
        "amtune", "worker", "--endpoint", service.url, "--tuning-job", "from-the-client",
        "--concurrency", "2", "--quiet", "--no-hyperparameter-args", "--",
        "python", "-c", "print('validation:accuracy=0.75')",
        timeout=180,
    )  # fmt: skip
    assert worked.returncode == 0, worked.stdout + worked.stderr
    described = client.run(
        "python", "-c",
        "import amtune;"
        f"sm = amtune.client(endpoint_url={service.url!r});"
        "d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName='from-the-client');"
        "print(d['HyperParameterTuningJobStatus'], d['TrainingJobStatusCounters']['Completed'],"
        " d['BestTrainingJob']['FinalHyperParameterTuningJobObjectiveMetric']['Value'])",
    )  # fmt: skip
    assert described.returncode == 0, described.stderr
    assert described.stdout.split() == ["Completed", "2", "0.75"]


def test_client_modules_import_nothing_of_the_server_at_all() -> None:
    """Stronger than the wheel test, which only sees the code paths it runs: no import
    anywhere in sdk/, worker/, extras.py or the package's __init__ names a server package, and
    cli.py's top level imports only the standard library and amtune.extras."""
    import ast

    package = REPO / "service" / "amtune"
    server = (*SERVER_MODULES, "amtune.settings", "amtune.app", "amtune.api",
              "amtune.store", "amtune.engine")  # fmt: skip
    client_files = [
        *sorted((package / "sdk").rglob("*.py")),
        *sorted((package / "worker").rglob("*.py")),
        package / "__init__.py",
        package / "extras.py",
    ]
    offenders = []
    for path in client_files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.module
                else []
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in server
                          or n.startswith(server)]  # fmt: skip
    assert offenders == []
    cli = ast.parse((package / "cli.py").read_text())
    top_level = [
        node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        for node in cli.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert all(
        name in sys.stdlib_module_names
        or name in {"__future__", "amtune.extras"}
        or name.split(".")[0] in sys.stdlib_module_names
        for name in top_level
        if name
    ), top_level
