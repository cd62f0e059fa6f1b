"""The OpenAPI document as the service really answers.

FastAPI documents a 422 for every route with parameters, but amtune answers validation errors
with 400 and an AWS code; and every /v1 route may also answer 403 (authentication), 404,
413 (body too large) and 503 (database unavailable). The document says so.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from amtune.app.validation import listing
from amtune.app.validation.names import TRAINING_JOB_NAME, TUNING_JOB_NAME
from amtune.app.validation.shapes import Int, Num, Shape, Str, Struct

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
COMMON_ERRORS = {
    "400": "Bad input (ValidationException, SerializationException); the message names the field.",
    "403": "Authentication failed (when teams exist): an AWS authentication error code.",
    "404": "No such tuning job (ResourceNotFound) or training job.",
    "408": "The request body did not arrive in time (RequestTimeout).",
    "413": "The request body is larger than 1 MiB (SerializationException).",
    "503": "The database is unavailable: ServiceUnavailable, retry after Retry-After seconds.",
}
# The rules the application layer checks parameters against, so the document states the same
# patterns, enums and bounds (and property-based clients generate values that can succeed).
PATH_PARAMETERS: dict[str, Shape] = {
    "TuningJobName": TUNING_JOB_NAME,
    "TrainingJobName": TRAINING_JOB_NAME,
}
QUERY_SHAPES: dict[str, Struct] = {
    "listTuningJobs": listing.LIST_TUNING_JOBS,
    "listTrainingJobs": listing.LIST_TRAINING_JOBS,
    "listTrainingJobsForTuningJob": listing.LIST_TRAINING_JOBS_FOR_TUNING_JOB,
}
ERROR_BODY = {
    "type": "object",
    "required": ["__type", "message"],
    "properties": {
        "__type": {"type": "string", "description": "The AWS error code."},
        "message": {"type": "string"},
        "Message": {"type": "string"},
    },
}


def documented_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["ErrorBody"] = ERROR_BODY
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            _constrain_parameters(operation)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if path.startswith("/v1") or path == "/":
                for status, description in COMMON_ERRORS.items():
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": ERROR_REF}},
                        },
                    )
    app.openapi_schema = schema
    return schema


def _constrain_parameters(operation: dict[str, Any]) -> None:
    query = QUERY_SHAPES.get(operation.get("operationId", ""))
    members = {m.name: m.shape for m in query.members} if query is not None else {}
    for parameter in operation.get("parameters", ()):
        name = parameter["name"]
        shape = PATH_PARAMETERS.get(name) if parameter["in"] == "path" else members.get(name)
        if shape is None:
            continue
        constraints = _json_schema(shape)
        schema = parameter["schema"]
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") != "null":
                branch.update(constraints)


def _json_schema(shape: Shape) -> dict[str, Any]:
    """The constraints of an application-layer shape as JSON Schema keywords."""
    out: dict[str, Any] = {}
    if isinstance(shape, Str):
        if shape.enum is not None:
            out["enum"] = list(shape.enum)
        if shape.min_len is not None:
            out["minLength"] = shape.min_len
        if shape.max_len is not None:
            out["maxLength"] = shape.max_len
        if shape.pattern is not None:
            out["pattern"] = f"^(?:{shape.pattern.text})$"
    elif isinstance(shape, Int | Num):
        if shape.min is not None:
            out["minimum"] = shape.min
        if shape.max is not None:
            out["maximum"] = shape.max
    return out
