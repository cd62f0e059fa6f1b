"""The errors every face renders the same way.

Each error carries the AWS error code that boto3 turns into ``response["Error"]["Code"]``,
so a rule raises one of these once and both the AWS JSON face and the REST face agree.
"""

from __future__ import annotations


class AmtuneError(Exception):
    """Base of every error a client may see; ``code`` is the AWS ``__type``."""

    code: str = "InternalFailure"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationError(AmtuneError):
    """Bad input: the AWS ``ValidationException`` with a message that names the field."""

    code = "ValidationException"


class TrainingJobNotFound(ValidationError):
    """AWS answers a missing training job with ValidationException; REST says 404."""


class ResourceNotFound(AmtuneError):
    """A tuning job that does not exist (AWS answers training jobs with ValidationException)."""

    code = "ResourceNotFound"


class ResourceInUse(AmtuneError):
    code = "ResourceInUse"


class ResourceLimitExceeded(AmtuneError):
    code = "ResourceLimitExceeded"


class Conflict(AmtuneError):
    """A worker-protocol request that no longer applies (job ended, lease lapsed): REST 409."""

    code = "Conflict"


class ServiceUnavailable(AmtuneError):
    """The database cannot be reached or stays contended: retryable, HTTP 503."""

    code = "ServiceUnavailable"
