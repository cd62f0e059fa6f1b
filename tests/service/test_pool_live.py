"""Six pool workers serving three tuning jobs of two strategies, over HTTP (SQLite and
PostgreSQL): the workers are shared fairly and every tuning job runs to its end."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from amtune.sdk.protocol import Claim, Metric, WorkerProtocol
from tests.app.requests import sdk_style_request
from tests.conftest import LiveServer
from tests.service.test_lifecycle import OBJECTIVE
from tests.service.test_pool_and_release import IMAGE

WORKERS = 6
TUNING_JOBS = {"pool-random-a": "Random", "pool-bayes": "Bayesian", "pool-random-b": "Random"}
BUDGET = 4


def create(sm: Any, name: str, strategy: str) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    config = request["HyperParameterTuningJobConfig"]
    config["Strategy"] = strategy
    # Room for more than a fair share in each tuning job: only the pool's choice keeps it fair.
    config["ResourceLimits"] = {
        "MaxNumberOfTrainingJobs": BUDGET,
        "MaxParallelTrainingJobs": BUDGET,
    }
    request["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] = IMAGE
    sm.create_hyper_parameter_tuning_job(**request)


def all_ended(sm: Any) -> bool:
    return all(
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
            "HyperParameterTuningJobStatus"
        ]
        != "InProgress"
        for name in TUNING_JOBS
    )


def test_six_pool_workers_share_three_tuning_jobs_fairly(live_server: LiveServer, sm: Any) -> None:
    for name, strategy in TUNING_JOBS.items():
        create(sm, name, strategy)
    claims: list[Claim] = []
    lock = threading.Lock()
    # Every worker holds its first job until all six hold one: the first six claims are
    # then all concurrent, which is when a pool that read stale counts would pile up.
    first_round = threading.Barrier(WORKERS, timeout=60)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        protocol = WorkerProtocol(live_server.url)
        worker_id = f"pool-{index}"
        first = True
        try:
            while True:
                outcome = protocol.claim_any(worker_id, [IMAGE])
                if not isinstance(outcome, Claim):
                    if all_ended(sm):
                        return
                    threading.Event().wait(min(outcome.retry_after, 0.2))
                    continue
                with lock:
                    claims.append(outcome)
                if first:
                    first_round.wait()
                    first = False
                value = float(outcome.hyperparameters["eta"])
                protocol.put_metrics(
                    outcome.training_job_name,
                    [Metric(OBJECTIVE, value)],
                    lease_token=outcome.lease_token,
                )
                protocol.complete(outcome.training_job_name, lease_token=outcome.lease_token)
        except BaseException as exc:
            errors.append(exc)
            first_round.abort()
        finally:
            protocol.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)

    first_six = Counter(claim.tuning_job_name for claim in claims[:WORKERS])
    assert first_six == {name: 2 for name in TUNING_JOBS}
    assert Counter(claim.tuning_job_name for claim in claims) == {
        name: BUDGET for name in TUNING_JOBS
    }
    for name in TUNING_JOBS:
        described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        assert described["HyperParameterTuningJobStatus"] == "Completed"
        assert described["TrainingJobStatusCounters"]["Completed"] == BUDGET
        served_by = {claim.worker_id for claim in claims if claim.tuning_job_name == name}
        assert len(served_by) >= 2
