"""``amtune worker`` running a real SageMaker-style script against a live service."""

from __future__ import annotations

import json
import signal
import sys
from functools import partial
from pathlib import Path

import pytest

import amtune.sdk
from amtune.worker.local_service import LocalService
from tests.worker.live import (
    OBJECTIVE,
    describe,
    expected_objective,
    finish,
    start_worker,
    training_jobs,
    tuning_request,
    unique_name,
    wait_for,
)

pytestmark = pytest.mark.slow


def test_script_metrics_parsed_and_objective_recorded(
    service: LocalService, tmp_path: Path
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("ok")
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=3, parallel=2))

    code, output = finish(start_worker(service.url, name, tmp_path, concurrency=2))

    assert code == 0, output
    described = describe(sm, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 3
    assert described["ObjectiveStatusCounters"]["Succeeded"] == 3
    jobs = training_jobs(sm, name)
    assert len(jobs) == 3
    for job in jobs:
        # The objective is the *last* value the script printed (earlier epochs printed less).
        metric = job["FinalHyperParameterTuningJobObjectiveMetric"]
        assert metric["MetricName"] == OBJECTIVE
        assert metric["Value"] == pytest.approx(expected_objective(job["TunedHyperParameters"]))
        detail = sm.describe_training_job(TrainingJobName=job["TrainingJobName"])
        finals = {m["MetricName"]: m["Value"] for m in detail.get("FinalMetricDataList", [])}
        assert finals["train:loss"] == pytest.approx(1 / 3, abs=1e-4)
        # Each job's line appears in the worker's progress output.
        assert job["TrainingJobName"] in output
    # Not a terminal: one plain progress line per ended job, the last one at the end.
    assert output.count("[amtune] progress: ") == 3
    assert f"[amtune] progress: {name}: 3/3 done, 0 running, 0 failed | best " in output
    best = described["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(
        j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for j in jobs
    )


def test_job_directory_and_environment_follow_sagemaker(
    service: LocalService, tmp_path: Path
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("env")
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, max_jobs=1, parallel=1, static={"mode": "ok", "opt": "adam"})
    )
    code, output = finish(start_worker(service.url, name, tmp_path))
    assert code == 0, output

    (job,) = training_jobs(sm, name)
    root = tmp_path / job["TrainingJobName"]
    seen = json.loads((root / "model" / "seen.json").read_text())
    hps = seen["hyperparameters.json"]
    assert all(isinstance(v, str) for v in hps.values())
    assert hps["_tuning_objective_metric"] == OBJECTIVE
    assert hps["x"] == job["TunedHyperParameters"]["x"]
    env = seen["env"]
    assert env["TRAINING_JOB_NAME"] == job["TrainingJobName"]
    assert env["SM_MODEL_DIR"] == str(root / "model")
    assert env["SM_OUTPUT_DATA_DIR"] == str(root / "output" / "data")
    assert env["SM_INPUT_CONFIG_DIR"] == str(root / "input" / "config")
    assert env["SM_CHANNEL_TRAIN"] == str(root / "input" / "data" / "train")
    assert env["SM_HP_OPT"] == "adam"
    assert env["SM_HP_Y"] == hps["y"]
    sm_hps = json.loads(env["SM_HPS"])
    assert "_tuning_objective_metric" not in sm_hps
    assert sm_hps["opt"] == "adam" and sm_hps["y"] == int(hps["y"])
    # --name value for each user hyperparameter, sorted by name.
    assert seen["argv"] == [
        "--mode", "ok", "--opt", "adam", "--x", hps["x"], "--y", hps["y"],
    ]  # fmt: skip
    assert seen["resourceconfig"]["current_host"] == "algo-1"
    assert seen["resourceconfig"]["current_instance_type"] == "ml.m5.large"
    log = (root / "training.log").read_text()
    assert "final validation:accuracy=" in log and "epoch 1 train_loss" in log
    report = json.loads((root / "amtune-report.json").read_text())
    assert report["action"] == "complete" and report["answer"] == "accepted"
    assert not (root / "amtune-outbox.json").exists()


