"""Request and response bodies of the REST worker protocol, for parsing and for OpenAPI.

The worker routes' bodies are parsed here, once, into strict models: a metric ``Value`` of
``"1.5"`` or ``true`` and a ``Retryable`` of ``"yes"`` are refused, not coerced, and identifiers
may hold no control characters. The application layer receives the typed values.

The AMT shapes themselves are large and are validated by the application layer with AWS's
messages; the REST face passes them through as JSON objects.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from amtune.app.reports import MetricPoint
from amtune.app.validation.text import (
    IDENTIFIER_CONSTRAINT,
    TEXT_CONSTRAINT,
    has_control_characters,
)

AmtShape = dict[str, Any]


def _identifier(text: str) -> str:
    if has_control_characters(text):
        raise PydanticCustomError("control_characters", IDENTIFIER_CONSTRAINT)
    return text


def _text(text: str) -> str:
    if has_control_characters(text, lines_allowed=True):
        raise PydanticCustomError("control_characters", TEXT_CONSTRAINT)
    return text


Identifier = Annotated[str, AfterValidator(_identifier)]
"""A name or id: no control characters (pattern ``[^\x00-\x1f\x7f]*``)."""
Text = Annotated[str, AfterValidator(_text)]
"""Free text: tabs and line breaks allowed, no other control characters."""
NO_CONTROLS = "^[^\\x00-\\x1f\\x7f]*$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class ClaimRequest(_Body):
    WorkerId: Identifier = Field(
        min_length=1,
        max_length=256,
        description="Who takes the job.",
        json_schema_extra={"pattern": NO_CONTROLS},
    )


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
    WorkerId: Identifier = Field(
        min_length=1,
        max_length=256,
        description="Who takes the job.",
        json_schema_extra={"pattern": NO_CONTROLS},
    )
    Images: list[Identifier] | None = Field(
        default=None,
        description="Only tuning jobs whose every TrainingImage is one of these (1 to 50).",
    )


class PoolClaimResponse(ClaimResponse):
    TuningJobName: str = Field(description="The tuning job the training job belongs to.")


class WorkerBody(_Body):
    LeaseToken: Identifier = Field(
        min_length=1,
        max_length=128,
        json_schema_extra={"pattern": NO_CONTROLS},
        description=(
            "The LeaseToken of the claim that handed out this job. A job whose lease lapsed, "
            "or that was handed to another worker since, answers 409."
        ),
    )
    WorkerId: Identifier | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        json_schema_extra={"pattern": NO_CONTROLS},
        description="Optional and informational: the LeaseToken is the proof of holding.",
    )


class HeartbeatResponse(BaseModel):
    StopRequested: bool
    LeaseExpiresAt: float


class Metric(_Body):
    MetricName: Identifier = Field(
        min_length=1, max_length=255, json_schema_extra={"pattern": NO_CONTROLS}
    )
    Value: float
    Timestamp: float | None = Field(default=None, description="Epoch seconds; default now.")
    Step: int | None = Field(default=None, ge=0, lt=2**31)

    def point(self) -> MetricPoint:
        return MetricPoint(self.MetricName, self.Value, self.Timestamp, self.Step)


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
    FailureReason: Text = Field(min_length=1)
    Retryable: bool = False


class EndResponse(BaseModel):
    TrainingJobStatus: str


class ErrorBody(BaseModel):
    type_: str = Field(alias="__type")
    message: str


def points(items: list[Metric] | None) -> list[MetricPoint]:
    return [m.point() for m in items or ()]


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
