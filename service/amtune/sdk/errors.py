"""Errors raised by the amtune client, shaped like botocore's so that one ``except`` fits both.

Code written against boto3 catches ``botocore.exceptions.ClientError`` and reads
``err.response["Error"]["Code"]``; the same code must work unchanged against this client. So
:class:`ClientError` has botocore's constructor, attributes and message, and when botocore is
importable it *is* a ``botocore.exceptions.ClientError`` subclass (botocore is optional: the
client itself needs only httpx). The worker-protocol errors are ClientErrors too, so one handler
covers both faces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    _ClientErrorBase = Exception
else:
    try:  # botocore is optional; subclass it when present so `except botocore...` works
        from botocore.exceptions import ClientError as _ClientErrorBase
    except ImportError:  # pragma: no cover - exercised only without botocore
        _ClientErrorBase = Exception

#: Error codes botocore's SageMaker model declares; these get their own exception class, all
#: others (ValidationException included) arrive as a plain ClientError, exactly as in boto3.
MODELED_ERROR_CODES: tuple[str, ...] = (
    "ResourceInUse",
    "ResourceLimitExceeded",
    "ResourceNotFound",
    "ResourceAlreadyExists",
    "ConflictException",
)


class ClientError(_ClientErrorBase):
    """An error answer from the service: ``response["Error"]["Code"]`` / ``["Message"]``."""

    def __init__(self, error_response: Mapping[str, Any], operation_name: str) -> None:
        # Not calling botocore's __init__: its message adds retry details we do not track, and
        # the fallback base has no such constructor. The attributes and text are the same.
        self.response: dict[str, Any] = dict(error_response)
        self.operation_name = operation_name
        error = self.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = error.get("Message", "Unknown")
        text = f"An error occurred ({code}) when calling the {operation_name} operation: {message}"
        Exception.__init__(self, text)

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, (self.response, self.operation_name)

    @property
    def code(self) -> str:
        return str(self.response.get("Error", {}).get("Code", ""))

    @property
    def error_message(self) -> str:
        return str(self.response.get("Error", {}).get("Message", ""))


class ResourceInUse(ClientError):
    pass


class ResourceLimitExceeded(ClientError):
    pass


class ResourceNotFound(ClientError):
    pass


class ResourceAlreadyExists(ClientError):
    pass


class ConflictException(ClientError):
    pass


_MODELED: dict[str, type[ClientError]] = {
    "ResourceInUse": ResourceInUse,
    "ResourceLimitExceeded": ResourceLimitExceeded,
    "ResourceNotFound": ResourceNotFound,
    "ResourceAlreadyExists": ResourceAlreadyExists,
    "ConflictException": ConflictException,
}


class ClientExceptions:
    """``client.exceptions``: the modeled error classes by name, plus ``ClientError``."""

    ClientError = ClientError
    ResourceInUse = ResourceInUse
    ResourceLimitExceeded = ResourceLimitExceeded
    ResourceNotFound = ResourceNotFound
    ResourceAlreadyExists = ResourceAlreadyExists
    ConflictException = ConflictException


def error_class_for(code: str) -> type[ClientError]:
    """The class boto3 would raise for ``code``: modeled ones by name, else ClientError."""
    return _MODELED.get(code, ClientError)


class EndpointConnectionError(ConnectionError):
    """The endpoint could not be reached, after the retries (botocore raises the same name)."""

    def __init__(self, endpoint_url: str, error: BaseException | str) -> None:
        super().__init__(f'Could not connect to the endpoint URL: "{endpoint_url}": {error}')
        self.endpoint_url = endpoint_url
        self.error = error


class PaginationError(Exception):
    """The service returned the same NextToken twice (botocore raises the same name)."""


# --- worker protocol (REST /v1) -----------------------------------------------------------


class WorkerProtocolError(ClientError):
    """An error answer on the REST worker protocol; ``status`` is the HTTP status."""

    @property
    def status(self) -> int:
        return int(self.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class LeaseLost(WorkerProtocolError):
    """409 on heartbeat/metrics/complete/fail: the training job is no longer this worker's.

    The lease lapsed (the job is already Failed as a RetryableError) or the job ended; the only
    right reaction is to drop the job and go on with the next one.
    """


class TuningJobEnded(WorkerProtocolError):
    """409 ``TuningJobNotInProgress`` on claim: nothing more will ever start; stop claiming."""


class NotFound(WorkerProtocolError):
    """404: the tuning job (on claim) or training job does not exist."""
