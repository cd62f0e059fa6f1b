"""Request and response bodies of the REST worker protocol, for parsing and for OpenAPI.

The AMT shapes themselves are large and are validated by the application layer with AWS's
messages; the REST face passes them through as JSON objects.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

AmtShape = dict[str, Any]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ClaimRequest(_Body):
    WorkerId: str = Field(min_length=1, max_length=256, description="Who takes the job.")


class ClaimResponse(BaseModel):
    TrainingJobName: str
    TrainingJobArn: str
    HyperParameters: dict[str, str] = Field(
        description="Static + tuned + _tuning_objective_metric, every value a string."
    )
    LeaseExpiresAt: float = Field(description="Epoch seconds; heartbeat before then.")
    HeartbeatIntervalSeconds: int
    LeaseToken: str = Field(
        description=(
            "Proof of holding this job: heartbeat, metrics, complete and fail must send it. "
            "Keep it secret; a re-issued job gets a new one."
        )
    )


class PoolClaimRequest(_Body):
    WorkerId: str = Field(min_length=1, max_length=256, description="Who takes the job.")
    Images: list[str] | None = Field(
        default=None,
        description="Only tuning jobs whose every TrainingImage is one of these (1 to 50).",
    )


class PoolClaimResponse(ClaimResponse):
    TuningJobName: str = Field(description="The tuning job the training job belongs to.")


class WorkerBody(_Body):
    LeaseToken: str = Field(
        min_length=1,
        max_length=128,
        description=(
            "The LeaseToken of the claim that handed out this job. A job whose lease lapsed, "
            "or that was handed to another worker since, answers 409."
        ),
    )
    WorkerId: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Optional and informational: the LeaseToken is the proof of holding.",
    )


class HeartbeatResponse(BaseModel):
    StopRequested: bool
    LeaseExpiresAt: float


class Metric(_Body):
    MetricName: str = Field(min_length=1, max_length=255)
    Value: float
    Timestamp: float | None = Field(default=None, description="Epoch seconds; default now.")
    Step: int | None = Field(default=None, ge=0, lt=2**31)


class MetricsRequest(WorkerBody):
    Metrics: list[Metric] = Field(max_length=1000)


class StopResponse(BaseModel):
    StopRequested: bool


class CompleteRequest(WorkerBody):
    FinalMetricDataList: list[Metric] | None = Field(
        default=None,
        max_length=1000,
        description="Final values; the objective defaults to the last one reported.",
    )


class FailRequest(WorkerBody):
    FailureReason: str = Field(min_length=1)
    Retryable: bool = False


class EndResponse(BaseModel):
    TrainingJobStatus: str


class ErrorBody(BaseModel):
    type_: str = Field(alias="__type")
    message: str


def dumped(items: list[Metric] | None) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    return [m.model_dump(exclude_none=True) for m in items]


class _ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    MaxResults: int | None = Field(default=None, ge=1, le=100)
    NextToken: str | None = None
    SortBy: str | None = None
    SortOrder: str | None = None
    StatusEquals: str | None = None


class ListQuery(_ListQuery):
    """Filters of ListHyperParameterTuningJobs and ListTrainingJobs, as query parameters."""

    NameContains: str | None = None
    CreationTimeAfter: float | None = None
    CreationTimeBefore: float | None = None
    LastModifiedTimeAfter: float | None = None
    LastModifiedTimeBefore: float | None = None


class ListForTuningJobQuery(_ListQuery):
    """Filters of ListTrainingJobsForHyperParameterTuningJob."""


class MetricsQuery(BaseModel):
    """Query parameters of a training job's metric history."""

    model_config = ConfigDict(extra="forbid")

    MetricName: str | None = Field(default=None, description="Only the points of this metric.")
    MaxResults: int | None = Field(default=None, ge=1, le=1000, description="Default 100.")
    NextToken: str | None = None
