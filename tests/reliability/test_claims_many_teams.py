"""64 workers, 8 tuning jobs, 4 accounts, one database: exact accounting, and the load smoke.

Field notes items 4, 5 and 7: the same training job handed to two workers, numbers issued twice,
limits overshot. Four accounts each run a server of their own (its ``account_id`` setting;
teams and SigV4 are being built alongside, so an account per server stands in for a team) and
each owns two tuning jobs with the *same* names as the others'. 64 simulated workers (the load
generator of ``bench/load``) claim until every tuning job is over. Then every count must be
exact, no job may have been handed out twice, and no more than MaxParallelTrainingJobs of a
tuning job may ever have run at once, by the service's own timestamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from amtune.settings import Settings
from tests.conftest import LiveServer, new_account_id
from tests.reliability.support import (
    create_tuning_job,
    describe_tuning_job,
    max_overlap,
    training_jobs_of,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.load.__main__ import create_jobs, verify
from bench.load.generator import Target, run_load

pytestmark = pytest.mark.slow
ACCOUNTS = 4
NAMES = ("sweep-a", "sweep-b")
MAX_JOBS = 16
MAX_PARALLEL = 4
WORKERS = 64


@pytest.fixture(scope="module")
def servers(own_database: str) -> Iterator[list[LiveServer]]:
    """One in-process server per account: a server process takes seconds to import on this
    machine, and multi-process replicas are covered by tests/service/test_concurrency.py.

    Leases are the default minute: on SQLite, 64 workers behind one write lock see tail
    latencies of seconds on this shared machine, and a lapsed lease is not what is tested here.
    """
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(
                LiveServer(
                    Settings(
                        database_url=own_database, account_id=new_account_id(), lease_seconds=60
                    )
                )
            )
            for _ in range(ACCOUNTS)
        ]


def test_64_workers_on_8_tuning_jobs_of_4_accounts_count_exactly(
    servers: list[LiveServer],
) -> None:
    targets = []
    for server in servers:
        for name in NAMES:
            create_tuning_job(server.url, name, max_jobs=MAX_JOBS, max_parallel=MAX_PARALLEL)
            targets.append(Target(server.url, name))

    result = asyncio.run(run_load(targets, WORKERS, duration=None, reports=1))

    assert result.errors == []
    assert result.duplicates == 0
    assert len(result.claimed) == len(result.completed) == len(targets) * MAX_JOBS
    for target in targets:
        described = describe_tuning_job(target.url, target.tuning_job)
        assert described["HyperParameterTuningJobStatus"] == "Completed"
        assert described["TrainingJobStatusCounters"] == {
            "Completed": MAX_JOBS,
            "InProgress": 0,
            "RetryableError": 0,
            "NonRetryableError": 0,
            "Stopped": 0,
        }
        summaries = training_jobs_of(target.url, target.tuning_job)
        names = {s["TrainingJobName"] for s in summaries}
        assert len(summaries) == len(names) == MAX_JOBS
        assert max_overlap(summaries) <= MAX_PARALLEL
    # Each account saw only its own two tuning jobs, though all share the names.
    for server in servers:
        listed = describe_tuning_job(server.url, NAMES[0])
        assert listed["HyperParameterTuningJobArn"].split(":")[4] == server.settings.account_id


def test_load_smoke_8_workers_for_5_seconds(servers: list[LiveServer]) -> None:
    """The bench/load run in miniature: no error, no duplicate, the server agrees job for job."""
    targets = create_jobs([servers[0].url], 2, max_parallel=4)
    result = asyncio.run(run_load(targets, 8, duration=5.0, reports=3))
    assert result.errors == [] and result.duplicates == 0
    assert result.completed and result.operations >= 5 * len(result.completed)
    assert verify(targets, result) == []
