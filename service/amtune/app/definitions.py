"""Reading a stored CreateHyperParameterTuningJob request: its definitions and objective.

AMT accepts one TrainingJobDefinition (ranges and objective in the tuning config) or up to
ten TrainingJobDefinitions (each with its own). Both become a list of :class:`Definition`.
"""

from __future__ import annotations

from typing import Any

from amtune.app.domain import OBJECTIVE_METRIC_KEY, Definition


def definitions_of(request: dict[str, Any]) -> list[Definition]:
    config = request["HyperParameterTuningJobConfig"]
    objective = config.get("HyperParameterTuningJobObjective") or {}
    if "TrainingJobDefinition" in request:
        bodies = [
            (request["TrainingJobDefinition"], config.get("ParameterRanges") or {}, objective)
        ]
    else:
        bodies = [
            (d, d.get("HyperParameterRanges") or {}, d.get("TuningObjective") or objective)
            for d in request["TrainingJobDefinitions"]
        ]
    return [
        Definition(
            name=body.get("DefinitionName"),
            body=body,
            parameter_ranges=ranges,
            objective_type=obj.get("Type"),
            objective_metric=obj.get("MetricName"),
            static=dict(body.get("StaticHyperParameters") or {}),
        )
        for body, ranges, obj in bodies
    ]


def primary_objective(request: dict[str, Any]) -> tuple[str | None, str | None]:
    first = definitions_of(request)[0]
    return first.objective_type, first.objective_metric


def with_objective_key(static: dict[str, str], metric: str | None) -> dict[str, str]:
    """Static hyperparameters as AMT hands them out: with ``_tuning_objective_metric``."""
    if metric is None:
        return dict(static)
    return {**static, OBJECTIVE_METRIC_KEY: metric}


def resource_config(body: dict[str, Any]) -> dict[str, Any] | None:
    """A ResourceConfig for Describe even when the request used the tuning variant.

    The SageMaker SDK's ``HyperparameterTuner.attach`` reads ``ResourceConfig`` and fails
    without it, while ``fit`` sends ``HyperParameterTuningResourceConfig``.
    """
    if "ResourceConfig" in body:
        return dict(body["ResourceConfig"])
    tuning = body.get("HyperParameterTuningResourceConfig")
    if not tuning:
        return None
    derived = {
        key: tuning[key]
        for key in ("InstanceType", "InstanceCount", "VolumeSizeInGB", "VolumeKmsKeyId")
        if key in tuning
    }
    configs = tuning.get("InstanceConfigs") or []
    if "InstanceType" not in derived and configs:
        first = configs[0]
        derived.update(
            InstanceType=first.get("InstanceType"),
            InstanceCount=first.get("InstanceCount"),
            VolumeSizeInGB=first.get("VolumeSizeInGB"),
        )
    return derived
