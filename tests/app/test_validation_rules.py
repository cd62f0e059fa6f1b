"""Rules beyond the catalogue rows: member patterns, multi-definition placement, duplicates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from amtune.app.errors import ValidationError
from amtune.app.validation import validate_create_tuning_job

from .requests import multi_definition_request, sdk_style_request

Request = dict[str, Any]
DEF = "trainingJobDefinition"
MULTI = "trainingJobDefinitions"


def _definition(request: Request) -> Any:
    return request["TrainingJobDefinition"]


def _config(request: Request) -> Any:
    return request["HyperParameterTuningJobConfig"]


def _error(value: str, path: str, constraint: str) -> str:
    return (
        f"1 validation error detected: Value {value} at '{path}' failed to satisfy "
        f"constraint: {constraint}"
    )


SINGLE: list[tuple[str, Callable[[Request], Any], str, str | None]] = [
    (
        "role arn",
        lambda r: _definition(r).update(RoleArn="arn:aws:iam::123:role/SageMakerRole"),
        f"{DEF}.roleArn",
        _error(
            "'arn:aws:iam::123:role/SageMakerRole'",
            f"{DEF}.roleArn",
            "Member must satisfy regular expression pattern: "
            "arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        ),
    ),
    (
        "s3 output path",
        lambda r: _definition(r)["OutputDataConfig"].update(S3OutputPath="/tmp/out"),
        f"{DEF}.outputDataConfig.s3OutputPath",
        _error(
            "'/tmp/out'",
            f"{DEF}.outputDataConfig.s3OutputPath",
            "Member must satisfy regular expression pattern: (https|s3)://([^/]+)/?(.*)",
        ),
    ),
    (
        "channel name",
        lambda r: _definition(r)["InputDataConfig"][1].update(ChannelName="val data"),
        f"{DEF}.inputDataConfig.2.member.channelName",
        _error(
            "'val data'",
            f"{DEF}.inputDataConfig.2.member.channelName",
            "Member must satisfy regular expression pattern: [A-Za-z0-9\\.\\-_]+",
        ),
    ),
    (
        "duplicate channel name",
        lambda r: _definition(r)["InputDataConfig"][1].update(ChannelName="train"),
        f"{DEF}.inputDataConfig.2.member.channelName",
        None,
    ),
    (
        "retry attempts above 30",
        lambda r: _definition(r).update(RetryStrategy={"MaximumRetryAttempts": 31}),
        f"{DEF}.retryStrategy.maximumRetryAttempts",
        _error(
            "'31'",
            f"{DEF}.retryStrategy.maximumRetryAttempts",
            "Member must have value less than or equal to 30",
        ),
    ),
    (
        "environment key",
        lambda r: _definition(r).update(Environment={"1BAD": "x"}),
        f"{DEF}.environment.1.member.key",
        _error(
            "'1BAD'",
            f"{DEF}.environment.1.member.key",
            "Member must satisfy regular expression pattern: [a-zA-Z_][a-zA-Z0-9_]*",
        ),
    ),
    (
        "instance type",
        lambda r: _definition(r)["HyperParameterTuningResourceConfig"].update(
            InstanceType="m5.large"
        ),
        f"{DEF}.hyperParameterTuningResourceConfig.instanceType",
        None,
    ),
    (
        "resource config without instance type",
        lambda r: (
            _definition(r).pop("HyperParameterTuningResourceConfig"),
            _definition(r).update(ResourceConfig={"InstanceCount": 1, "VolumeSizeInGB": 5}),
        ),
        f"{DEF}.resourceConfig.instanceType",
        None,
    ),
    (
        "random seed below 0",
        lambda r: _config(r).update(RandomSeed=-1),
        "hyperParameterTuningJobConfig.randomSeed",
        _error(
            "'-1'",
            "hyperParameterTuningJobConfig.randomSeed",
            "Member must have value greater than or equal to 0",
        ),
    ),
    (
        "complete on convergence",
        lambda r: _config(r).update(
            TuningJobCompletionCriteria={"ConvergenceDetected": {"CompleteOnConvergence": "Yes"}}
        ),
        "hyperParameterTuningJobConfig.tuningJobCompletionCriteria.convergenceDetected."
        "completeOnConvergence",
        None,
    ),
    (
        "max jobs missing for Bayesian",
        lambda r: _config(r)["ResourceLimits"].pop("MaxNumberOfTrainingJobs"),
        "hyperParameterTuningJobConfig.resourceLimits.maxNumberOfTrainingJobs",
        None,
    ),
    (
        "no ranges at all",
        lambda r: _config(r).pop("ParameterRanges"),
        "hyperParameterTuningJobConfig.parameterRanges",
        None,
    ),
    (
        "empty range name",
        lambda r: _config(r)["ParameterRanges"]["IntegerParameterRanges"][0].update(Name=""),
        "hyperParameterTuningJobConfig.parameterRanges.integerParameterRanges.1.member.name",
        None,
    ),
    (
        "auto parameters without autotune",
        lambda r: _config(r)["ParameterRanges"].update(
            AutoParameters=[{"Name": "gamma", "ValueHint": "1"}]
        ),
        "hyperParameterTuningJobConfig.parameterRanges.autoParameters",
        None,
    ),
    (
        "per-definition ranges with a single definition",
        lambda r: _definition(r).update(HyperParameterRanges={}),
        f"{DEF}.hyperParameterRanges",
        None,
    ),
    (
        "empty training image",
        lambda r: _definition(r)["AlgorithmSpecification"].update(TrainingImage=""),
        f"{DEF}.algorithmSpecification.trainingImage",
        None,
    ),
    (
        "duplicate tag keys",
        lambda r: r.update(Tags=[{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]),
        "tags.2.member.key",
        None,
    ),
    (
        "duplicate warm-start parents (case-insensitive)",
        lambda r: r.update(
            WarmStartConfig={
                "ParentHyperParameterTuningJobs": [
                    {"HyperParameterTuningJobName": "Parent"},
                    {"HyperParameterTuningJobName": "parent"},
                ],
                "WarmStartType": "IdenticalDataAndAlgorithm",
            }
        ),
        "warmStartConfig.parentHyperParameterTuningJobs.2.member.hyperParameterTuningJobName",
        None,
    ),
    (
        "duplicate metric definition names",
        lambda r: _definition(r)["AlgorithmSpecification"]["MetricDefinitions"].append(
            {"Name": "validation:accuracy", "Regex": "acc=(.*)"}
        ),
        f"{DEF}.algorithmSpecification.metricDefinitions.2.member.name",
        None,
    ),
    (
        "hyperband epochs not an integer",
        lambda r: (
            _config(r).update(Strategy="Hyperband"),
            _definition(r)["StaticHyperParameters"].update(epochs="ten"),
        ),
        f"{DEF}.staticHyperParameters",
        None,
    ),
]


@pytest.mark.parametrize(
    ("change", "path", "text"),
    [case[1:] for case in SINGLE],
    ids=[case[0].replace(" ", "-") for case in SINGLE],
)
def test_single_definition_rule(
    change: Callable[[Request], Any], path: str, text: str | None
) -> None:
    request = sdk_style_request()
    change(request)

    with pytest.raises(ValidationError) as caught:
        validate_create_tuning_job(request)

    assert f"'{path}" in caught.value.message
    if text is not None:
        assert caught.value.message == text


def _second(request: Request) -> Any:
    return request["TrainingJobDefinitions"][1]


MULTIPLE: list[tuple[str, Callable[[Request], Any], str]] = [
    (
        "bad range inside the second definition",
        lambda r: _second(r)["HyperParameterRanges"]["ContinuousParameterRanges"][0].update(
            MinValue="0"
        ),
        f"{MULTI}.2.member.hyperParameterRanges.continuousParameterRanges.1.member.minValue",
    ),
    (
        "scaling enum inside the second definition",
        lambda r: _second(r)["HyperParameterRanges"]["ContinuousParameterRanges"][0].update(
            ScalingType="Log"
        ),
        f"{MULTI}.2.member.hyperParameterRanges.continuousParameterRanges.1.member.scalingType",
    ),
    (
        "objective metric missing from the second definition's metrics",
        lambda r: _second(r)["TuningObjective"].update(MetricName="val:loss"),
        f"{MULTI}.2.member.tuningObjective.metricName",
    ),
    (
        "missing definition name",
        lambda r: _second(r).pop("DefinitionName"),
        f"{MULTI}.2.member.definitionName",
    ),
    (
        "duplicate definition name",
        lambda r: _second(r).update(DefinitionName="xgboost"),
        f"{MULTI}.2.member.definitionName",
    ),
    (
        "bad definition name",
        lambda r: _second(r).update(DefinitionName="my_def"),
        f"{MULTI}.2.member.definitionName",
    ),
    (
        "objective types disagree",
        lambda r: _second(r)["TuningObjective"].update(Type="Minimize"),
        f"{MULTI}.2.member.tuningObjective.type",
    ),
    (
        "config-level ranges with definitions",
        lambda r: _config(r).update(ParameterRanges={}),
        "hyperParameterTuningJobConfig.parameterRanges",
    ),
    (
        "definition without ranges",
        lambda r: _second(r).pop("HyperParameterRanges"),
        f"{MULTI}.2.member.hyperParameterRanges",
    ),
    (
        "tuned and static in the same definition",
        lambda r: _second(r)["StaticHyperParameters"].update(learning_rate="0.1"),
        f"{MULTI}.2.member.staticHyperParameters",
    ),
    (
        "more than 48 environment variables in total",
        lambda r: [
            d.update(Environment={f"V{i}": "1" for i in range(25)})
            for d in r["TrainingJobDefinitions"]
        ],
        MULTI,
    ),
]


@pytest.mark.parametrize(
    ("change", "path"),
    [case[1:] for case in MULTIPLE],
    ids=[case[0].replace(" ", "-") for case in MULTIPLE],
)
def test_multi_definition_rule(change: Callable[[Request], Any], path: str) -> None:
    request = multi_definition_request()
    change(request)

    with pytest.raises(ValidationError) as caught:
        validate_create_tuning_job(request)

    assert f"'{path}" in caught.value.message
