"""The three List operations: page size, sort keys, filters.

``NextToken`` is only checked for its length here; whether it decodes to a position is the
service's business (it owns the token format). Time filters are JSON numbers of epoch seconds,
as botocore and the CLI send them; they are bounded to years 1970-9999 so that the service can
always turn them into a ``datetime``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amtune.app.validation.names import TRAINING_JOB_NAME, TUNING_JOB_NAME
from amtune.app.validation.shapes import (
    Int,
    Member,
    Num,
    Pattern,
    Str,
    Struct,
    check_shape,
    optional,
    required,
)
from amtune.app.validation.text import check_text_safety

TUNING_JOB_STATUSES = (
    "Completed",
    "InProgress",
    "Failed",
    "Stopped",
    "Stopping",
    "Deleting",
    "DeleteFailed",
)
TRAINING_JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")
SORT_ORDERS = ("Ascending", "Descending")

# Largest epoch second datetime can represent (9999-12-31T23:59:59Z).
MAX_EPOCH_SECONDS = 253402300799

NEXT_TOKEN = Str(min_len=0, max_len=8192)
MAX_RESULTS = Int(min=1, max=100)
NAME_CONTAINS = Str(min_len=0, max_len=63, pattern=Pattern.java("[a-zA-Z0-9\\-]+"))
TIMESTAMP = Num(min=0, max=MAX_EPOCH_SECONDS)
TRAINING_PLAN_ARN = Str(
    min_len=50,
    max_len=2048,
    pattern=Pattern.java("arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:training-plan/.*"),
)

_TIME_FILTERS: tuple[Member, ...] = (
    optional("CreationTimeAfter", TIMESTAMP),
    optional("CreationTimeBefore", TIMESTAMP),
    optional("LastModifiedTimeAfter", TIMESTAMP),
    optional("LastModifiedTimeBefore", TIMESTAMP),
)

LIST_TUNING_JOBS = Struct(
    (
        optional("NextToken", NEXT_TOKEN),
        optional("MaxResults", MAX_RESULTS),
        optional("SortBy", Str(enum=("Name", "Status", "CreationTime"))),
        optional("SortOrder", Str(enum=SORT_ORDERS)),
        optional("NameContains", NAME_CONTAINS),
        *_TIME_FILTERS,
        optional("StatusEquals", Str(enum=TUNING_JOB_STATUSES)),
    )
)

LIST_TRAINING_JOBS_FOR_TUNING_JOB = Struct(
    (
        required("HyperParameterTuningJobName", TUNING_JOB_NAME),
        optional("NextToken", NEXT_TOKEN),
        optional("MaxResults", MAX_RESULTS),
        optional("StatusEquals", Str(enum=TRAINING_JOB_STATUSES)),
        optional(
            "SortBy", Str(enum=("Name", "CreationTime", "Status", "FinalObjectiveMetricValue"))
        ),
        optional("SortOrder", Str(enum=SORT_ORDERS)),
    )
)

LIST_TRAINING_JOBS = Struct(
    (
        optional("NextToken", NEXT_TOKEN),
        optional("MaxResults", MAX_RESULTS),
        *_TIME_FILTERS,
        optional("NameContains", NAME_CONTAINS),
        optional("StatusEquals", Str(enum=TRAINING_JOB_STATUSES)),
        optional("SortBy", Str(enum=("Name", "CreationTime", "Status"))),
        optional("SortOrder", Str(enum=SORT_ORDERS)),
        optional("WarmPoolStatusEquals", Str(enum=("Available", "Terminated", "Reused", "InUse"))),
        optional("TrainingPlanArnEquals", TRAINING_PLAN_ARN),
    )
)


MAX_METRIC_RESULTS = 1000

LIST_TRAINING_JOB_METRICS = Struct(
    (
        required("TrainingJobName", TRAINING_JOB_NAME),
        optional("MetricName", Str(min_len=1, max_len=255)),
        optional("NextToken", NEXT_TOKEN),
        optional("MaxResults", Int(min=1, max=MAX_METRIC_RESULTS)),
    )
)


def _validate(shape: Struct, request: Mapping[str, Any]) -> None:
    check_text_safety(request)
    check_shape(shape, request)


def validate_list_tuning_jobs(request: Mapping[str, Any]) -> None:
    """ListHyperParameterTuningJobs."""
    _validate(LIST_TUNING_JOBS, request)


def validate_list_training_jobs_for_tuning_job(request: Mapping[str, Any]) -> None:
    """ListTrainingJobsForHyperParameterTuningJob (the tuning-job name is required)."""
    _validate(LIST_TRAINING_JOBS_FOR_TUNING_JOB, request)


def validate_list_training_jobs(request: Mapping[str, Any]) -> None:
    """ListTrainingJobs."""
    _validate(LIST_TRAINING_JOBS, request)


def validate_list_training_job_metrics(request: Mapping[str, Any]) -> None:
    """amtune's metric history of one training job (a learning curve may be long: pages of up
    to 1,000 points)."""
    _validate(LIST_TRAINING_JOB_METRICS, request)
