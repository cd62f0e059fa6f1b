"""``amtune teams``/``amtune keys`` as a user types them, and the secure-by-default start rules
of ``amtune serve``, each as a real process on a database of its own."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from amtune.app.teams import NewKey
from tests.conftest import postgres_database
from tests.service.processes import free_port
from tests.teams.conftest import SERVER_KEY
from tests.teams.signing import bearer, boto3_for


def amtune_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMTUNE_", "AWS_"))}
    env.update(AMTUNE_DATABASE_URL=database_url, AMTUNE_SECRET_KEY=SERVER_KEY, **extra)
    return env


def amtune(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amtune", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def created(result: subprocess.CompletedProcess[str]) -> NewKey:
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert set(printed) == {"AccessKeyId", "SecretAccessKey", "AccountId"}
    return NewKey(printed["AccessKeyId"], printed["SecretAccessKey"], printed["AccountId"])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_teams_and_keys_commands(sqlite_url: str, tmp_path: Path) -> None:
    env = amtune_env(sqlite_url)
    result = amtune(env, "teams", "create", "vision", "--max-parallel-training-jobs", "20")
    key = created(result)
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", key.access_key_id)
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", key.secret_access_key)
    assert re.fullmatch(r"[1-9]\d{11}", key.account_id)
    assert key.secret_access_key not in result.stderr  # logged: the key id, never the secret

    # At rest the secret is encrypted: not in the database file in any form we can grep.
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT encrypted_secret FROM access_keys").fetchall()
    assert len(stored) == 1 and key.secret_access_key not in stored[0][0]
    for path in database.parent.glob("cli.db*"):
        assert key.secret_access_key.encode() not in path.read_bytes()

    listed = amtune(env, "teams", "list")
    assert listed.returncode == 0, listed.stderr
    assert key.secret_access_key not in listed.stdout
    (team,) = json.loads(listed.stdout)
    assert team["Name"] == "vision" and team["AccountId"] == key.account_id
    assert team["Quotas"] == {"MaxConcurrentTuningJobs": 100, "MaxParallelTrainingJobs": 20}
    assert [k["AccessKeyId"] for k in team["AccessKeys"]] == [key.access_key_id]

    updated = amtune(env, "teams", "update", "vision", "--max-concurrent-tuning-jobs", "3")
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["Quotas"]["MaxConcurrentTuningJobs"] == 3

    second = created(amtune(env, "keys", "create", "vision"))
    assert second.account_id == key.account_id
    revoked = amtune(env, "keys", "revoke", key.access_key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["Status"] == "Inactive"
    statuses = {
        k["AccessKeyId"]: k["Status"]
        for k in json.loads(amtune(env, "teams", "list").stdout)[0]["AccessKeys"]
    }
    assert statuses == {key.access_key_id: "Inactive", second.access_key_id: "Active"}

    duplicate = amtune(env, "teams", "create", "VISION")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    unknown = amtune(env, "keys", "create", "nobody")
    assert unknown.returncode == 1 and "No team" in unknown.stderr
    no_key = amtune(env, "keys", "revoke", "AKIAIOSFODNN7EXAMPLE")
    assert no_key.returncode == 1


def test_no_keys_while_the_server_key_is_the_development_default(sqlite_url: str) -> None:
    env = amtune_env(sqlite_url)
    del env["AMTUNE_SECRET_KEY"]
    refused = amtune(env, "teams", "create", "vision")
    assert refused.returncode == 1
    assert "AMTUNE_SECRET_KEY is the development default" in refused.stderr
    assert json.loads(amtune(env, "teams", "list").stdout) == []


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[Served] = []

    def start(env: dict[str, str], host: str = "127.0.0.1", wait: bool = True) -> Served:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "amtune", "serve"],
                env={**env, "AMTUNE_HOST": host, "AMTUNE_PORT": str(port)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        served = Served(process, f"http://127.0.0.1:{port}", log)
        started.append(served)
        if not wait:
            process.wait(timeout=60)
            return served
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, served.output()
            try:
                if httpx.get(served.url + "/healthz", timeout=1).status_code == 200:
                    return served
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"the server did not start: {served.output()}")

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.terminate()
            served.process.wait(timeout=15)


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url
        return
    databases = postgres_database()
    yield next(databases)
    databases.close()


def test_no_team_on_a_public_address_refuses_to_start(fresh_url: str, serve: Any) -> None:
    served = serve(amtune_env(fresh_url), host="0.0.0.0", wait=False)
    assert served.process.returncode != 0
    assert "refusing to listen on 0.0.0.0 with no team" in served.output()
    assert "amtune teams create NAME" in served.output()


def test_no_team_on_loopback_runs_open_and_closes_when_a_team_appears(
    fresh_url: str, serve: Any
) -> None:
    env = amtune_env(fresh_url)
    served = serve(env)
    assert "running OPEN" in served.output()
    open_answer = httpx.get(served.url + "/v1/tuning-jobs")
    assert open_answer.status_code == 200, open_answer.text

    key = created(amtune(env, "teams", "create", "first"))

    closed = httpx.get(served.url + "/v1/tuning-jobs")
    assert (closed.status_code, closed.json()["__type"]) == (
        403,
        "MissingAuthenticationTokenException",
    )
    assert httpx.get(served.url + "/v1/tuning-jobs", headers=bearer(key)).status_code == 200
    assert boto3_for(served.url, key).list_training_jobs()["TrainingJobSummaries"] == []
    assert key.secret_access_key not in served.output()


def test_with_a_team_a_public_address_serves_signed_requests_only(
    sqlite_url: str, serve: Any
) -> None:
    env = amtune_env(sqlite_url)
    key = created(amtune(env, "teams", "create", "first"))
    served = serve(env, host="0.0.0.0")
    assert "every request must be signed" in served.output()
    assert httpx.get(served.url + "/healthz").status_code == 200
    assert httpx.get(served.url + "/v1/training-jobs").status_code == 403
    assert boto3_for(served.url, key).list_training_jobs()["TrainingJobSummaries"] == []


def test_a_server_key_that_does_not_open_the_secrets_refuses_to_start(
    sqlite_url: str, serve: Any
) -> None:
    env = amtune_env(sqlite_url)
    created(amtune(env, "teams", "create", "first"))
    served = serve({**env, "AMTUNE_SECRET_KEY": "another-server-key-entirely"}, wait=False)
    assert served.process.returncode != 0
    assert "does not decrypt with AMTUNE_SECRET_KEY" in served.output()


@pytest.mark.parametrize("command", [("migrate",), ("serve",), ("teams", "list")])
def test_a_database_migrated_by_a_newer_amtune_is_refused_in_one_line(
    sqlite_url: str, command: tuple[str, ...]
) -> None:
    env = amtune_env(sqlite_url)
    assert amtune(env, "migrate").returncode == 0
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE amtune_alembic_version SET version_num = '9999_from_the_future'")
    port = ("--port", str(free_port())) if command == ("serve",) else ()
    result = amtune(env, *command, *port)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"amtune {command[0]} will not run: database schema ")
    assert "9999_from_the_future is unknown to this amtune" in last
