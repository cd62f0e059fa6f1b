"""Autotune.Mode=Enabled: the service chooses what the request leaves open, keeps the rest,
and Describe shows what it chose."""

from __future__ import annotations

from typing import Any

import pytest

from amtune.app.errors import ValidationError
from amtune.app.service import Tuner
from amtune.store.database import Database
from tests.app.requests import sdk_style_request
from tests.service.clients import finish_training_jobs
from tests.service.protocol import RestWorker

OBJECTIVE = "validation:accuracy"
HINTS = [
    {"Name": "eta", "ValueHint": "0.1"},
    {"Name": "max_depth", "ValueHint": "6"},
    {"Name": "use_gpu", "ValueHint": "false"},
]


def autotuned(name: str, **limits: int) -> dict[str, Any]:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    request["Autotune"] = {"Mode": "Enabled"}
    config = request["HyperParameterTuningJobConfig"]
    config["Strategy"] = "Random"
    config["ResourceLimits"] = {"MaxParallelTrainingJobs": 1, **limits}
    config["ParameterRanges"] = {
        "AutoParameters": HINTS,
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
    }
    return request


def test_autotune_chooses_ranges_budget_and_convergence_and_keeps_the_rest(tuner: Tuner) -> None:
    tuner.create_tuning_job(tuner.default_caller(), autotuned("auto"))
    config = tuner.describe_tuning_job(tuner.default_caller(), "auto")[
        "HyperParameterTuningJobConfig"
    ]
    ranges = config["ParameterRanges"]
    assert ranges["AutoParameters"] == HINTS
    assert ranges["ContinuousParameterRanges"] == [
        {"Name": "eta", "MinValue": "0.01", "MaxValue": "1.0", "ScalingType": "Logarithmic"}
    ]
    assert ranges["IntegerParameterRanges"] == [
        {"Name": "max_depth", "MinValue": "1", "MaxValue": "24", "ScalingType": "Logarithmic"}
    ]
    assert ranges["CategoricalParameterRanges"] == [
        {"Name": "booster", "Values": ["gbtree", "dart"]},  # the user's own range, kept
        {"Name": "use_gpu", "Values": ["false", "true"]},
    ]
    assert config["ResourceLimits"] == {
        "MaxParallelTrainingJobs": 1,
        "MaxNumberOfTrainingJobs": 40,  # 10 per tuned hyperparameter
    }
    assert config["TuningJobCompletionCriteria"] == {
        "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}
    }
    assert config["Strategy"] == "Random"
    assert config["TrainingJobEarlyStoppingType"] == "Off"


def test_autotune_keeps_every_value_the_user_set(tuner: Tuner) -> None:
    request = autotuned("kept", MaxNumberOfTrainingJobs=3)
    config = request["HyperParameterTuningJobConfig"]
    config["TuningJobCompletionCriteria"] = {
        "ConvergenceDetected": {"CompleteOnConvergence": "Disabled"}
    }
    tuner.create_tuning_job(tuner.default_caller(), request)
    described = tuner.describe_tuning_job(tuner.default_caller(), "kept")
    shown = described["HyperParameterTuningJobConfig"]
    assert shown["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 3
    assert shown["TuningJobCompletionCriteria"] == config["TuningJobCompletionCriteria"]
    assert described["Autotune"] == {"Mode": "Enabled"}


def test_autotune_still_needs_an_objective(tuner: Tuner) -> None:
    request = autotuned("blind", MaxNumberOfTrainingJobs=3)
    del request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    with pytest.raises(ValidationError) as refused:
        tuner.create_tuning_job(tuner.default_caller(), request)
    assert "hyperParameterTuningJobConfig.hyperParameterTuningJobObjective" in refused.value.message


def test_auto_parameters_without_autotune_are_still_refused(tuner: Tuner) -> None:
    request = autotuned("manual", MaxNumberOfTrainingJobs=3)
    del request["Autotune"]
    with pytest.raises(ValidationError) as refused:
        tuner.create_tuning_job(tuner.default_caller(), request)
    assert "autoParameters" in refused.value.message


def test_autotuned_job_runs_in_its_chosen_ranges_through_boto3(sm: Any, live_server: Any) -> None:
    sm.create_hyper_parameter_tuning_job(**autotuned("boto-auto", MaxNumberOfTrainingJobs=6))
    finished = finish_training_jobs(live_server.url, "boto-auto", OBJECTIVE, lambda hp: 0.5)
    assert len(finished) == 6
    for job in finished:
        assert 0.01 <= float(job.hyperparameters["eta"]) <= 1.0
        assert 1 <= int(job.hyperparameters["max_depth"]) <= 24
        assert job.hyperparameters["use_gpu"] in {"false", "true"}
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="boto-auto")
    assert described["Autotune"] == {"Mode": "Enabled"}
    assert described["HyperParameterTuningJobStatus"] == "Completed"


