"""One test per kind of bad CreateHyperParameterTuningJob input AWS refuses.

Every case starts from the SDK-style request (or another valid factory), breaks one thing,
and checks that a ValidationException comes back naming the field path, with AWS's exact text
where the reference gives it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from amtune.app.errors import ValidationError
from amtune.app.validation import (
    validate_create_tuning_job,
    validate_list_training_jobs,
    validate_list_training_jobs_for_tuning_job,
    validate_list_tuning_jobs,
)

from .requests import grid_request, multi_definition_request, sdk_style_request

Request = dict[str, Any]
NAME_PATTERN = "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}"
CONFIG = "hyperParameterTuningJobConfig"
RANGES = f"{CONFIG}.parameterRanges"
LIMITS = f"{CONFIG}.resourceLimits"
DEFINITION = "trainingJobDefinition"


def config(request: Request) -> Any:
    return request["HyperParameterTuningJobConfig"]


def ranges(request: Request) -> Any:
    return config(request)["ParameterRanges"]


def limits(request: Request) -> Any:
    return config(request)["ResourceLimits"]


def definition(request: Request) -> Any:
    return request["TrainingJobDefinition"]


def continuous(request: Request) -> Any:
    return ranges(request)["ContinuousParameterRanges"][0]


def integer(request: Request) -> Any:
    return ranges(request)["IntegerParameterRanges"][0]


def only_categorical(request: Request, *values: list[str]) -> Request:
    ranges(request).clear()
    ranges(request)["CategoricalParameterRanges"] = [
        {"Name": f"c{i}", "Values": v} for i, v in enumerate(values)
    ]
    return request


def one_error(value: str, path: str, constraint: str) -> str:
    return (
        f"1 validation error detected: Value {value} at '{path}' failed to satisfy "
        f"constraint: {constraint}"
    )


@dataclass(frozen=True)
class Case:
    row: int
    what: str
    mutate: Callable[[Request], Any]
    path: str
    text: str | None = None
    """AWS text: the whole message for shape errors, the leading text for semantic rules."""
    base: Callable[[], Request] = sdk_style_request


def _set(target: Callable[[Request], dict[str, Any]], **members: Any) -> Callable[[Request], Any]:
    return lambda request: target(request).update(members)


def _drop(target: Callable[[Request], dict[str, Any]], member: str) -> Callable[[Request], Any]:
    return lambda request: target(request).pop(member)


def _top(request: Request) -> Any:
    return request


def _hyperband(request: Request, **strategy_config: Any) -> Request:
    config(request)["Strategy"] = "Hyperband"
    if strategy_config:
        config(request)["StrategyConfig"] = {"HyperbandStrategyConfig": strategy_config}
    return request


def _algorithm(request: Request) -> Any:
    return definition(request)["AlgorithmSpecification"]


def _many_tags(request: Request) -> None:
    request["Tags"] = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]


CREATE_CASES = [
    Case(
        1,
        "name longer than 32",
        _set(_top, HyperParameterTuningJobName="a234567890123456789012345678901234567890"),
        "hyperParameterTuningJobName",
        one_error(
            "'a234567890123456789012345678901234567890'",
            "hyperParameterTuningJobName",
            "Member must have length less than or equal to 32",
        ),
    ),
    Case(
        2,
        "name with underscore",
        _set(_top, HyperParameterTuningJobName="my_job"),
        "hyperParameterTuningJobName",
        one_error(
            "'my_job'",
            "hyperParameterTuningJobName",
            f"Member must satisfy regular expression pattern: {NAME_PATTERN}",
        ),
    ),
    Case(
        2,
        "name with trailing dash",
        _set(_top, HyperParameterTuningJobName="job-"),
        "hyperParameterTuningJobName",
        one_error(
            "'job-'",
            "hyperParameterTuningJobName",
            f"Member must satisfy regular expression pattern: {NAME_PATTERN}",
        ),
    ),
    Case(
        3,
        "empty name",
        _set(_top, HyperParameterTuningJobName=""),
        "hyperParameterTuningJobName",
        one_error(
            "''",
            "hyperParameterTuningJobName",
            "Member must have length greater than or equal to 1",
        ),
    ),
    Case(
        14,
        "unknown strategy",
        _set(config, Strategy="Nope"),
        f"{CONFIG}.strategy",
        one_error(
            "'Nope'",
            f"{CONFIG}.strategy",
            "Member must satisfy enum value set: [Bayesian, Random, Hyperband, Grid]",
        ),
    ),
    Case(
        15,
        "unknown scaling type",
        _set(continuous, ScalingType="Cubic"),
        f"{RANGES}.continuousParameterRanges.1.member.scalingType",
        one_error(
            "'Cubic'",
            f"{RANGES}.continuousParameterRanges.1.member.scalingType",
            "Member must satisfy enum value set: [Auto, Linear, Logarithmic, ReverseLogarithmic]",
        ),
    ),
    Case(
        16,
        "objective type",
        _set(lambda r: config(r)["HyperParameterTuningJobObjective"], Type="Max"),
        f"{CONFIG}.hyperParameterTuningJobObjective.type",
        one_error(
            "'Max'",
            f"{CONFIG}.hyperParameterTuningJobObjective.type",
            "Member must satisfy enum value set: [Maximize, Minimize]",
        ),
    ),
    Case(
        16,
        "autotune mode",
        _set(_top, Autotune={"Mode": "On"}),
        "autotune.mode",
        one_error("'On'", "autotune.mode", "Member must satisfy enum value set: [Enabled]"),
    ),
    Case(
        16,
        "training input mode",
        _set(_algorithm, TrainingInputMode="Stream"),
        f"{DEFINITION}.algorithmSpecification.trainingInputMode",
        one_error(
            "'Stream'",
            f"{DEFINITION}.algorithmSpecification.trainingInputMode",
            "Member must satisfy enum value set: [Pipe, File, FastFile]",
        ),
    ),
    Case(
        16,
        "warm start type",
        _set(
            _top,
            WarmStartConfig={
                "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "p"}],
                "WarmStartType": "Identical",
            },
        ),
        "warmStartConfig.warmStartType",
        one_error(
            "'Identical'",
            "warmStartConfig.warmStartType",
            "Member must satisfy enum value set: [IdenticalDataAndAlgorithm, TransferLearning]",
        ),
    ),
    Case(
        16,
        "early stopping type",
        _set(config, TrainingJobEarlyStoppingType="AUTO"),
        f"{CONFIG}.trainingJobEarlyStoppingType",
        one_error(
            "'AUTO'",
            f"{CONFIG}.trainingJobEarlyStoppingType",
            "Member must satisfy enum value set: [Off, Auto]",
        ),
    ),
    Case(
        17,
        "integer min > max",
        _set(integer, MinValue="10", MaxValue="3"),
        f"{RANGES}.integerParameterRanges.1.member.minValue",
    ),
    Case(
        17,
        "continuous min > max",
        _set(continuous, MinValue="0.5", MaxValue="0.1"),
        f"{RANGES}.continuousParameterRanges.1.member.minValue",
    ),
    Case(
        18,
        "continuous bound not numeric",
        _set(continuous, MaxValue="high"),
        f"{RANGES}.continuousParameterRanges.1.member.maxValue",
    ),
    Case(
        18,
        "continuous bound infinite",
        _set(continuous, MaxValue="1e999"),
        f"{RANGES}.continuousParameterRanges.1.member.maxValue",
    ),
    Case(
        18,
        "integer bound not an integer",
        _set(integer, MinValue="1.5"),
        f"{RANGES}.integerParameterRanges.1.member.minValue",
    ),
    Case(
        18,
        "python-only number spelling",
        _set(integer, MaxValue="1_000"),
        f"{RANGES}.integerParameterRanges.1.member.maxValue",
    ),
    Case(
        19,
        "logarithmic continuous from 0",
        _set(continuous, MinValue="0", ScalingType="Logarithmic"),
        f"{RANGES}.continuousParameterRanges.1.member.minValue",
    ),
    Case(
        19,
        "logarithmic integer from -1",
        _set(integer, MinValue="-1", ScalingType="Logarithmic"),
        f"{RANGES}.integerParameterRanges.1.member.minValue",
    ),
    Case(
        20,
        "reverse logarithmic up to 1",
        _set(continuous, MinValue="0.5", MaxValue="1", ScalingType="ReverseLogarithmic"),
        f"{RANGES}.continuousParameterRanges.1.member.scalingType",
    ),
    Case(
        20,
        "reverse logarithmic below 0",
        _set(continuous, MinValue="-0.1", MaxValue="0.5", ScalingType="ReverseLogarithmic"),
        f"{RANGES}.continuousParameterRanges.1.member.scalingType",
    ),
    Case(
        21,
        "reverse logarithmic integer",
        _set(integer, ScalingType="ReverseLogarithmic"),
        f"{RANGES}.integerParameterRanges.1.member.scalingType",
    ),
    Case(
        22,
        "duplicate name across lists",
        _set(integer, Name="eta"),
        f"{RANGES}.integerParameterRanges.1.member.name",
    ),
    Case(
        22,
        "duplicate name within a list",
        _set(lambda r: ranges(r)["ContinuousParameterRanges"][1], Name="eta"),
        f"{RANGES}.continuousParameterRanges.2.member.name",
    ),
    Case(
        23,
        "name both tuned and static",
        lambda r: definition(r)["StaticHyperParameters"].update(eta="0.1"),
        f"{DEFINITION}.staticHyperParameters",
    ),
    Case(
        24,
        "31 ranges in total",
        lambda r: ranges(r).update(
            IntegerParameterRanges=[
                {"Name": f"i{i}", "MinValue": "1", "MaxValue": "9"} for i in range(28)
            ]
        ),
        RANGES,
    ),
    Case(
        25,
        "31 categorical values",
        lambda r: ranges(r)["CategoricalParameterRanges"][0].update(
            Values=[str(i) for i in range(31)]
        ),
        f"{RANGES}.categoricalParameterRanges.1.member.values",
        None,
    ),
    Case(
        25,
        "duplicate categorical values",
        lambda r: ranges(r)["CategoricalParameterRanges"][0].update(Values=["a", "b", "a"]),
        f"{RANGES}.categoricalParameterRanges.1.member.values.3.member",
    ),
    Case(
        26,
        "categorical without values",
        lambda r: ranges(r)["CategoricalParameterRanges"][0].update(Values=[]),
        f"{RANGES}.categoricalParameterRanges.1.member.values",
        one_error(
            "'[]'",
            f"{RANGES}.categoricalParameterRanges.1.member.values",
            "Member must have length greater than or equal to 1",
        ),
    ),
    Case(
        27,
        "static + tuned + objective metric > 100",
        lambda r: definition(r).update(StaticHyperParameters={f"hp{i}": "1" for i in range(96)}),
        f"{DEFINITION}.staticHyperParameters",
    ),
    Case(
        28,
        "parallel > total",
        _set(limits, MaxNumberOfTrainingJobs=2, MaxParallelTrainingJobs=3),
        f"{LIMITS}.maxParallelTrainingJobs",
    ),
    Case(
        30,
        "751 Bayesian jobs",
        _set(limits, MaxNumberOfTrainingJobs=751),
        f"{LIMITS}.maxNumberOfTrainingJobs",
    ),
    Case(
        30,
        "10001 Random jobs",
        lambda r: (
            config(r).update(Strategy="Random"),
            limits(r).update(MaxNumberOfTrainingJobs=10001),
        ),
        f"{LIMITS}.maxNumberOfTrainingJobs",
    ),
    Case(
        31,
        "zero parallel jobs",
        _set(limits, MaxParallelTrainingJobs=0),
        f"{LIMITS}.maxParallelTrainingJobs",
        one_error(
            "'0'",
            f"{LIMITS}.maxParallelTrainingJobs",
            "Member must have value greater than or equal to 1",
        ),
    ),
    Case(
        31,
        "zero training jobs",
        _set(limits, MaxNumberOfTrainingJobs=0),
        f"{LIMITS}.maxNumberOfTrainingJobs",
        one_error(
            "'0'",
            f"{LIMITS}.maxNumberOfTrainingJobs",
            "Member must have value greater than or equal to 1",
        ),
    ),
    Case(
        32,
        "tuning runtime above 15768000",
        _set(limits, MaxRuntimeInSeconds=15768001),
        f"{LIMITS}.maxRuntimeInSeconds",
        one_error(
            "'15768001'",
            f"{LIMITS}.maxRuntimeInSeconds",
            "Member must have value less than or equal to 15768000",
        ),
    ),
    Case(
        32,
        "tuning runtime below 120",
        _set(limits, MaxRuntimeInSeconds=119),
        f"{LIMITS}.maxRuntimeInSeconds",
        one_error(
            "'119'",
            f"{LIMITS}.maxRuntimeInSeconds",
            "Member must have value greater than or equal to 120",
        ),
    ),
    Case(
        33,
        "grid with an integer range",
        lambda r: ranges(r).update(
            IntegerParameterRanges=[{"Name": "depth", "MinValue": "1", "MaxValue": "3"}]
        ),
        f"{RANGES}.integerParameterRanges",
        base=grid_request,
    ),
    Case(
        34,
        "grid with the wrong job count",
        _set(limits, MaxNumberOfTrainingJobs=5),
        f"{LIMITS}.maxNumberOfTrainingJobs",
        base=grid_request,
    ),
    Case(
        35,
        "grid with 751+ combinations",
        lambda r: only_categorical(r, [str(i) for i in range(30)], [str(i) for i in range(30)]),
        RANGES,
        base=grid_request,
    ),
    Case(
        36,
        "discrete space smaller than the budget",
        lambda r: (
            only_categorical(r, ["a", "b", "c"]),
            limits(r).update(MaxNumberOfTrainingJobs=10),
        ),
        f"{LIMITS}.maxNumberOfTrainingJobs",
        "You don't have enough combinations of hyperparameter ranges. The total number of "
        "hyperparameter combinations for the provided ranges [3.0] must be equal or greater "
        "than the value of MaxNumberOfJobs, [10]. Provide additional ranges.",
    ),
    Case(
        37,
        "hyperband with early stopping",
        lambda r: (
            _hyperband(r, MaxResource=10),
            config(r).update(TrainingJobEarlyStoppingType="Auto"),
        ),
        f"{CONFIG}.trainingJobEarlyStoppingType",
    ),
    Case(
        38,
        "strategy config without hyperband",
        _set(config, StrategyConfig={"HyperbandStrategyConfig": {"MaxResource": 10}}),
        f"{CONFIG}.strategyConfig",
    ),
    Case(
        39,
        "hyperband without max resource or epochs",
        _hyperband,
        f"{CONFIG}.strategyConfig.hyperbandStrategyConfig.maxResource",
    ),
    Case(
        39,
        "hyperband max resource above 20000",
        lambda r: _hyperband(r, MaxResource=20001),
        f"{CONFIG}.strategyConfig.hyperbandStrategyConfig.maxResource",
    ),
    Case(
        39,
        "hyperband min resource above max",
        lambda r: _hyperband(r, MinResource=20, MaxResource=10),
        f"{CONFIG}.strategyConfig.hyperbandStrategyConfig.minResource",
    ),
    Case(
        39,
        "hyperband min resource above inferred epochs",
        lambda r: (
            _hyperband(r, MinResource=20),
            definition(r)["StaticHyperParameters"].update(epochs="10"),
        ),
        f"{CONFIG}.strategyConfig.hyperbandStrategyConfig.minResource",
    ),
    Case(
        40,
        "objective metric not in metric definitions",
        lambda r: _algorithm(r).update(
            MetricDefinitions=[{"Name": "train:loss", "Regex": "loss=([0-9.]+)"}]
        ),
        f"{DEFINITION}.algorithmSpecification.metricDefinitions",
        "A metric is required for this hyperparameter tuning job objective. Provide a metric "
        "in the metric definitions.",
    ),
    Case(
        41,
        "no objective",
        _drop(config, "HyperParameterTuningJobObjective"),
        f"{CONFIG}.hyperParameterTuningJobObjective",
    ),
    Case(
        41,
        "multi-definition without a tuning objective",
        lambda r: r["TrainingJobDefinitions"][1].pop("TuningObjective"),
        "trainingJobDefinitions.2.member.tuningObjective",
        base=multi_definition_request,
    ),
    Case(
        42,
        "no training job definition",
        _drop(_top, "TrainingJobDefinition"),
        "trainingJobDefinition",
    ),
    Case(
        42,
        "both definition forms",
        lambda r: r.update(TrainingJobDefinitions=[definition(r)]),
        "trainingJobDefinitions",
    ),
    Case(
        42,
        "11 definitions",
        lambda r: r.update(TrainingJobDefinitions=r["TrainingJobDefinitions"] * 6),
        "trainingJobDefinitions",
        None,
        multi_definition_request,
    ),
    Case(
        43,
        "both image and algorithm name",
        _set(_algorithm, AlgorithmName="xgboost"),
        f"{DEFINITION}.algorithmSpecification",
    ),
    Case(
        43,
        "neither image nor algorithm name",
        _drop(_algorithm, "TrainingImage"),
        f"{DEFINITION}.algorithmSpecification",
    ),
    Case(
        44,
        "no resource config",
        _drop(definition, "HyperParameterTuningResourceConfig"),
        "hyperParameterTuningResourceConfig",
    ),
    Case(
        44,
        "both resource configs",
        _set(definition, ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1}),
        "resourceConfig",
    ),
    Case(
        45,
        "21 metric definitions",
        lambda r: _algorithm(r)["MetricDefinitions"].extend(
            {"Name": f"m{i}", "Regex": "m=(.*)"} for i in range(20)
        ),
        f"{DEFINITION}.algorithmSpecification.metricDefinitions",
    ),
    Case(
        46,
        "not-improving window below 3",
        _set(
            config,
            TuningJobCompletionCriteria={
                "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 2}
            },
        ),
        f"{CONFIG}.tuningJobCompletionCriteria.bestObjectiveNotImproving."
        "maxNumberOfTrainingJobsNotImproving",
        one_error(
            "'2'",
            f"{CONFIG}.tuningJobCompletionCriteria.bestObjectiveNotImproving."
            "maxNumberOfTrainingJobsNotImproving",
            "Member must have value greater than or equal to 3",
        ),
    ),
    Case(
        47,
        "training runtime above 28 days",
        _set(lambda r: definition(r)["StoppingCondition"], MaxRuntimeInSeconds=2419201),
        f"{DEFINITION}.stoppingCondition.maxRuntimeInSeconds",
    ),
    Case(
        48,
        "six warm-start parents",
        _set(
            _top,
            WarmStartConfig={
                "ParentHyperParameterTuningJobs": [
                    {"HyperParameterTuningJobName": f"p{i}"} for i in range(6)
                ],
                "WarmStartType": "TransferLearning",
            },
        ),
        "warmStartConfig.parentHyperParameterTuningJobs",
    ),
    Case(49, "51 tags", _many_tags, "tags"),
    Case(
        49,
        "tag key with a bad character",
        _set(_top, Tags=[{"Key": "cost#center", "Value": "x"}]),
        "tags.1.member.key",
        one_error(
            "'cost#center'",
            "tags.1.member.key",
            "Member must satisfy regular expression pattern: ([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)",
        ),
    ),
]


@pytest.mark.parametrize(
    "case", CREATE_CASES, ids=[f"row{c.row}-{c.what.replace(' ', '-')}" for c in CREATE_CASES]
)
def test_create_rejects_catalogue_case(case: Case) -> None:
    request = case.base()
    validate_create_tuning_job(request)  # the base is valid: the mutation is what fails
    case.mutate(request)

    with pytest.raises(ValidationError) as caught:
        validate_create_tuning_job(request)

    error = caught.value
    assert error.code == "ValidationException"
    assert case.path in error.message
    if case.text is not None:
        if error.message.startswith(("1 validation error", "2 validation errors")):
            assert error.message == case.text
        else:
            assert error.message.startswith(case.text)


@dataclass(frozen=True)
class ListCase:
    row: int
    what: str
    validate: Callable[[dict[str, Any]], None]
    request: dict[str, Any]
    path: str
    text: str | None = None


LIST_CASES = [
    ListCase(
        51,
        "tuning jobs page of 1000",
        validate_list_tuning_jobs,
        {"MaxResults": 1000},
        "maxResults",
        "1 validation error detected: Value '1000' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 100",
    ),
    ListCase(
        51,
        "training jobs page of 0",
        validate_list_training_jobs,
        {"MaxResults": 0},
        "maxResults",
        one_error("'0'", "maxResults", "Member must have value greater than or equal to 1"),
    ),
    ListCase(
        51,
        "for-tuning-job page of 101",
        validate_list_training_jobs_for_tuning_job,
        {"HyperParameterTuningJobName": "tj", "MaxResults": 101},
        "maxResults",
        one_error("'101'", "maxResults", "Member must have value less than or equal to 100"),
    ),
    ListCase(
        52,
        "tuning jobs sorted by objective",
        validate_list_tuning_jobs,
        {"SortBy": "FinalObjectiveMetricValue"},
        "sortBy",
        one_error(
            "'FinalObjectiveMetricValue'",
            "sortBy",
            "Member must satisfy enum value set: [Name, Status, CreationTime]",
        ),
    ),
    ListCase(
        52,
        "for-tuning-job sort order",
        validate_list_training_jobs_for_tuning_job,
        {"HyperParameterTuningJobName": "tj", "SortOrder": "Up"},
        "sortOrder",
        one_error(
            "'Up'", "sortOrder", "Member must satisfy enum value set: [Ascending, Descending]"
        ),
    ),
    ListCase(
        52,
        "training job status",
        validate_list_training_jobs,
        {"StatusEquals": "DeleteFailed"},
        "statusEquals",
        one_error(
            "'DeleteFailed'",
            "statusEquals",
            "Member must satisfy enum value set: "
            "[InProgress, Completed, Failed, Stopping, Stopped, Deleting]",
        ),
    ),
    ListCase(
        53,
        "name filter with an underscore",
        validate_list_tuning_jobs,
        {"NameContains": "my_job"},
        "nameContains",
        one_error(
            "'my_job'",
            "nameContains",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9\\-]+",
        ),
    ),
    ListCase(
        54,
        "next token longer than 8192",
        validate_list_training_jobs,
        {"NextToken": "x" * 8193},
        "nextToken",
    ),
]


@pytest.mark.parametrize(
    "case", LIST_CASES, ids=[f"row{c.row}-{c.what.replace(' ', '-')}" for c in LIST_CASES]
)
def test_list_rejects_catalogue_case(case: ListCase) -> None:
    with pytest.raises(ValidationError) as caught:
        case.validate(case.request)

    assert caught.value.code == "ValidationException"
    assert f"at '{case.path}'" in caught.value.message
    if case.text is not None:
        assert caught.value.message == case.text
