"""Rendering errors the way AWS JSON clients parse them, on both faces.

botocore reads the code from ``__type`` and the text from ``message``/``Message``; other AWS
SDKs read the ``x-amzn-ErrorType`` header. Both are always sent.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from amtune.app.errors import (
    AmtuneError,
    Conflict,
    ResourceInUse,
    ResourceNotFound,
    ServiceUnavailable,
    TrainingJobNotFound,
    ValidationError,
)
from amtune.app.sigv4 import AuthenticationError
from amtune.app.validation.shapes import element_path, join_path
from amtune.observe.context import current_request_id, note_error

log = logging.getLogger(__name__)

AWS_JSON = "application/x-amz-json-1.1"
RETRY_AFTER_UNAVAILABLE = "2"


def request_id() -> str:
    """The id of the request being answered (drawn by ``api.observing``)."""
    return current_request_id()


def error_response(
    code: str, message: str, status: int, *, media_type: str = "application/json"
) -> Response:
    note_error(code, message)
    body = json.dumps({"__type": code, "message": message, "Message": message})
    headers = {"x-amzn-ErrorType": code, "x-amzn-RequestId": request_id()}
    if status == 503:
        headers["Retry-After"] = RETRY_AFTER_UNAVAILABLE
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def rest_status(error: AmtuneError) -> int:
    """REST is HTTP-native where AWS says 400 to everything a client got wrong."""
    if isinstance(error, AuthenticationError):
        return 403  # as AWS's REST services (API Gateway, Lambda) answer
    if isinstance(error, ResourceNotFound | TrainingJobNotFound):
        return 404
    if isinstance(error, Conflict | ResourceInUse):
        return 409
    if isinstance(error, ServiceUnavailable):
        return 503
    return 400


def aws_status(error: AmtuneError) -> int:
    return 503 if isinstance(error, ServiceUnavailable) else 400


def validation_message(exc: RequestValidationError) -> str:
    """Pydantic's errors in AWS words: the value, the lowerCamel path, the constraint."""
    parts = []
    for error in exc.errors():
        location = [p for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        path = _aws_path(location)
        value: Any = error.get("input")
        parts.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: {error.get('msg')}"
        )
    count = len(parts)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(parts)


def _aws_path(location: list[int | str]) -> str:
    """Pydantic's error location as the AWS path the domain's own checks write.

    Pydantic gives list positions as ints and field names or map keys as strings; a key may be
    any text the client sent ("7", "²"), so only the type says which is which."""
    path = ""
    for part in location:
        path = element_path(path, part) if isinstance(part, int) else join_path(path, part)
    return path or "body"


def map_exception(exc: Exception) -> AmtuneError:
    if isinstance(exc, AmtuneError):
        return exc
    log.exception("unexpected error", exc_info=exc)
    error = AmtuneError("An internal error occurred; it has been logged.")
    error.code = "InternalFailure"
    return error


async def rest_error_handler(_request: Request, exc: Exception) -> Response:
    error = map_exception(exc)
    status = 500 if error.code == "InternalFailure" else rest_status(error)
    return error_response(error.code, error.message, status)


async def rest_validation_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    error = ValidationError(validation_message(exc))
    return error_response(error.code, error.message, 400)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods get an AWS-style code too, not FastAPI's ``detail``."""
    status = getattr(exc, "status_code", 404)
    message = f"No operation at {request.method} {request.url.path}."
    return error_response("UnknownOperationException", message, status)