def test_failing_script_is_failed_with_its_reason(service: LocalService, tmp_path: Path) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("fail")
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, max_jobs=1, parallel=1, static={"mode": "fail"})
    )
    code, output = finish(start_worker(service.url, name, tmp_path))
    assert code == 0, output

    (job,) = training_jobs(sm, name)
    assert job["TrainingJobStatus"] == "Failed"
    detail = sm.describe_training_job(TrainingJobName=job["TrainingJobName"])
    reason = detail["FailureReason"]
    assert "exited with code 3" in reason
    assert "bad input: boom" in reason  # output/failure
    assert "Traceback: something went wrong" in reason  # the log tail
    counters = describe(sm, name)["TrainingJobStatusCounters"]
    assert counters["NonRetryableError"] == 1


def test_exit_zero_without_objective_fails(service: LocalService, tmp_path: Path) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("noobj")
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, max_jobs=1, parallel=1, static={"mode": "noobjective"})
    )
    code, output = finish(start_worker(service.url, name, tmp_path))
    assert code == 0, output
    (job,) = training_jobs(sm, name)
    assert job["TrainingJobStatus"] == "Failed"
    assert OBJECTIVE in job["FailureReason"]
    assert "never printed the objective" in job["FailureReason"]


@pytest.mark.parametrize("how", ["StopTrainingJob", "StopHyperParameterTuningJob"])
def test_stop_request_ends_the_process_and_the_job_is_stopped(
    service: LocalService, tmp_path: Path, how: str
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("stop")
    gate = tmp_path / "never"
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, max_jobs=1, parallel=1, static={"mode": "wait", "gate": str(gate)})
    )
    worker = start_worker(service.url, name, tmp_path / "jobs")
    (job,) = wait_for("a running job", lambda: training_jobs(sm, name))
    log = tmp_path / "jobs" / job["TrainingJobName"] / "training.log"
    wait_for("the script to run", lambda: log.exists() and "waiting" in log.read_text())

    if how == "StopTrainingJob":
        sm.stop_training_job(TrainingJobName=job["TrainingJobName"])
    else:
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)

    code, output = finish(worker)
    assert code == 0, output
    assert "got SIGTERM" in log.read_text()
    (job,) = training_jobs(sm, name)
    assert job["TrainingJobStatus"] == "Stopped"
    status = describe(sm, name)["HyperParameterTuningJobStatus"]
    assert status == ("Completed" if how == "StopTrainingJob" else "Stopped")


def test_sigterm_gives_running_jobs_back_and_another_worker_runs_them(
    service: LocalService, tmp_path: Path
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("sigterm")
    gate = tmp_path / "gate"
    # No RetryStrategy: giving a job back is not a failure and needs none.
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, max_jobs=2, parallel=2, static={"mode": "wait", "gate": str(gate)})
    )
    worker = start_worker(service.url, name, tmp_path / "jobs", concurrency=2)
    wait_for("two running jobs", lambda: len(training_jobs(sm, name)) == 2 or None)
    before = {
        job["TrainingJobName"]: job["TunedHyperParameters"] for job in training_jobs(sm, name)
    }

    def script_waits(log: Path) -> bool:
        return log.exists() and "waiting" in log.read_text()

    for job_name in before:
        log = tmp_path / "jobs" / job_name / "training.log"
        wait_for("the script to run", partial(script_waits, log))

    worker.send_signal(signal.SIGTERM)
    code, output = finish(worker)

    assert code == 128 + signal.SIGTERM, output
    for job in training_jobs(sm, name):
        assert job["TrainingJobStatus"] == "InProgress"
        detail = sm.describe_training_job(TrainingJobName=job["TrainingJobName"])
        assert detail["SecondaryStatus"] == "Restarting"
    counters = describe(sm, name)["TrainingJobStatusCounters"]
    assert counters["RetryableError"] == 0 and counters["InProgress"] == 2

    gate.write_text("go")
    code, output = finish(start_worker(service.url, name, tmp_path / "jobs2", concurrency=2))

    assert code == 0, output
    after = {job["TrainingJobName"]: job for job in training_jobs(sm, name)}
    # The same two training jobs, same hyperparameters, run to the end: no budget was spent.
    assert {n: j["TunedHyperParameters"] for n, j in after.items()} == before
    assert {j["TrainingJobStatus"] for j in after.values()} == {"Completed"}
    assert describe(sm, name)["HyperParameterTuningJobStatus"] == "Completed"


