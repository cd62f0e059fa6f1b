"""The OpenAPI document as the service really answers.

FastAPI documents a 422 for every route with parameters, but amtune answers validation errors
with 400 and an AWS code; and every /v1 route may also answer 403 (authentication), 404,
413 (body too large) and 503 (database unavailable). The document says so.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
COMMON_ERRORS = {
    "400": "Bad input (ValidationException, SerializationException); the message names the field.",
    "403": "Authentication failed (when teams exist): an AWS authentication error code.",
    "404": "No such tuning job (ResourceNotFound) or training job.",
    "413": "The request body is larger than 1 MiB (SerializationException).",
    "503": "The database is unavailable: ServiceUnavailable, retry after Retry-After seconds.",
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
