"""``amtune worker`` under early stopping: a stop the service decides becomes SIGTERM, then
SIGKILL after the grace period, and the job ends Stopped (or, at Hyperband's MaxResource,
Completed) with the last objective the script printed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import amtune.sdk
from amtune.worker.local_service import LocalService
from tests.worker.live import (
    describe,
    finish,
    start_worker,
    training_jobs,
    tuning_request,
    unique_name,
)

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("scripts") / "epochs_train.py"
GOOD = "0.9,0.9"


def by_seq(sm: Any, name: str) -> list[dict[str, Any]]:
    jobs = training_jobs(sm, name)
    return sorted(jobs, key=lambda j: j["TrainingJobName"].rsplit("-", 2)[1])


def objective_of(job: dict[str, Any]) -> float:
    value: float = job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    return value


@pytest.mark.parametrize("on_sigterm", ["exit", "ignore"])
def test_median_rule_stops_the_script_by_signal(
    service: LocalService, tmp_path: Path, on_sigterm: str
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name(f"auto-{on_sigterm}")
    request = tuning_request(
        name,
        max_jobs=4,
        parallel=1,
        static={"curves": f"{GOOD};{GOOD};{GOOD};0.1,0.2+", "on_sigterm": on_sigterm},
    )
    request["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] = "Auto"
    sm.create_hyper_parameter_tuning_job(**request)
    worker = start_worker(
        service.url,
        name,
        tmp_path,
        extra=["--stop-grace", "1"],
        command=[sys.executable, str(SCRIPT)],
    )
    code, output = finish(worker)
    assert code == 0, output

    jobs = by_seq(sm, name)
    assert [j["TrainingJobStatus"] for j in jobs] == ["Completed"] * 3 + ["Stopped"]
    stopped = jobs[-1]
    # It keeps the last objective it printed before it was stopped.
    assert objective_of(stopped) in (0.1, 0.2)
    log = (tmp_path / stopped["TrainingJobName"] / "training.log").read_text()
    assert "got SIGTERM" in log
    described = sm.describe_training_job(TrainingJobName=stopped["TrainingJobName"])
    messages = [t.get("StatusMessage", "") for t in described["SecondaryStatusTransitions"]]
    assert any("early stopping" in m for m in messages)
    tuning = describe(sm, name)
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert tuning["TrainingJobStatusCounters"]["Stopped"] == 1


def test_hyperband_tells_jobs_at_max_resource_to_stop(
    service: LocalService, tmp_path: Path
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("hb-worker")
    # MaxResource comes from epochs=3; the script would train on without being told to stop.
    request = tuning_request(
        name,
        max_jobs=4,
        parallel=2,
        strategy="Hyperband",
        static={"curves": "0.5,0.6,0.7+", "epochs": "3"},
    )
    sm.create_hyper_parameter_tuning_job(**request)
    worker = start_worker(
        service.url, name, tmp_path, concurrency=2, command=[sys.executable, str(SCRIPT)]
    )
    code, output = finish(worker)
    assert code == 0, output
    jobs = by_seq(sm, name)
    assert [j["TrainingJobStatus"] for j in jobs] == ["Completed"] * 4
    assert len({tuple(sorted(j["TunedHyperParameters"].items())) for j in jobs}) == 4
    assert all(objective_of(j) == 0.7 for j in jobs)
    assert describe(sm, name)["HyperParameterTuningJobStatus"] == "Completed"
