"""Schemathesis over the AWS JSON face of a closed service, every request signed by botocore.

The AWS face is one route (``POST /``, the operation named by ``X-Amz-Target``), so its
OpenAPI entry says nothing about bodies. This test gives Schemathesis a document with one
operation per AWS target whose request body is the JSON Schema of the shape the application
layer checks (patterns, enums, lengths and bounds), lets it generate bodies, signs each with
botocore's SigV4 and sends it to ``/``. Every answer must be a 2xx or an AWS-style 4xx
(``__type`` and ``message``, the AWS JSON media type): never a 5xx, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, settings

from amtune.api.errors import AWS_JSON
from amtune.app.teams import NewKey
from amtune.app.validation import listing
from amtune.app.validation.create_shape import CREATE_TUNING_JOB
from amtune.app.validation.names import TRAINING_JOB_NAME, TUNING_JOB_NAME
from amtune.app.validation.shapes import (
    Bool,
    Int,
    ListOf,
    MapOf,
    Num,
    Shape,
    Str,
    Struct,
    required,
)
from tests.conftest import LiveServer
from tests.teams.signing import REGION


def json_schema(shape: Shape, depth: int = 0) -> dict[str, Any]:
    """The application layer's shape as JSON Schema (patterns Python cannot compile left out).

    Below :data:`MAX_DEPTH` levels a member is any JSON object: generating the whole
    CreateHyperParameterTuningJob shape with every pattern takes Hypothesis minutes."""
    if depth > MAX_DEPTH:
        return {}
    if isinstance(shape, Str):
        out: dict[str, Any] = {"type": "string"}
        if shape.enum is not None:
            return {"type": "string", "enum": list(shape.enum)}
        if shape.min_len is not None:
            out["minLength"] = shape.min_len
        if shape.max_len is not None:
            out["maxLength"] = shape.max_len
        if shape.pattern is not None:
            pattern = f"^(?:{shape.pattern.text})$"
            try:
                re.compile(pattern)
                out["pattern"] = pattern
            except re.error:
                pass
        return out
    if isinstance(shape, Int):
        low = shape.min if shape.min is not None else -(2**31)
        high = shape.max if shape.max is not None else 2**31 - 1
        return {"type": "integer", "minimum": low, "maximum": high}
    if isinstance(shape, Num):
        out = {"type": "number"}
        if shape.min is not None:
            out["minimum"] = shape.min
        if shape.max is not None:
            out["maximum"] = shape.max
        return out
    if isinstance(shape, Bool):
        return {"type": "boolean"}
    if isinstance(shape, ListOf):
        out = {"type": "array", "items": json_schema(shape.item, depth + 1)}
        if shape.min_len is not None:
            out["minItems"] = shape.min_len
        if shape.max_len is not None:
            out["maxItems"] = min(shape.max_len, 3)
        return out
    if isinstance(shape, MapOf):
        return {
            "type": "object",
            "maxProperties": 3,
            "additionalProperties": json_schema(shape.value, depth + 1),
        }
    return {
        "type": "object",
        "properties": {m.name: json_schema(m.shape, depth + 1) for m in shape.members},
        "required": [m.name for m in shape.members if m.required],
    }


MAX_DEPTH = 1
TUNING_NAME = Struct((required("HyperParameterTuningJobName", TUNING_JOB_NAME),))
TRAINING_NAME = Struct((required("TrainingJobName", TRAINING_JOB_NAME),))
SHAPES: dict[str, Struct] = {
    "CreateHyperParameterTuningJob": CREATE_TUNING_JOB,
    "DescribeHyperParameterTuningJob": TUNING_NAME,
    "ListHyperParameterTuningJobs": listing.LIST_TUNING_JOBS,
    "StopHyperParameterTuningJob": TUNING_NAME,
    "DeleteHyperParameterTuningJob": TUNING_NAME,
    "ListTrainingJobsForHyperParameterTuningJob": listing.LIST_TRAINING_JOBS_FOR_TUNING_JOB,
    "DescribeTrainingJob": TRAINING_NAME,
    "ListTrainingJobs": listing.LIST_TRAINING_JOBS,
    "StopTrainingJob": TRAINING_NAME,
    "ListTags": Struct((required("ResourceArn", Str(min_len=1, max_len=256)),)),
}
DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "amtune AWS JSON face, one path per target", "version": "1"},
    "paths": {
        f"/{operation}": {
            "post": {
                "operationId": operation,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": json_schema(shape)}},
                },
                "responses": {"default": {"description": "any"}},
            }
        }
        for operation, shape in SHAPES.items()
    },
}
schema = schemathesis.openapi.from_dict(DOCUMENT)


def signed_call(url: str, key: NewKey, operation: str, body: Any) -> httpx.Response:
    headers = {"Content-Type": AWS_JSON, "X-Amz-Target": f"SageMaker.{operation}"}
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=url + "/", data=data, headers=headers)
    credentials = Credentials(key.access_key_id, key.secret_access_key)
    SigV4Auth(credentials, "sagemaker", REGION).add_auth(request)
    prepared = request.prepare()
    return httpx.post(
        prepared.url, headers=dict(prepared.headers.items()), content=prepared.body, timeout=30
    )


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_signed_generated_requests_never_get_a_5xx(
    case: Any, server: LiveServer, team_a: NewKey
) -> None:
    operation = case.operation.definition.raw["operationId"]
    body = case.body if isinstance(case.body, dict) else {}
    response = signed_call(server.url, team_a, operation, body)
    assert response.status_code < 500, (operation, body, response.text)
    assert response.headers["content-type"].startswith(AWS_JSON)
    if response.status_code >= 400:
        error = response.json()
        assert error["__type"] and error["message"], error
        assert not error["__type"].endswith("SignatureException"), error
