"""Requests real clients send must pass untouched."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from amtune.app.validation import validate_create_tuning_job

from .requests import (
    cli_style_request,
    grid_request,
    multi_definition_request,
    sdk_style_request,
)


@pytest.mark.parametrize(
    "factory",
    [sdk_style_request, cli_style_request, grid_request, multi_definition_request],
    ids=lambda f: f.__name__,
)
def test_realistic_requests_pass(factory: Callable[[], dict[str, Any]]) -> None:
    request = factory()
    before = copy.deepcopy(request)

    validate_create_tuning_job(request)

    assert request == before  # validation never rewrites the request


def _tweaked(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    request = sdk_style_request()
    change(request)
    return request


def _config(request: dict[str, Any]) -> Any:
    return request["HyperParameterTuningJobConfig"]


def _ranges(request: dict[str, Any]) -> Any:
    return _config(request)["ParameterRanges"]


def _only(request: dict[str, Any], **range_lists: Any) -> dict[str, Any]:
    """Replace all parameter ranges with ``range_lists``."""
    _config(request)["ParameterRanges"] = range_lists
    return request


def _hyperband_from_epochs(request: dict[str, Any]) -> None:
    _config(request)["Strategy"] = "Hyperband"
    _config(request)["StrategyConfig"] = {"HyperbandStrategyConfig": {"MinResource": 2}}
    request["TrainingJobDefinition"]["StaticHyperParameters"]["num_epochs"] = "50"


VALID_VARIANTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "grid with the exact job count": lambda r: (
        _config(r).update(Strategy="Grid"),
        _only(r, CategoricalParameterRanges=[{"Name": "a", "Values": ["1", "2", "3"]}]),
        _config(r)["ResourceLimits"].update(MaxNumberOfTrainingJobs=3, MaxParallelTrainingJobs=3),
    ),
    "hyperband with MaxResource": lambda r: _config(r).update(
        Strategy="Hyperband",
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 81}},
    ),
    "hyperband inferring MaxResource from num_epochs": _hyperband_from_epochs,
    "reverse logarithmic inside [0, 1)": lambda r: _ranges(r)["ContinuousParameterRanges"][
        1
    ].update(MinValue="0", MaxValue="0.999", ScalingType="ReverseLogarithmic"),
    "logarithmic integer from 1": lambda r: _ranges(r)["IntegerParameterRanges"][0].update(
        MinValue="1", MaxValue="1024", ScalingType="Logarithmic"
    ),
    "min equal to max": lambda r: _ranges(r)["ContinuousParameterRanges"][0].update(
        MinValue="0.1", MaxValue="0.1"
    ),
    "exponent notation": lambda r: _ranges(r)["ContinuousParameterRanges"][0].update(
        MinValue="1e-5", MaxValue="1.5E-1"
    ),
    "discrete space exactly the budget": lambda r: _only(
        r, IntegerParameterRanges=[{"Name": "k", "MinValue": "1", "MaxValue": "20"}]
    ),
    "unknown members are ignored": lambda r: r.update(ClientToken={"anything": [1, 2]}),
    "describe output fed back with _tuning_objective_metric": lambda r: r["TrainingJobDefinition"][
        "StaticHyperParameters"
    ].update(_tuning_objective_metric="validation:accuracy"),
    "algorithm name instead of image": lambda r: (
        r["TrainingJobDefinition"]["AlgorithmSpecification"].pop("TrainingImage"),
        r["TrainingJobDefinition"]["AlgorithmSpecification"].update(AlgorithmName="my-algo"),
    ),
    "autotune without objective or ranges": lambda r: (
        r.update(Autotune={"Mode": "Enabled"}),
        _config(r).pop("HyperParameterTuningJobObjective"),
        _config(r).update(
            ParameterRanges={"AutoParameters": [{"Name": "eta", "ValueHint": "0.1"}]}
        ),
    ),
    "completion criteria and warm start": lambda r: (
        _config(r).update(
            TuningJobCompletionCriteria={
                "TargetObjectiveMetricValue": 0.95,
                "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3},
                "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"},
            }
        ),
        r.update(
            WarmStartConfig={
                "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent-1"}],
                "WarmStartType": "TransferLearning",
            }
        ),
    ),
    "instance families with a dash": lambda r: r["TrainingJobDefinition"][
        "HyperParameterTuningResourceConfig"
    ].update(InstanceType="ml.p6-b200.48xlarge"),
    "instance configs instead of a type": lambda r: r["TrainingJobDefinition"].update(
        HyperParameterTuningResourceConfig={
            "AllocationStrategy": "Prioritized",
            "InstanceConfigs": [
                {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
                {"InstanceType": "ml.m7i-flex.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
            ],
        }
    ),
    "unicode tags": lambda r: r.update(Tags=[{"Key": "équipe data", "Value": "ß-42 @x/y=z+1"}]),
    "30 ranges exactly": lambda r: _ranges(r).update(
        IntegerParameterRanges=[
            {"Name": f"i{i}", "MinValue": "1", "MaxValue": "9"} for i in range(27)
        ]
    ),
}


@pytest.mark.parametrize("change", VALID_VARIANTS.values(), ids=VALID_VARIANTS.keys())
def test_valid_variants_pass(change: Callable[[dict[str, Any]], Any]) -> None:
    validate_create_tuning_job(_tweaked(change))
