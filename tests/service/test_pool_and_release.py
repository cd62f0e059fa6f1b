"""Pool claims (one fleet, many tuning jobs) and giving a training job back, through the
application layer on a real database (SQLite and PostgreSQL) with a hand-moved clock."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from amtune.app.claims import Wait
from amtune.app.errors import Conflict, ValidationError
from amtune.app.pool import PoolClaim
from amtune.app.reports import MetricPoint
from amtune.app.service import Tuner
from tests.conftest import FakeClock
from tests.service.test_lifecycle import (
    OBJECTIVE,
    TOKENS,
    claim,
    describe,
    finish,
    make_job,
    training,
)

IMAGE = "123.dkr.ecr.us-east-1.amazonaws.com/img:latest"
OTHER_IMAGE = "123.dkr.ecr.us-east-1.amazonaws.com/other:2"


def pool_claim(tuner: Tuner, worker: str, images: list[str] | None = None) -> PoolClaim:
    outcome = tuner.claim_any(tuner.default_caller(), worker, images)
    assert isinstance(outcome, PoolClaim), outcome
    TOKENS[outcome.claim.training_job_name] = outcome.claim.lease_token
    return outcome


def with_image(image: str) -> dict[str, Any]:
    return {
        "AlgorithmSpecification": {
            "TrainingInputMode": "File",
            "TrainingImage": image,
            "MetricDefinitions": [{"Name": OBJECTIVE, "Regex": "acc=([0-9.]+)"}],
        }
    }


def test_pool_serves_the_fewest_running_first_then_the_oldest(
    tuner: Tuner, clock: FakeClock
) -> None:
    for name in ("first", "second", "third"):
        make_job(tuner, name, max_jobs=6, parallel=3)
        clock.advance(1)

    served = [pool_claim(tuner, f"w{i}").tuning_job_name for i in range(6)]

    assert served == ["first", "second", "third"] * 2


def test_pool_claim_names_its_tuning_job_and_runs_like_a_single_claim(tuner: Tuner) -> None:
    make_job(tuner, "solo", max_jobs=1, parallel=1)

    got = pool_claim(tuner, "w1")
    rendered = got.render()

    assert rendered["TuningJobName"] == "solo"
    assert rendered["TrainingJobName"] == got.claim.training_job_name
    assert rendered["HyperParameters"]["_tuning_objective_metric"] == OBJECTIVE
    finish(tuner, got.claim.training_job_name, 0.5)
    assert describe(tuner, "solo")["HyperParameterTuningJobStatus"] == "Completed"


def test_pool_respects_max_parallel_and_waits_quietly_when_nothing_can_start(
    tuner: Tuner, clock: FakeClock
) -> None:
    make_job(tuner, "narrow", max_jobs=5, parallel=1)
    clock.advance(1)
    make_job(tuner, "wide", max_jobs=5, parallel=2)

    served = Counter(pool_claim(tuner, f"w{i}").tuning_job_name for i in range(3))
    idle = tuner.claim_any(tuner.default_caller(), "w9")

    assert served == {"narrow": 1, "wide": 2}
    assert isinstance(idle, Wait) and idle.retry_after > 0


def test_pool_keeps_to_the_images_a_worker_can_run(tuner: Tuner, clock: FakeClock) -> None:
    make_job(tuner, "mine", max_jobs=2, parallel=2, **with_image(IMAGE))
    clock.advance(1)
    make_job(tuner, "theirs", max_jobs=2, parallel=2, **with_image(OTHER_IMAGE))

    served = {pool_claim(tuner, f"w{i}", [IMAGE]).tuning_job_name for i in range(2)}

    assert served == {"mine"}
    assert isinstance(tuner.claim_any(tuner.default_caller(), "w3", [IMAGE]), Wait)
    assert pool_claim(tuner, "w4", [OTHER_IMAGE, "unused"]).tuning_job_name == "theirs"


def test_pool_never_hands_out_another_teams_jobs(tuner: Tuner) -> None:
    make_job(tuner, "private", max_jobs=2, parallel=2)
    from amtune.app.context import Caller

    stranger = Caller(account_id="999999999999")
    assert isinstance(tuner.claim_any(stranger, "w1"), Wait)


@pytest.mark.parametrize(
    ("worker", "images", "path"),
    [("", None, "workerId"), ("w1", [], "images"), ("w1", ["x" * 256], "images.1.member")],
)
def test_pool_claim_input_is_checked(
    tuner: Tuner, worker: str, images: list[str] | None, path: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        tuner.claim_any(tuner.default_caller(), worker, images)
    assert f"at '{path}'" in caught.value.message


# --- giving a job back -------------------------------------------------------------------------


def test_a_released_job_runs_again_with_the_same_hyperparameters_and_no_budget_used(
    tuner: Tuner,
) -> None:
    make_job(tuner, "giveback", max_jobs=2, parallel=1)
    caller = tuner.default_caller()
    first = claim(tuner, "giveback", "leaving")
    name = first.training_job_name
    tuner.report_metrics(caller, name, first.lease_token, [MetricPoint(OBJECTIVE, 0.1)])

    answer = tuner.release(caller, name, first.lease_token)

    assert answer == {"TrainingJobStatus": "InProgress"}
    described = training(tuner, name)
    assert described["SecondaryStatus"] == "Restarting"
    assert "leaving" in described["SecondaryStatusTransitions"][-1]["StatusMessage"]
    again = claim(tuner, "giveback", "staying")
    assert again.training_job_name == name
    assert again.hyperparameters == first.hyperparameters
    # The worker that gave it back holds it no more.
    with pytest.raises(Conflict):
        tuner.heartbeat(caller, name, first.lease_token)
    finish(tuner, name, 0.9)
    second = claim(tuner, "giveback", "staying")
    assert second.training_job_name != name
    finish(tuner, second.training_job_name, 0.4)
    tuning = describe(tuner, "giveback")
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert tuning["TrainingJobStatusCounters"] == {
        "Completed": 2,
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 0,
    }
    assert tuning["BestTrainingJob"]["TrainingJobName"] == name


def test_a_job_told_to_stop_ends_stopped_when_given_back(tuner: Tuner) -> None:
    make_job(tuner, "stopgive", max_jobs=2, parallel=1)
    caller = tuner.default_caller()
    job = claim(tuner, "stopgive")
    tuner.stop_training_job(caller, job.training_job_name)

    assert tuner.release(caller, job.training_job_name, job.lease_token) == {
        "TrainingJobStatus": "Stopped"
    }


def test_only_the_holder_can_give_a_job_back(tuner: Tuner) -> None:
    make_job(tuner, "holder", max_jobs=1, parallel=1)
    name = claim(tuner, "holder", "owner").training_job_name

    with pytest.raises(Conflict):
        tuner.release(tuner.default_caller(), name, "another-workers-token")
    assert training(tuner, name)["SecondaryStatus"] == "Training"
