"""Resource names and the shapes shared by several operations."""

from __future__ import annotations

from typing import Any

from amtune.app.validation.shapes import Checker, Pattern, Str, raise_if_any
from amtune.app.validation.text import check_text_safety

TUNING_JOB_NAME = Str(
    min_len=1, max_len=32, pattern=Pattern.java("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}")
)
TRAINING_JOB_NAME = Str(
    min_len=1, max_len=63, pattern=Pattern.java("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
)
DEFINITION_NAME = Str(
    min_len=1, max_len=64, pattern=Pattern.java("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}")
)


def _validate(shape: Str, value: Any, field: str) -> None:
    check_text_safety(value, field)
    checker = Checker()
    if value is None:
        checker.errors.append(
            f"Value null at '{field}' failed to satisfy constraint: Member must not be null"
        )
    else:
        checker.check(shape, value, field)
    raise_if_any(checker.errors)


def validate_tuning_job_name(value: Any, field: str = "hyperParameterTuningJobName") -> None:
    """Describe/Stop/Delete: 1-32 characters, ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}``."""
    _validate(TUNING_JOB_NAME, value, field)


def validate_training_job_name(value: Any, field: str = "trainingJobName") -> None:
    """DescribeTrainingJob/StopTrainingJob: 1-63 characters, same alphabet as tuning jobs."""
    _validate(TRAINING_JOB_NAME, value, field)