def left_open(name: str, *, epochs: str | None = None) -> dict[str, Any]:
    """An autotuned request that leaves the strategy, the parallel limit and early stopping to
    Autotune (boto3's model requires the first two; the client below skips that check)."""
    request = autotuned(name)
    config = request["HyperParameterTuningJobConfig"]
    del config["Strategy"], config["ResourceLimits"], config["TrainingJobEarlyStoppingType"]
    if epochs is not None:
        request["TrainingJobDefinition"]["StaticHyperParameters"]["epochs"] = epochs
    return request


def unchecked_boto3(live_server: Any) -> Any:
    """boto3 as a user who leaves required members to Autotune configures it."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sagemaker",
        endpoint_url=live_server.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def test_autotune_picks_hyperband_for_a_training_with_epochs(live_server: Any) -> None:
    """An epoch count is what Hyperband's rungs divide: Autotune picks Hyperband, the whole
    budget up to 10 in parallel and no other early stopping, and Describe shows all three; the
    jobs then run as Hyperband's (told to stop at MaxResource, the epoch count)."""
    sm = unchecked_boto3(live_server)
    sm.create_hyper_parameter_tuning_job(**left_open("auto-hb", epochs="9"))
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="auto-hb")
    config = described["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Hyperband"
    assert config["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": 40,
        "MaxParallelTrainingJobs": 10,
    }
    assert config["TrainingJobEarlyStoppingType"] == "Off"
    assert described["Autotune"] == {"Mode": "Enabled"}
    worker = RestWorker(live_server.url)
    job = worker.claim_job("auto-hb")["TrainingJobName"]
    answers = [
        worker.http.post(
            f"/v1/training-jobs/{job}/metrics",
            json=worker.leased(
                job, {"Metrics": [{"MetricName": OBJECTIVE, "Value": 0.5, "Step": step}]}
            ),
        ).json()["StopRequested"]
        for step in range(1, 10)
    ]
    assert answers == [False] * 8 + [True]


def test_autotune_picks_bayesian_without_an_epoch_count(live_server: Any) -> None:
    sm = unchecked_boto3(live_server)
    sm.create_hyper_parameter_tuning_job(**left_open("auto-bayes"))
    config = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="auto-bayes")[
        "HyperParameterTuningJobConfig"
    ]
    assert config["Strategy"] == "Bayesian"
    # A tenth of the budget at once: the model sees about nine rounds of results.
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 40, "MaxParallelTrainingJobs": 4}
    assert config["TrainingJobEarlyStoppingType"] == "Off"
    finished = finish_training_jobs(
        live_server.url, "auto-bayes", OBJECTIVE, lambda hp: 0.5, limit=2
    )
    assert len(finished) == 2


def test_autotune_picks_early_stopping_for_the_users_strategy_and_keeps_the_rest(
    sm: Any, live_server: Any
) -> None:
    """With the strategy and limits set (as boto3 requires), Autotune picks only the
    early-stopping type: the median rule for a training with epochs. A value the user set is
    kept, Off included."""
    request = autotuned("auto-es", MaxNumberOfTrainingJobs=6)
    config = request["HyperParameterTuningJobConfig"]
    config["Strategy"] = "Bayesian"
    del config["TrainingJobEarlyStoppingType"]
    request["TrainingJobDefinition"]["StaticHyperParameters"]["epochs"] = "9"
    sm.create_hyper_parameter_tuning_job(**request)
    shown = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="auto-es")[
        "HyperParameterTuningJobConfig"
    ]
    assert shown["Strategy"] == "Bayesian"
    assert shown["TrainingJobEarlyStoppingType"] == "Auto"
    assert shown["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 1}
    request["HyperParameterTuningJobName"] = "auto-es-off"
    config["TrainingJobEarlyStoppingType"] = "Off"
    sm.create_hyper_parameter_tuning_job(**request)
    kept = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="auto-es-off")
    assert kept["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] == "Off"


def test_without_autotune_a_missing_strategy_is_refused(live_server: Any) -> None:
    sm = unchecked_boto3(live_server)
    request = left_open("manual-open")
    del request["Autotune"]
    request["HyperParameterTuningJobConfig"]["ParameterRanges"] = {
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}]
    }
    with pytest.raises(sm.exceptions.ClientError) as refused:
        sm.create_hyper_parameter_tuning_job(**request)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "hyperParameterTuningJobConfig" in error["Message"]


def test_autotune_keeps_its_parallel_choice_within_the_quota(
    settings: Any, shared_databases: Any, clock: Any
) -> None:
    """Autotune would run a Hyperband budget ten at a time; with a quota of three parallel
    training jobs it picks three instead of choosing a value the create then refuses."""
    low = settings.model_copy(update={"max_parallel_training_jobs": 3})
    db = shared_databases.get(low.database_url)
    if db is None:
        db = shared_databases[low.database_url] = Database(low.database_url)
    tuner = Tuner(low, db=db, clock=clock)
    tuner.create_tuning_job(tuner.default_caller(), left_open("quota-hb", epochs="9"))
    config = tuner.describe_tuning_job(tuner.default_caller(), "quota-hb")[
        "HyperParameterTuningJobConfig"
    ]
    assert config["Strategy"] == "Hyperband"
    assert config["ResourceLimits"]["MaxParallelTrainingJobs"] == 3
