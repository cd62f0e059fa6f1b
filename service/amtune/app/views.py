"""The response shapes of the AMT operations, built from rows.

Both faces render these dicts as they are: PascalCase members, epoch-second timestamps,
optional members omitted rather than null.
"""

from __future__ import annotations

import copy
from typing import Any

from amtune.app.definitions import definitions_of, resource_config, with_objective_key
from amtune.app.domain import Counters, objective_status
from amtune.store.models import MetricRow, TrainingJobRow, TuningJobRow


def _drop_none(shape: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in shape.items() if value is not None}


RANGE_KINDS = ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")


def described_ranges(ranges: dict[str, Any] | None) -> dict[str, Any]:
    """ParameterRanges as AWS's Describe shows them: all three lists, empty where none given.

    The SageMaker SDK's ``HyperparameterTuner.attach`` and its analytics index all three
    lists, so a job created with one kind of range would otherwise break them. Other members
    (AutoParameters) are echoed as given.
    """
    shown = copy.deepcopy(ranges or {})
    for kind in RANGE_KINDS:
        shown.setdefault(kind, [])
    return shown


def _described_config(config: dict[str, Any]) -> dict[str, Any]:
    shown = copy.deepcopy(config)
    if "ParameterRanges" in shown:
        shown["ParameterRanges"] = described_ranges(shown["ParameterRanges"])
    return shown


def _described_definition(body: dict[str, Any], metric: str | None) -> dict[str, Any]:
    shown = copy.deepcopy(body)
    if "HyperParameterRanges" in shown:
        shown["HyperParameterRanges"] = described_ranges(shown["HyperParameterRanges"])
    # AWS lists the metric definitions it uses, built-in algorithms' included; the SDK's
    # attach reads the member unconditionally.
    shown["AlgorithmSpecification"] = {
        "MetricDefinitions": [],
        **(shown.get("AlgorithmSpecification") or {}),
    }
    shown["StaticHyperParameters"] = with_objective_key(
        dict(body.get("StaticHyperParameters") or {}), metric
    )
    resources = resource_config(body)
    if resources is not None:
        shown["ResourceConfig"] = resources
    return shown


def tuning_job_description(
    tuning: TuningJobRow, counters: Counters, best: TrainingJobRow | None, now: float
) -> dict[str, Any]:
    request = tuning.request
    definitions = definitions_of(request)
    shape: dict[str, Any] = {
        "HyperParameterTuningJobName": tuning.name,
        "HyperParameterTuningJobArn": tuning.arn,
        "HyperParameterTuningJobConfig": _described_config(
            request["HyperParameterTuningJobConfig"]
        ),
        "HyperParameterTuningJobStatus": tuning.status,
        "CreationTime": tuning.created_at,
        "HyperParameterTuningEndTime": tuning.ended_at,
        "LastModifiedTime": tuning.last_modified_at,
        "TrainingJobStatusCounters": counters.training(),
        "ObjectiveStatusCounters": counters.objective(),
        "FailureReason": tuning.failure_reason,
        "WarmStartConfig": request.get("WarmStartConfig"),
        "Autotune": request.get("Autotune"),
        "ConsumedResources": {
            "RuntimeInSeconds": int((tuning.ended_at or now) - tuning.created_at)
        },
    }
    if "TrainingJobDefinition" in request:
        shape["TrainingJobDefinition"] = _described_definition(
            request["TrainingJobDefinition"], definitions[0].objective_metric
        )
    else:
        shape["TrainingJobDefinitions"] = [
            _described_definition(d.body, d.objective_metric) for d in definitions
        ]
    if best is not None:
        shape["BestTrainingJob"] = training_job_summary(best, tuning)
    return _drop_none(shape)


def tuning_job_summary(tuning: TuningJobRow, counters: Counters) -> dict[str, Any]:
    limits = tuning.request["HyperParameterTuningJobConfig"]["ResourceLimits"]
    return _drop_none(
        {
            "HyperParameterTuningJobName": tuning.name,
            "HyperParameterTuningJobArn": tuning.arn,
            "HyperParameterTuningJobStatus": tuning.status,
            "Strategy": tuning.strategy,
            "CreationTime": tuning.created_at,
            "HyperParameterTuningEndTime": tuning.ended_at,
            "LastModifiedTime": tuning.last_modified_at,
            "TrainingJobStatusCounters": counters.training(),
            "ObjectiveStatusCounters": counters.objective(),
            "ResourceLimits": copy.deepcopy(limits),
        }
    )


