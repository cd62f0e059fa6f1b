"""Autotune.Mode=Enabled: the service chooses what the request leaves open, keeps the rest,
and Describe shows what it chose."""

from __future__ import annotations

from typing import Any

import pytest

from amtune.app.errors import ValidationError
from amtune.app.service import Tuner
from tests.app.requests import sdk_style_request
from tests.service.clients import finish_training_jobs

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