def test_worker_and_service_restarted_mid_job_lose_no_result(
    own_service: LocalService, tmp_path: Path
) -> None:
    sm = amtune.sdk.client(endpoint_url=own_service.url, max_attempts=1)
    name = unique_name("restart")
    gate = tmp_path / "gate"
    workdir = tmp_path / "jobs"
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, max_jobs=1, parallel=1, static={"mode": "gate", "gate": str(gate)})
    )
    first = start_worker(own_service.url, name, workdir, worker_id="first")
    (job,) = wait_for("a running job", lambda: training_jobs(sm, name))
    job_dir = workdir / job["TrainingJobName"]
    log = job_dir / "training.log"
    wait_for("the script to run", lambda: log.exists() and "waiting" in log.read_text())

    # The service goes away; meanwhile training finishes. The worker keeps the result on disk.
    own_service.stop()
    gate.touch()
    outbox = job_dir / "amtune-outbox.json"
    wait_for("the result in the outbox", outbox.exists)
    assert json.loads(outbox.read_text())["action"] == "complete"

    # The worker dies too, before it could deliver.
    first.kill()
    finish(first)

    own_service.start()
    second = start_worker(own_service.url, name, workdir, worker_id="second")
    code, output = finish(second)

    assert code == 0, output
    assert not outbox.exists()
    (job,) = training_jobs(sm, name)
    assert job["TrainingJobStatus"] == "Completed"
    value = job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert value == pytest.approx(expected_objective(job["TunedHyperParameters"]))
    assert describe(sm, name)["HyperParameterTuningJobStatus"] == "Completed"


def test_opt_ml_points_a_hard_coded_path_at_the_job(service: LocalService, tmp_path: Path) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("optml")
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=2, parallel=1))
    link = tmp_path / "opt" / "ml"  # stands in for /opt/ml, which needs root here
    hard_coded = (
        "import json;"
        f"hps = json.load(open('{link}/input/config/hyperparameters.json'));"
        f"open('{link}/model/x.txt', 'w').write(hps['x']);"
        "print('final validation:accuracy=' + hps['x'])"
    )
    worker = start_worker(
        service.url,
        name,
        tmp_path / "jobs",
        extra=["--opt-ml", str(link), "--no-hyperparameter-args"],
        command=[sys.executable, "-c", hard_coded],
    )
    code, output = finish(worker)
    assert code == 0, output
    for job in training_jobs(sm, name):
        assert job["TrainingJobStatus"] == "Completed"
        x = job["TunedHyperParameters"]["x"]
        assert job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(
            float(x)
        )
        # Each job wrote through the link into its own directory.
        assert (tmp_path / "jobs" / job["TrainingJobName"] / "model" / "x.txt").read_text() == x
    assert link.is_symlink()


def test_service_restart_mid_job_is_ridden_out(own_service: LocalService, tmp_path: Path) -> None:
    sm = amtune.sdk.client(endpoint_url=own_service.url, max_attempts=1)
    name = unique_name("ride")
    gate = tmp_path / "gate"
    workdir = tmp_path / "jobs"
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, max_jobs=1, parallel=1, static={"mode": "gate", "gate": str(gate)})
    )
    worker = start_worker(own_service.url, name, workdir)
    (job,) = wait_for("a running job", lambda: training_jobs(sm, name))
    log = workdir / job["TrainingJobName"] / "training.log"
    wait_for("the script to run", lambda: log.exists() and "waiting" in log.read_text())

    own_service.stop()
    lines = len(log.read_text().splitlines())
    wait_for(
        "output while the service is down", lambda: len(log.read_text().splitlines()) > lines + 5
    )
    own_service.start()
    gate.touch()

    code, output = finish(worker)
    assert code == 0, output
    (job,) = training_jobs(sm, name)
    assert job["TrainingJobStatus"] == "Completed"
    value = job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert value == pytest.approx(expected_objective(job["TunedHyperParameters"]))
    assert "unreachable" in output  # the outage was noticed (and ridden out)


def test_unknown_tuning_job_is_a_usage_error(service: LocalService, tmp_path: Path) -> None:
    code, output = finish(start_worker(service.url, "no-such-job", tmp_path))
    assert code == 2, output
    assert "ResourceNotFound" in output


def test_a_worker_for_an_ended_tuning_job_exits_0_at_once(
    service: LocalService, tmp_path: Path
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("ended")
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=1, parallel=1))
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    wait_for(
        "the tuning job to stop",
        lambda: describe(sm, name)["HyperParameterTuningJobStatus"] == "Stopped",
    )
    code, output = finish(start_worker(service.url, name, tmp_path))
    assert code == 0, output
    assert "has ended" in output
    assert training_jobs(sm, name) == []
