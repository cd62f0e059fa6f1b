"""Request validation for the AWS operations, as pure functions raising ``ValidationError``.

Shape problems (types, lengths, patterns, enums, bounds) are collected and reported together
in AWS's format; cross-field rules raise one error each, naming the field path and what to do.
"""

from __future__ import annotations

from amtune.app.validation.create_tuning_job import validate_create_tuning_job
from amtune.app.validation.listing import (
    validate_list_training_jobs,
    validate_list_training_jobs_for_tuning_job,
    validate_list_tuning_jobs,
)
from amtune.app.validation.names import validate_training_job_name, validate_tuning_job_name

__all__ = [
    "validate_create_tuning_job",
    "validate_list_training_jobs",
    "validate_list_training_jobs_for_tuning_job",
    "validate_list_tuning_jobs",
    "validate_training_job_name",
    "validate_tuning_job_name",
]
