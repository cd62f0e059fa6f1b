"""The SageMaker Python SDK v2, unmodified: warm-start tuners, completion criteria, Autotune.

Reuses the guarded SDK fixture of ``test_sagemaker_sdk`` (no network but the loopback)."""

from __future__ import annotations

from typing import Any

from tests.service.clients import finish_training_jobs
from tests.service.test_sagemaker_sdk import (  # noqa: F401 (sdk is a fixture)
    METRIC_DEFINITIONS,
    OBJECTIVE,
    Sdk,
    auc,
    estimator,
    sdk,
)


def _tuner(sdk: Sdk, **options: Any) -> Any:  # noqa: F811
    tuner_module = sdk.sagemaker.tuner
    ranges = {
        "eta": tuner_module.ContinuousParameter(0.01, 0.3),
        "max_depth": tuner_module.IntegerParameter(3, 9),
        "booster": tuner_module.CategoricalParameter(["gbtree", "dart"]),
    }
    defaults = {
        "objective_metric_name": OBJECTIVE,
        "hyperparameter_ranges": ranges,
        "metric_definitions": METRIC_DEFINITIONS,
        "strategy": "Bayesian",
        "max_jobs": 4,
        "max_parallel_jobs": 1,
        "random_seed": 5,
    }
    return tuner_module.HyperparameterTuner(estimator(sdk), **{**defaults, **options})


def _key(hyperparameters: dict[str, str]) -> tuple[str, str, str]:
    return (hyperparameters["eta"], hyperparameters["max_depth"], hyperparameters["booster"])


def test_identical_and_transfer_learning_tuners(sdk: Sdk) -> None:  # noqa: F811
    parent = _tuner(sdk)
    parent.fit(inputs="s3://bucket/train", job_name="sdk-parent", wait=False)
    first = finish_training_jobs(sdk.url, "sdk-parent", OBJECTIVE, auc)

    identical = parent.identical_dataset_and_algorithm_tuner()
    # SDK 2.257's warm-start tuners do not copy the tuner's metric_definitions (a custom image
    # needs them), so the notebook sets them again.
    identical.metric_definitions = METRIC_DEFINITIONS
    identical.fit(inputs="s3://bucket/train", job_name="sdk-identical", wait=False)
    described = identical.describe()
    assert described["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "sdk-parent"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    second = finish_training_jobs(sdk.url, "sdk-identical", OBJECTIVE, auc)
    assert len(second) == 4
    assert not {_key(j.hyperparameters) for j in first} & {_key(j.hyperparameters) for j in second}
    overall = identical.describe()["OverallBestTrainingJob"]
    assert overall["TrainingJobName"] == max([*first, *second], key=lambda j: j.objective).name

    transfer = parent.transfer_learning_tuner(additional_parents={"sdk-identical"})
    transfer.metric_definitions = METRIC_DEFINITIONS
    transfer.fit(inputs="s3://bucket/other-data", job_name="sdk-transfer", wait=False)
    warm = transfer.describe()["WarmStartConfig"]
    assert warm["WarmStartType"] == "TransferLearning"
    assert {p["HyperParameterTuningJobName"] for p in warm["ParentHyperParameterTuningJobs"]} == {
        "sdk-parent",
        "sdk-identical",
    }
    third = finish_training_jobs(sdk.url, "sdk-transfer", OBJECTIVE, auc)
    assert len(third) == 4
    # The SDK's own view of a warm child survives attach().
    attached = sdk.sagemaker.tuner.HyperparameterTuner.attach(
        "sdk-transfer", sagemaker_session=sdk.env_session()
    )
    assert attached.warm_start_config.type.value == "TransferLearning"
    assert sdk.network_attempts == []


def test_completion_criteria_config(sdk: Sdk) -> None:  # noqa: F811
    criteria = sdk.sagemaker.tuner.TuningJobCompletionCriteriaConfig(
        max_number_of_training_jobs_not_improving=3, complete_on_convergence=True
    )
    tuner = _tuner(sdk, strategy="Random", max_jobs=30, completion_criteria_config=criteria)
    tuner.fit(inputs="s3://bucket/train", job_name="sdk-criteria", wait=False)
    finished = finish_training_jobs(sdk.url, "sdk-criteria", OBJECTIVE, lambda hp: 0.7)
    assert len(finished) == 4  # the first sets the best; three more do not improve it
    described = tuner.describe()
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["HyperParameterTuningJobConfig"]["TuningJobCompletionCriteria"] == {
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3},
        "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"},
    }
    assert described["TuningJobCompletionDetails"]["NumberOfTrainingJobsObjectiveNotImproving"] == 3
    attached = sdk.sagemaker.tuner.HyperparameterTuner.attach(
        "sdk-criteria", sagemaker_session=sdk.env_session()
    )
    kept = attached.completion_criteria_config
    assert kept.max_number_of_training_jobs_not_improving == 3
    assert kept.complete_on_convergence is True
    assert sdk.network_attempts == []


def test_autotune_true(sdk: Sdk) -> None:  # noqa: F811
    tuner = sdk.sagemaker.tuner.HyperparameterTuner(
        sdk.sagemaker.estimator.Estimator(
            image_uri=estimator(sdk).image_uri,
            role=estimator(sdk).role,
            instance_type="ml.m5.large",
            instance_count=1,
            output_path="s3://bucket/out",
            sagemaker_session=sdk.session,
            hyperparameters={"num_round": 50, "eta": 0.1, "max_depth": 6, "objective": "binary"},
        ),
        objective_metric_name=OBJECTIVE,
        hyperparameter_ranges={},  # required positionally by SDK 2.257; empty with autotune
        metric_definitions=METRIC_DEFINITIONS,
        strategy="Random",
        max_jobs=3,
        max_parallel_jobs=1,
        autotune=True,
        hyperparameters_to_keep_static=["num_round", "objective"],
    )
    tuner.fit(inputs="s3://bucket/train", job_name="sdk-autotune", wait=False)
    described = tuner.describe()
    assert described["Autotune"] == {"Mode": "Enabled"}
    ranges = described["HyperParameterTuningJobConfig"]["ParameterRanges"]
    assert {r["Name"] for r in ranges["AutoParameters"]} == {"eta", "max_depth"}
    assert [r["Name"] for r in ranges["ContinuousParameterRanges"]] == ["eta"]
    assert [r["Name"] for r in ranges["IntegerParameterRanges"]] == ["max_depth"]
    finished = finish_training_jobs(sdk.url, "sdk-autotune", OBJECTIVE, lambda hp: 0.5)
    assert len(finished) == 3
    for job in finished:
        assert job.hyperparameters["num_round"] == "50"
        assert 0.01 <= float(job.hyperparameters["eta"]) <= 1.0
        assert 1 <= int(job.hyperparameters["max_depth"]) <= 24
    assert sdk.network_attempts == []