def training_job_summary(job: TrainingJobRow, tuning: TuningJobRow) -> dict[str, Any]:
    """HyperParameterTrainingJobSummary (also BestTrainingJob)."""
    shape: dict[str, Any] = {
        "TrainingJobDefinitionName": job.definition_name,
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "TuningJobName": tuning.name,
        "CreationTime": job.created_at,
        "TrainingStartTime": job.started_at,
        "TrainingEndTime": job.ended_at,
        "TrainingJobStatus": job.status,
        "TunedHyperParameters": dict(job.tuned_hyperparameters),
        "FailureReason": job.failure_reason,
        "ObjectiveStatus": objective_status(job.status, job.objective_value),
    }
    if job.objective_value is not None and job.ended_at is not None:
        objective_type = _objective_type_of(job, tuning)
        shape["FinalHyperParameterTuningJobObjectiveMetric"] = _drop_none(
            {
                "Type": objective_type,
                "MetricName": job.objective_metric,
                "Value": job.objective_value,
            }
        )
    return _drop_none(shape)


def _objective_type_of(job: TrainingJobRow, tuning: TuningJobRow) -> str | None:
    for definition in definitions_of(tuning.request):
        if definition.name == job.definition_name:
            return definition.objective_type
    return tuning.objective_type


def training_job_list_summary(job: TrainingJobRow) -> dict[str, Any]:
    """TrainingJobSummary (ListTrainingJobs)."""
    return _drop_none(
        {
            "TrainingJobName": job.name,
            "TrainingJobArn": job.arn,
            "CreationTime": job.created_at,
            "TrainingEndTime": job.ended_at,
            "LastModifiedTime": job.last_modified_at,
            "TrainingJobStatus": job.status,
            "SecondaryStatus": job.secondary_status,
        }
    )


COPIED_DEFINITION_MEMBERS = (
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "VpcConfig",
    "StoppingCondition",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "RetryStrategy",
    "Environment",
)


def training_job_description(job: TrainingJobRow) -> dict[str, Any]:
    body = job.definition
    output = (body.get("OutputDataConfig") or {}).get("S3OutputPath", "")
    shape: dict[str, Any] = {
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "TuningJobArn": job.tuning_job_arn,
        "ModelArtifacts": {
            "S3ModelArtifacts": f"{output.rstrip('/')}/{job.name}/output/model.tar.gz"
        },
        "TrainingJobStatus": job.status,
        "SecondaryStatus": job.secondary_status,
        "FailureReason": job.failure_reason,
        "HyperParameters": dict(job.hyperparameters),
        "ResourceConfig": resource_config(body),
        "CreationTime": job.created_at,
        "TrainingStartTime": job.started_at,
        "TrainingEndTime": job.ended_at,
        "LastModifiedTime": job.last_modified_at,
        "SecondaryStatusTransitions": [dict(t) for t in job.transitions],
        "FinalMetricDataList": list(job.final_metrics) if job.final_metrics else None,
    }
    for member in COPIED_DEFINITION_MEMBERS:
        if member in body:
            shape[member] = copy.deepcopy(body[member])
    # The SageMaker SDK's TrainingJobAnalytics reads MetricDefinitions unconditionally.
    shape["AlgorithmSpecification"] = {
        "MetricDefinitions": [],
        **(body.get("AlgorithmSpecification") or {}),
    }
    # The SageMaker SDK's Estimator.attach reads KmsKeyId unconditionally.
    shape["OutputDataConfig"] = {"KmsKeyId": "", **(body.get("OutputDataConfig") or {})}
    if job.started_at is not None and job.ended_at is not None:
        seconds = max(0, int(job.ended_at - job.started_at))
        shape["TrainingTimeInSeconds"] = seconds
        shape["BillableTimeInSeconds"] = seconds
    return _drop_none(shape)


def metric_point(row: MetricRow) -> dict[str, Any]:
    """One reported point: MetricName, Value, Timestamp and, when the worker gave one, Step."""
    point: dict[str, Any] = {
        "MetricName": row.metric_name,
        "Value": row.value,
        "Timestamp": row.timestamp,
    }
    if row.step is not None:
        point["Step"] = row.step
    return point
