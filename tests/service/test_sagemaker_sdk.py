"""The SageMaker Python SDK v2, unmodified, against amtune.

A data scientist's notebook: an ``Estimator`` for a custom image, a ``HyperparameterTuner``,
``fit(wait=False)``; workers (here, the test itself over the worker protocol) run the training
jobs; then the SDK's own analytics, ``best_training_job()`` and ``attach()``.

The SDK must work with no AWS behind it: static keys, a default bucket so it never asks S3 or
STS for one, telemetry opted out through ``SAGEMAKER_USER_CONFIG_OVERRIDE``, and a guard
that refuses and records every connection not to the loopback interface, so a call the SDK
makes behind our back (and swallows) still fails the test.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.service.clients import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    TELEMETRY_OPT_OUT,
    finish_training_jobs,
    loopback_only,
)

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost-custom:1.7"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
OBJECTIVE = "validation:auc"
METRIC_DEFINITIONS = [
    {"Name": OBJECTIVE, "Regex": "validation-auc=([0-9\\.]+)"},
    {"Name": "train:loss", "Regex": "train-loss=([0-9\\.]+)"},
]


@dataclass
class Sdk:
    """The SDK modules and a Session aimed at the live server, imported under the guard."""

    sagemaker: Any
    session: Any
    url: str
    network_attempts: list[object]

    def env_session(self) -> Any:
        """A Session built with no endpoint in code: ``AWS_ENDPOINT_URL_SAGEMAKER`` does it."""
        import boto3

        return self.sagemaker.session.Session(
            boto_session=boto3.Session(region_name=REGION), default_bucket="bucket"
        )


@pytest.fixture
def sdk(live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sdk]:
    opt_out = tmp_path / "sagemaker-config.yaml"
    opt_out.write_text(TELEMETRY_OPT_OUT)
    empty = tmp_path / "empty-aws-config"
    empty.write_text("")
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(opt_out),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(opt_out),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        # The SDK builds a default Session at import time; without keys in the environment
        # botocore's credential chain would go looking on the instance-metadata endpoint.
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_SAGEMAKER": live_server.url,
        # TrainingJobAnalytics asks CloudWatch for a training job's curves; amtune answers it.
        "AWS_ENDPOINT_URL_CLOUDWATCH": live_server.url,
    }.items():
        monkeypatch.setenv(name, value)

    with loopback_only() as attempts:
        import boto3
        import sagemaker
        import sagemaker.analytics
        import sagemaker.estimator
        import sagemaker.inputs
        import sagemaker.session
        import sagemaker.tuner

        boto_session = boto3.Session(
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=REGION,
        )
        session = sagemaker.session.Session(
            boto_session=boto_session,
            sagemaker_client=boto_session.client("sagemaker", endpoint_url=live_server.url),
            default_bucket="bucket",
        )
        yield Sdk(sagemaker, session, live_server.url, attempts)


def estimator(sdk: Sdk) -> Any:
    return sdk.sagemaker.estimator.Estimator(
        image_uri=IMAGE,
        role=ROLE,
        instance_type="ml.m5.large",
        instance_count=1,
        output_path="s3://bucket/out",
        sagemaker_session=sdk.session,
        hyperparameters={"num_round": 50, "objective": "binary:logistic"},
    )


def auc(hyperparameters: dict[str, str]) -> float:
    """A deterministic stand-in for training: depends on every tuned value."""
    bonus = 0.05 if hyperparameters["booster"] == "dart" else 0.0
    eta = float(hyperparameters["eta"])
    return round(0.5 + int(hyperparameters["max_depth"]) / 40 + eta / 2 + bonus, 6)


def test_tuner_fit_analytics_best_and_attach(sdk: Sdk) -> None:
    tuner_module = sdk.sagemaker.tuner
    ranges = {
        "eta": tuner_module.ContinuousParameter(0.01, 0.3, scaling_type="Logarithmic"),
        "max_depth": tuner_module.IntegerParameter(3, 9),
        "booster": tuner_module.CategoricalParameter(["gbtree", "dart"]),
    }
    tuner = tuner_module.HyperparameterTuner(
        estimator(sdk),
        objective_metric_name=OBJECTIVE,
        hyperparameter_ranges=ranges,
        metric_definitions=METRIC_DEFINITIONS,
        strategy="Random",
        max_jobs=6,
        max_parallel_jobs=2,
    )
    train = sdk.sagemaker.inputs.TrainingInput("s3://bucket/train", content_type="text/csv")

    tuner.fit(
        inputs={"train": train, "validation": "s3://bucket/validation"},
        job_name="sdk-random",
        wait=False,
    )

    name = tuner.latest_tuning_job.name
    assert name == "sdk-random"
    described = tuner.describe()
    assert described["HyperParameterTuningJobStatus"] == "InProgress"
    config = described["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Random"
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2}
    assert config["ParameterRanges"]["ContinuousParameterRanges"] == [
        {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Logarithmic"}
    ]
    channels = described["TrainingJobDefinition"]["InputDataConfig"]
    assert [(c["ChannelName"], c["DataSource"]["S3DataSource"]["S3Uri"]) for c in channels] == [
        ("train", "s3://bucket/train"),
        ("validation", "s3://bucket/validation"),
    ]
    assert channels[0]["ContentType"] == "text/csv"

    finished = finish_training_jobs(sdk.url, name, OBJECTIVE, auc)

    assert len(finished) == 6
    for job in finished:
        # What the training container receives: static values, the tuned ones, the objective.
        assert job.hyperparameters["num_round"] == "50"
        assert job.hyperparameters["objective"] == "binary:logistic"
        assert job.hyperparameters["_tuning_objective_metric"] == OBJECTIVE
        assert 0.01 <= float(job.hyperparameters["eta"]) <= 0.3
        assert job.hyperparameters["max_depth"] in {str(n) for n in range(3, 10)}
        assert job.hyperparameters["booster"] in {"gbtree", "dart"}
    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Completed"

    frame = tuner.analytics().dataframe()
    assert len(frame) == 6
    rows = {row["TrainingJobName"]: row for row in frame.to_dict("records")}
    assert set(rows) == {job.name for job in finished}
    for job in finished:
        row = rows[job.name]
        assert row["TrainingJobStatus"] == "Completed"
        assert row["FinalObjectiveValue"] == job.objective
        assert math.isclose(row["eta"], float(job.hyperparameters["eta"]))
        assert row["max_depth"] == int(job.hyperparameters["max_depth"])
        assert row["booster"] == job.hyperparameters["booster"]
        assert row["TrainingElapsedTimeSeconds"] >= 0

    best = max(finished, key=lambda job: job.objective)
    assert tuner.best_training_job() == best.name

    attached = tuner_module.HyperparameterTuner.attach(name, sagemaker_session=sdk.env_session())
    assert attached.objective_metric_name == OBJECTIVE
    assert attached.objective_type == "Maximize"
    assert attached.strategy == "Random"
    assert attached.max_jobs == 6
    assert attached.max_parallel_jobs == 2
    assert attached.metric_definitions == METRIC_DEFINITIONS
    assert attached.best_training_job() == best.name
    # The SDK rebuilds ranges from MinValue/MaxValue/Values only (it drops ScalingType when
    # attaching, whatever the server returns), so compare what it keeps.
    rebuilt = attached.hyperparameter_ranges()
    assert rebuilt["ContinuousParameterRanges"] == [
        {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Auto"}
    ]
    assert rebuilt["IntegerParameterRanges"] == [
        {"Name": "max_depth", "MinValue": "3", "MaxValue": "9", "ScalingType": "Auto"}
    ]
    assert rebuilt["CategoricalParameterRanges"] == [
        {"Name": "booster", "Values": ["gbtree", "dart"]}
    ]
    attached_estimator = attached.estimator
    assert attached_estimator.image_uri == IMAGE
    assert attached_estimator.role == ROLE
    assert attached_estimator.instance_type == "ml.m5.large"
    assert attached_estimator.instance_count == 1
    assert attached_estimator.output_path == "s3://bucket/out"
    assert attached_estimator.hyperparameters() == {
        "num_round": "50",
        "objective": "binary:logistic",
    }

    assert sdk.network_attempts == []


def test_grid_tuner_runs_every_combination_once(sdk: Sdk) -> None:
    tuner_module = sdk.sagemaker.tuner
    tuner = tuner_module.HyperparameterTuner(
        estimator(sdk),
        objective_metric_name=OBJECTIVE,
        objective_type="Minimize",
        hyperparameter_ranges={
            "max_depth": tuner_module.CategoricalParameter(["3", "5", "7"]),
            "booster": tuner_module.CategoricalParameter(["gbtree", "dart"]),
        },
        metric_definitions=METRIC_DEFINITIONS[:1],
        strategy="Grid",
        # SDK 2.257 accepts max_jobs=None for Grid but then sends MaxNumberOfTrainingJobs=None,
        # which botocore rejects before any request is made; so a Grid user states the count.
        max_jobs=6,
        max_parallel_jobs=3,
    )

    tuner.fit(inputs="s3://bucket/train", job_name="sdk-grid", wait=False)

    limits = tuner.describe()["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert limits["MaxNumberOfTrainingJobs"] == 6
    finished = finish_training_jobs(
        sdk.url, "sdk-grid", OBJECTIVE, lambda hp: int(hp["max_depth"]) / 10
    )
    assert sorted(
        (job.hyperparameters["max_depth"], job.hyperparameters["booster"]) for job in finished
    ) == sorted((depth, booster) for depth in ("3", "5", "7") for booster in ("gbtree", "dart"))
    frame = tuner.analytics().dataframe()
    # The SDK's analytics turns every numeric-looking value into a float, categoricals too.
    combinations = sorted(zip(frame["max_depth"], frame["booster"], strict=True))
    assert combinations == sorted(
        (depth, booster) for depth in (3.0, 5.0, 7.0) for booster in ("gbtree", "dart")
    )
    lowest = min(frame["FinalObjectiveValue"])
    assert lowest == 0.3
    best = tuner.best_training_job()
    assert {job.name: job.objective for job in finished}[best] == lowest
    assert sdk.network_attempts == []


def test_best_estimator_attaches_the_best_training_job(sdk: Sdk) -> None:
    tuner_module = sdk.sagemaker.tuner
    tuner = tuner_module.HyperparameterTuner(
        estimator(sdk),
        objective_metric_name=OBJECTIVE,
        hyperparameter_ranges={
            "eta": tuner_module.ContinuousParameter(0.01, 0.3),
            "max_depth": tuner_module.IntegerParameter(3, 9),
            "booster": tuner_module.CategoricalParameter(["gbtree", "dart"]),
        },
        metric_definitions=METRIC_DEFINITIONS,
        strategy="Random",
        max_jobs=2,
        max_parallel_jobs=1,
    )
    tuner.fit(inputs="s3://bucket/train", job_name="sdk-best", wait=False)
    finished = finish_training_jobs(sdk.url, "sdk-best", OBJECTIVE, auc)
    best = max(finished, key=lambda job: job.objective)

    # Describe, then DescribeTrainingJob, from which the SDK rebuilds the estimator.
    best_estimator = tuner.best_estimator()

    assert best_estimator.latest_training_job.name == best.name
    assert best_estimator.image_uri == IMAGE
    assert best_estimator.role == ROLE
    assert best_estimator.instance_type == "ml.m5.large"
    assert best_estimator.output_path == "s3://bucket/out"
    hyperparameters = best_estimator.hyperparameters()
    for name in ("eta", "max_depth", "booster", "num_round"):
        assert hyperparameters[name] == best.hyperparameters[name]
    assert sdk.network_attempts == []


# --- jobs the SDK did not create: boto3 requests with one kind of range -----------------------

ONE_KIND_OF_RANGE: dict[str, dict[str, list[dict[str, str | list[str]]]]] = {
    "Random": {
        "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3"}]
    },
    "Grid": {"CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}]},
    "Bayesian": {
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "3", "MaxValue": "9"}]
    },
}


def one_kind_score(hyperparameters: dict[str, str]) -> float:
    value = hyperparameters.get("eta") or hyperparameters.get("max_depth") or "0"
    bonus = 0.1 if hyperparameters.get("booster") == "dart" else 0.0
    return round(0.5 + float(value) / 100 + bonus, 6)


@pytest.mark.parametrize("strategy", ["Random", "Grid", "Bayesian"])
def test_sdk_attaches_to_a_boto3_job_with_one_kind_of_range(sdk: Sdk, strategy: str) -> None:
    name = f"boto3-{strategy.lower()}"
    client = sdk.session.sagemaker_client
    # The least a boto3 user sends: no early-stopping type, one kind of range.
    client.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": OBJECTIVE},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": ONE_KIND_OF_RANGE[strategy],
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {
                "TrainingImage": IMAGE,
                "TrainingInputMode": "File",
                "MetricDefinitions": METRIC_DEFINITIONS[:1],
            },
            "RoleArn": ROLE,
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    )
    # Describe echoes what was given as AWS does: all three lists, empty where none was given.
    ranges = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
        "HyperParameterTuningJobConfig"
    ]["ParameterRanges"]
    given = ONE_KIND_OF_RANGE[strategy]
    for kind in (
        "IntegerParameterRanges",
        "ContinuousParameterRanges",
        "CategoricalParameterRanges",
    ):
        assert ranges[kind] == given.get(kind, [])

    finished = finish_training_jobs(sdk.url, name, OBJECTIVE, one_kind_score)
    assert len(finished) == 2
    best = max(finished, key=lambda job: job.objective)

    tuner_module = sdk.sagemaker.tuner
    attached = tuner_module.HyperparameterTuner.attach(name, sagemaker_session=sdk.session)
    assert attached.strategy == strategy
    assert attached.objective_metric_name == OBJECTIVE
    assert attached.early_stopping_type == "Off"
    assert attached.max_jobs == 2
    assert attached.best_training_job() == best.name
    assert list(attached.hyperparameter_ranges_dict() or attached.hyperparameter_ranges()) != []

    frame = attached.analytics().dataframe()
    assert sorted(frame["TrainingJobName"]) == sorted(job.name for job in finished)
    assert max(frame["FinalObjectiveValue"]) == best.objective
    tuned = next(iter(given.values()))[0]["Name"]
    assert isinstance(tuned, str) and tuned in frame.columns

    best_estimator = attached.best_estimator()
    assert best_estimator.latest_training_job.name == best.name
    assert best_estimator.hyperparameters()[tuned] == best.hyperparameters[tuned]
    assert best_estimator.instance_type == "ml.m5.large"
    # TrainingJobAnalytics: the job's window and metric names from DescribeTrainingJob, the
    # values from CloudWatch's GetMetricStatistics (amtune's, through the endpoint variable).
    curves = sdk.sagemaker.analytics.TrainingJobAnalytics(
        best.name, sagemaker_session=sdk.session
    ).dataframe()
    assert list(curves["metric_name"]) == [OBJECTIVE]
    assert list(curves["value"]) == [best.objective]
    assert list(curves["timestamp"]) == [0.0]
    assert sdk.network_attempts == []


def test_create_with_several_estimators_runs_attaches_and_analyses(sdk: Sdk) -> None:
    """``HyperparameterTuner.create()`` sends TrainingJobDefinitions: one per estimator, each
    with its own objective and ranges; jobs of both definitions are ranked together."""
    tuner_module = sdk.sagemaker.tuner
    other = sdk.sagemaker.estimator.Estimator(
        image_uri=IMAGE.replace("xgboost-custom", "lightgbm-custom"),
        role=ROLE,
        instance_type="ml.c5.xlarge",
        instance_count=1,
        output_path="s3://bucket/other",
        sagemaker_session=sdk.session,
    )
    tuner = tuner_module.HyperparameterTuner.create(
        estimator_dict={"xgb": estimator(sdk), "lgbm": other},
        objective_metric_name_dict={"xgb": OBJECTIVE, "lgbm": OBJECTIVE},
        hyperparameter_ranges_dict={
            "xgb": {"eta": tuner_module.ContinuousParameter(0.01, 0.3)},
            "lgbm": {"num_leaves": tuner_module.IntegerParameter(8, 64)},
        },
        metric_definitions_dict={"xgb": METRIC_DEFINITIONS[:1], "lgbm": METRIC_DEFINITIONS[:1]},
        strategy="Random",
        max_jobs=4,
        max_parallel_jobs=2,
    )
    tuner.fit(
        inputs={"xgb": "s3://bucket/train", "lgbm": "s3://bucket/train"},
        job_name="sdk-multi",
        wait=False,
        include_cls_metadata={},
    )
    described = tuner.describe()
    definitions = {d["DefinitionName"]: d for d in described["TrainingJobDefinitions"]}
    assert set(definitions) == {"xgb", "lgbm"}
    assert definitions["lgbm"]["HyperParameterRanges"]["IntegerParameterRanges"] == [
        {"Name": "num_leaves", "MinValue": "8", "MaxValue": "64", "ScalingType": "Auto"}
    ]
    assert definitions["lgbm"]["HyperParameterRanges"]["ContinuousParameterRanges"] == []

    def score(hyperparameters: dict[str, str]) -> float:
        if "eta" in hyperparameters:
            return round(float(hyperparameters["eta"]), 6)
        return round(int(hyperparameters["num_leaves"]) / 100, 6)

    finished = finish_training_jobs(sdk.url, "sdk-multi", OBJECTIVE, score)
    assert len(finished) == 4
    best = max(finished, key=lambda job: job.objective)
    assert tuner.best_training_job() == best.name

    frame = tuner.analytics().dataframe()
    assert sorted(frame["TrainingJobName"]) == sorted(job.name for job in finished)
    definition_of = {
        job.name: ("xgb" if "eta" in job.hyperparameters else "lgbm") for job in finished
    }
    assert dict(zip(frame["TrainingJobName"], frame["TrainingJobDefinitionName"], strict=True)) == (
        definition_of
    )

    attached = tuner_module.HyperparameterTuner.attach("sdk-multi", sagemaker_session=sdk.session)
    assert sorted(attached.estimator_dict) == ["lgbm", "xgb"]
    assert attached.estimator_dict["lgbm"].instance_type == "ml.c5.xlarge"
    assert attached.objective_metric_name_dict == {"xgb": OBJECTIVE, "lgbm": OBJECTIVE}
    assert attached.best_training_job() == best.name
    best_estimator = attached.best_estimator()
    assert best_estimator.latest_training_job.name == best.name
    assert sdk.network_attempts == []
