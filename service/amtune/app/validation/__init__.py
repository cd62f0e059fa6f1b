"""Request validation for the AWS operations, as pure functions raising ``ValidationError``.

Shape problems (types, lengths, patterns, enums, bounds, nulls) are collected and reported
together in AWS's format (``N validation errors detected: ...``, see ``shapes``); cross-field
rules then raise one error each, naming the field path and what to do.

Left to the service, because they need state or configuration: name uniqueness
(``ResourceInUse``), account quotas (concurrent tuning jobs, ``MaxParallelTrainingJobs``:
``ResourceLimitExceeded``), warm-start parents (exist, terminal, fields an
``IdenticalDataAndAlgorithm`` child may not change), decoding ``NextToken``, and whether a
valid-but-unsupported feature (a strategy, Autotune) is available.
"""

from __future__ import annotations

from amtune.app.validation.create_tuning_job import validate_create_tuning_job
from amtune.app.validation.listing import (
    validate_list_training_job_metrics,
    validate_list_training_jobs,
    validate_list_training_jobs_for_tuning_job,
    validate_list_tuning_jobs,
)
from amtune.app.validation.names import validate_training_job_name, validate_tuning_job_name

__all__ = [
    "validate_create_tuning_job",
    "validate_list_training_job_metrics",
    "validate_list_training_jobs",
    "validate_list_training_jobs_for_tuning_job",
    "validate_list_tuning_jobs",
    "validate_training_job_name",
    "validate_tuning_job_name",
]
