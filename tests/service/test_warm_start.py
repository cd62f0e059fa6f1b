"""WarmStartConfig: a tuning job starts from what its parents learned.

Through the application layer on SQLite and PostgreSQL, and end to end through boto3 and a
REST worker.
"""

from __future__ import annotations

from typing import Any

import pytest

from amtune.app.claims import Claim
from amtune.app.errors import Conflict, ResourceNotFound, ValidationError
from amtune.app.reports import MetricPoint
from amtune.app.service import Tuner
from tests.app.requests import sdk_style_request
from tests.service.clients import finish_training_jobs

OBJECTIVE = "validation:accuracy"
INTEGER_X = {"IntegerParameterRanges": [{"Name": "x", "MinValue": "1", "MaxValue": "12"}]}
CONTINUOUS_X = {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}


def request_for(
    name: str,
    *,
    ranges: dict[str, Any],
    max_jobs: int,
    parents: list[str] | None = None,
    kind: str = "IdenticalDataAndAlgorithm",
    objective_type: str = "Maximize",
    strategy: str = "Bayesian",
) -> dict[str, Any]:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    config = request["HyperParameterTuningJobConfig"]
    if strategy == "Hyperband":
        config["StrategyConfig"] = {"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}}
    config.update(
        Strategy=strategy,
        RandomSeed=11,
        ResourceLimits={"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": 1},
        ParameterRanges=ranges,
    )
    config["HyperParameterTuningJobObjective"]["Type"] = objective_type
    request["TrainingJobDefinition"]["StaticHyperParameters"] = {
        "num_round": "100",
        "objective": "binary:logistic",
        "booster": "gbtree",
        "eta": "0.1",
        "subsample": "0.8",
    }
    if parents is not None:
        request["WarmStartConfig"] = {
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": p} for p in parents],
            "WarmStartType": kind,
        }
    return request


def create(tuner: Tuner, request: dict[str, Any]) -> None:
    tuner.create_tuning_job(tuner.default_caller(), request)


def describe(tuner: Tuner, name: str) -> dict[str, Any]:
    return tuner.describe_tuning_job(tuner.default_caller(), name)


def run(tuner: Tuner, name: str, objective: Any) -> list[tuple[str, str, float]]:
    """Claim and complete until the tuning job ends: (job, x, value) in claim order."""
    caller = tuner.default_caller()
    done = []
    while describe(tuner, name)["HyperParameterTuningJobStatus"] == "InProgress":
        try:
            job = tuner.claim(caller, name, "w")
        except Conflict:  # the strategy found nothing new: the job ended on this claim
            break
        assert isinstance(job, Claim), job
        x = job.hyperparameters["x"]
        value = objective(x)
        token = job.lease_token
        tuner.report_metrics(caller, job.training_job_name, token, [MetricPoint(OBJECTIVE, value)])
        tuner.complete(caller, job.training_job_name, token)
        done.append((job.training_job_name, x, value))
    return done


def peak_at_9(x: str) -> float:
    return 1.0 - (float(x) - 9) ** 2 / 100


def test_a_missing_parent_is_not_found_and_nothing_is_stored(tuner: Tuner) -> None:
    with pytest.raises(ResourceNotFound) as missing:
        create(tuner, request_for("child", ranges=INTEGER_X, max_jobs=3, parents=["ghost"]))
    assert "ghost" in missing.value.message
    with pytest.raises(ResourceNotFound):
        describe(tuner, "child")


def test_a_running_parent_is_refused(tuner: Tuner) -> None:
    create(tuner, request_for("busy", ranges=INTEGER_X, max_jobs=3))
    with pytest.raises(ValidationError) as running:
        create(tuner, request_for("child", ranges=INTEGER_X, max_jobs=3, parents=["busy"]))
    assert "warmStartConfig.parentHyperParameterTuningJobs.1.member" in running.value.message
    assert "InProgress" in running.value.message


def test_identical_child_continues_the_parents_search(tuner: Tuner) -> None:
    create(tuner, request_for("parent-a", ranges=INTEGER_X, max_jobs=6))
    parent = run(tuner, "parent-a", peak_at_9)
    # The child may change its ranges, its budget and its static hyperparameters.
    child_request = request_for("child-a", ranges=INTEGER_X, max_jobs=6, parents=["parent-a"])
    child_request["TrainingJobDefinition"]["StaticHyperParameters"]["num_round"] = "200"
    create(tuner, child_request)
    child = run(tuner, "child-a", peak_at_9)
    parent_xs, child_xs = {x for _, x, _ in parent}, {x for _, x, _ in child}
    assert len(child) == 6 and not parent_xs & child_xs  # no parent config evaluated again
    described = describe(tuner, "child-a")
    assert described["WarmStartConfig"] == child_request["WarmStartConfig"]
    overall = described["OverallBestTrainingJob"]
    every = [(value, job, "parent-a") for job, _, value in parent] + [
        (value, job, "child-a") for job, _, value in child
    ]
    best_value, best_job, best_tuning = max(every)
    assert overall["TrainingJobName"] == best_job
    assert overall["TuningJobName"] == best_tuning
    assert overall["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == best_value
    assert described["BestTrainingJob"]["TuningJobName"] == "child-a"


def test_overall_best_can_be_the_parents(tuner: Tuner) -> None:
    create(tuner, request_for("good-parent", ranges=INTEGER_X, max_jobs=3))
    parent = run(tuner, "good-parent", lambda x: 10.0 + float(x))
    create(tuner, request_for("weak-child", ranges=INTEGER_X, max_jobs=2, parents=["good-parent"]))
    run(tuner, "weak-child", lambda x: 0.0)
    overall = describe(tuner, "weak-child")["OverallBestTrainingJob"]
    assert overall["TrainingJobName"] == max(parent, key=lambda t: t[2])[0]
    assert overall["TuningJobName"] == "good-parent"


def test_identical_refuses_changes_to_data_and_algorithm_fields_amt_freezes(tuner: Tuner) -> None:
    create(tuner, request_for("frozen", ranges=INTEGER_X, max_jobs=2))
    run(tuner, "frozen", peak_at_9)
    isolated = request_for("child", ranges=INTEGER_X, max_jobs=2, parents=["frozen"])
    isolated["TrainingJobDefinition"]["EnableNetworkIsolation"] = True
    with pytest.raises(ValidationError) as refused:
        create(tuner, isolated)
    assert refused.value.message.startswith(
        "Only the following fields in TrainingJobDefinition are allowed to change: "
        "[algorithmSpecification, inputDataConfig"
    )
    # TransferLearning allows it, and also other data.
    isolated["WarmStartConfig"]["WarmStartType"] = "TransferLearning"
    create(tuner, isolated)
    assert "OverallBestTrainingJob" not in describe(tuner, "child")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda r: r["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"].update(
                MetricName="validation:auc"
            ),
            "objective metric",
        ),
        (
            lambda r: r["HyperParameterTuningJobConfig"].update(
                ParameterRanges={
                    "ContinuousParameterRanges": [{"Name": "x", "MinValue": "1", "MaxValue": "12"}]
                }
            ),
            "tuned as continuous here but as integer",
        ),
        (
            lambda r: r["TrainingJobDefinition"]["StaticHyperParameters"].update(extra="1"),
            "number of hyperparameters",
        ),
    ],
)
def test_both_kinds_keep_the_objective_and_each_hyperparameter_kind(
    tuner: Tuner, change: Any, words: str
) -> None:
    create(tuner, request_for("strict", ranges=INTEGER_X, max_jobs=2))
    run(tuner, "strict", peak_at_9)
    for kind in ("IdenticalDataAndAlgorithm", "TransferLearning"):
        request = request_for("kid", ranges=INTEGER_X, max_jobs=2, parents=["strict"], kind=kind)
        request["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"].append(
            {"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}
        )
        change(request)
        with pytest.raises(ValidationError) as refused:
            create(tuner, request)
        assert words in refused.value.message


def test_transfer_learning_starts_where_the_related_parent_peaked(tuner: Tuner) -> None:
    """The parent measured the same shape on a scale a thousand times larger (and minimised its
    negation); the child, on a shifted copy, starts from the model, near the parent's peak,
    where a cold job starts from a quasi-random design point."""
    parent = request_for("big-scale", ranges=CONTINUOUS_X, max_jobs=12, objective_type="Minimize")
    create(tuner, parent)
    run(tuner, "big-scale", lambda x: 1000.0 * (float(x) - 0.7) ** 2)
    child = request_for(
        "shifted", ranges=CONTINUOUS_X, max_jobs=3, parents=["big-scale"], kind="TransferLearning"
    )
    child["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] += "-v2"
    create(tuner, child)
    first = run(tuner, "shifted", lambda x: 5.0 - (float(x) - 0.68) ** 2)[0]
    assert abs(float(first[1]) - 0.7) < 0.1, first
    cold = request_for("cold", ranges=CONTINUOUS_X, max_jobs=1)
    create(tuner, cold)
    cold_first = run(tuner, "cold", lambda x: 5.0 - (float(x) - 0.68) ** 2)[0]
    assert abs(float(cold_first[1]) - 0.7) > 0.1


@pytest.mark.parametrize("strategy", ["Bayesian", "Random", "Hyperband"])
@pytest.mark.parametrize("kind", ["IdenticalDataAndAlgorithm", "TransferLearning"])
def test_a_warm_child_never_evaluates_a_parent_configuration_again(
    tuner: Tuner, strategy: str, kind: str
) -> None:
    """Whatever the strategy and the kind of warm start, the child's budget goes to
    configurations its parent did not try: of the twelve values of x the parent tried eight,
    and a child allowed eight more gets the four left and then completes."""
    parent_name, child_name = f"p-{strategy}-{kind}"[:32], f"c-{strategy}-{kind}"[:32]
    create(tuner, request_for(parent_name, ranges=INTEGER_X, max_jobs=8, strategy=strategy))
    parent_xs = {x for _, x, _ in run(tuner, parent_name, peak_at_9)}
    assert len(parent_xs) == 8
    child = request_for(
        child_name,
        ranges=INTEGER_X,
        max_jobs=8,
        parents=[parent_name],
        kind=kind,
        strategy=strategy,
    )
    create(tuner, child)
    child_xs = [x for _, x, _ in run(tuner, child_name, peak_at_9)]
    assert sorted(child_xs, key=int) == sorted({str(x) for x in range(1, 13)} - parent_xs, key=int)
    assert describe(tuner, child_name)["HyperParameterTuningJobStatus"] == "Completed"


@pytest.mark.parametrize("kind", ["IdenticalDataAndAlgorithm", "TransferLearning"])
def test_a_warm_hyperband_child_starts_from_its_parents_final_values(
    tuner: Tuner, kind: str
) -> None:
    """Hyperband's model takes the parents' final values: the child's first configuration lies
    near the parents' best, none of theirs, where a cold Hyperband job starts from its
    quasi-random design point."""
    parent = request_for("hb-parent", ranges=CONTINUOUS_X, max_jobs=10, strategy="Hyperband")
    create(tuner, parent)
    tried = run(tuner, "hb-parent", lambda x: 1.0 - (float(x) - 0.7) ** 2)
    best_x = float(max(tried, key=lambda t: t[2])[1])
    child = request_for(
        "hb-child",
        ranges=CONTINUOUS_X,
        max_jobs=1,
        parents=["hb-parent"],
        kind=kind,
        strategy="Hyperband",
    )
    create(tuner, child)
    first = run(tuner, "hb-child", lambda x: 1.0 - (float(x) - 0.7) ** 2)[0]
    assert abs(float(first[1]) - best_x) < 0.1, (first, best_x)
    assert first[1] not in {x for _, x, _ in tried}
    create(tuner, request_for("hb-cold", ranges=CONTINUOUS_X, max_jobs=1, strategy="Hyperband"))
    cold_first = run(tuner, "hb-cold", lambda x: 1.0 - (float(x) - 0.7) ** 2)[0]
    assert abs(float(cold_first[1]) - best_x) > 0.1, (cold_first, best_x)


def test_parent_trials_inside_narrower_ranges_count_and_the_rest_are_dropped(
    tuner: Tuner,
) -> None:
    """The child's range holds only part of the parent's: the parent's trials inside it are
    not evaluated again, those outside it are dropped (never clipped onto the bound), and the
    child ends once nothing new is left in its range."""
    create(tuner, request_for("wide", ranges=INTEGER_X, max_jobs=8))
    parent_xs = {int(x) for _, x, _ in run(tuner, "wide", peak_at_9)}
    narrow = {"IntegerParameterRanges": [{"Name": "x", "MinValue": "1", "MaxValue": "6"}]}
    create(tuner, request_for("narrow", ranges=narrow, max_jobs=6, parents=["wide"]))
    child_xs = [int(x) for _, x, _ in run(tuner, "narrow", peak_at_9)]
    assert sorted(child_xs) == sorted(set(range(1, 7)) - parent_xs)
    assert describe(tuner, "narrow")["HyperParameterTuningJobStatus"] == "Completed"


def test_identical_warm_start_end_to_end_through_boto3(sm: Any, live_server: Any) -> None:
    parent = request_for("boto-parent", ranges=INTEGER_X, max_jobs=5)
    sm.create_hyper_parameter_tuning_job(**parent)
    first = finish_training_jobs(
        live_server.url, "boto-parent", OBJECTIVE, lambda p: peak_at_9(p["x"])
    )
    child = request_for("boto-child", ranges=INTEGER_X, max_jobs=4, parents=["boto-parent"])
    sm.create_hyper_parameter_tuning_job(**child)
    second = finish_training_jobs(
        live_server.url, "boto-child", OBJECTIVE, lambda p: peak_at_9(p["x"])
    )
    assert not {j.hyperparameters["x"] for j in first} & {j.hyperparameters["x"] for j in second}
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="boto-child")
    assert described["WarmStartConfig"]["WarmStartType"] == "IdenticalDataAndAlgorithm"
    best = max([*first, *second], key=lambda j: j.objective)
    assert described["OverallBestTrainingJob"]["TrainingJobName"] == best.name
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.create_hyper_parameter_tuning_job(
            **request_for("boto-orphan", ranges=INTEGER_X, max_jobs=2, parents=["nobody"])
        )


def test_a_transfer_hyperband_child_through_boto3_skips_its_parents_configurations(
    sm: Any, live_server: Any
) -> None:
    parent = request_for("hb-boto-parent", ranges=INTEGER_X, max_jobs=8, strategy="Hyperband")
    sm.create_hyper_parameter_tuning_job(**parent)
    first = finish_training_jobs(
        live_server.url, "hb-boto-parent", OBJECTIVE, lambda p: peak_at_9(p["x"])
    )
    child = request_for(
        "hb-boto-child",
        ranges=INTEGER_X,
        max_jobs=8,
        parents=["hb-boto-parent"],
        kind="TransferLearning",
        strategy="Hyperband",
    )
    sm.create_hyper_parameter_tuning_job(**child)
    second = finish_training_jobs(
        live_server.url, "hb-boto-child", OBJECTIVE, lambda p: peak_at_9(p["x"])
    )
    parent_xs = {j.hyperparameters["x"] for j in first}
    assert len(parent_xs) == 8
    assert sorted(int(j.hyperparameters["x"]) for j in second) == sorted(
        set(range(1, 13)) - {int(x) for x in parent_xs}
    )
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="hb-boto-child")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["HyperParameterTuningJobConfig"]["Strategy"] == "Hyperband"
