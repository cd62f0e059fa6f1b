"""64 workers, 8 tuning jobs, 4 teams, one database: exact accounting under contention.

No training job may be handed to two workers, no number issued twice, no limit overshot. Four
teams (``amtune teams create``, each with its own access key, requests in
the bearer form the REST face takes) each own two tuning jobs with the *same* names as the
others'. 64 simulated workers (the load generator of ``bench/load``) claim through two server
replicas until every tuning job is over. Then every count must be exact, no job may have been
handed out twice, no more than MaxParallelTrainingJobs of a tuning job may ever have run at once
(by the service's own timestamps), and each team must see only its own jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from amtune.app import teams
from amtune.app.service import Tuner
from amtune.settings import Settings
from tests.conftest import LiveServer
from tests.reliability.support import max_overlap, random_tuning_job

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.load.generator import Target, run_load

pytestmark = pytest.mark.slow
TEAMS = 4
NAMES = ("sweep-a", "sweep-b")
MAX_JOBS = 16
MAX_PARALLEL = 4
WORKERS = 64


@pytest.fixture
def replicas(own_database: str) -> Iterator[tuple[list[LiveServer], list[dict[str, str]]]]:
    """Two in-process replicas (a server process takes seconds to import on this machine;
    multi-process replicas are covered by tests/service/test_concurrency.py) and four teams.

    Leases are the default minute: on SQLite, 64 workers behind one write lock see tail
    latencies of seconds on this shared machine, and a lapsed lease is not what is tested here.
    """
    settings = Settings(database_url=own_database, secret_key=secrets.token_urlsafe(32))
    admin = Tuner(settings)
    try:
        keys = [teams.create_team(admin.ctx, f"team-{i}").render() for i in range(TEAMS)]
    finally:
        admin.close()
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(LiveServer(settings)) for _ in range(2)]
        yield servers, keys


def bearer(key: dict[str, str]) -> str:
    return f"Bearer {key['AccessKeyId']}:{key['SecretAccessKey']}"


def rest(url: str, key: dict[str, str], method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(
        method, url + path, headers={"Authorization": bearer(key)}, timeout=60, **kwargs
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def summaries_of(url: str, key: dict[str, str], name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"MaxResults": 100}
    while True:
        page = rest(url, key, "GET", f"/v1/tuning-jobs/{name}/training-jobs", params=params)
        found.extend(page["TrainingJobSummaries"])
        if not page.get("NextToken"):
            return found
        params["NextToken"] = page["NextToken"]


def test_64_workers_on_8_tuning_jobs_of_4_teams_count_exactly(
    replicas: tuple[list[LiveServer], list[dict[str, str]]],
) -> None:
    servers, keys = replicas
    targets: list[Target] = []
    for index, key in enumerate(keys):
        for name in NAMES:
            body = random_tuning_job(name, MAX_JOBS, MAX_PARALLEL)
            rest(servers[0].url, key, "POST", "/v1/tuning-jobs", json=body)
            # Each tuning job's workers go through one replica or the other, alternately.
            url = servers[(index + len(targets)) % 2].url
            targets.append(Target(url, name, bearer(key)))

    result = asyncio.run(run_load(targets, WORKERS, duration=None, reports=1))

    assert result.errors == []
    assert result.duplicates == 0
    assert len(result.claimed) == len(result.completed) == len(targets) * MAX_JOBS
    every_name: set[str] = set()
    for key in keys:
        for name in NAMES:
            described = rest(servers[1].url, key, "GET", f"/v1/tuning-jobs/{name}")
            assert described["HyperParameterTuningJobArn"].split(":")[4] == key["AccountId"]
            assert described["HyperParameterTuningJobStatus"] == "Completed"
            assert described["TrainingJobStatusCounters"] == {
                "Completed": MAX_JOBS,
                "InProgress": 0,
                "RetryableError": 0,
                "NonRetryableError": 0,
                "Stopped": 0,
            }
            summaries = summaries_of(servers[0].url, key, name)
            names = {s["TrainingJobName"] for s in summaries}
            assert len(summaries) == len(names) == MAX_JOBS
            assert max_overlap(summaries) <= MAX_PARALLEL
            every_name |= names
        listed = rest(servers[0].url, key, "GET", "/v1/tuning-jobs")
        assert sorted(
            s["HyperParameterTuningJobName"] for s in listed["HyperParameterTuningJobSummaries"]
        ) == sorted(NAMES)
    # The teams' training jobs never mix: 128 distinct jobs, each listed by its owner only.
    assert len(every_name) == TEAMS * len(NAMES) * MAX_JOBS
