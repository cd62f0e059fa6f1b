"""The AWS JSON 1.1 face: ``POST /`` with ``X-Amz-Target: SageMaker.<Operation>``.

It parses the body, picks the use case named by the target, and renders the result. All
validation and every rule live in the application layer.

One CloudWatch operation shares the endpoint: ``GetMetricStatistics`` (AWS JSON 1.0, target
``GraniteServiceVersion20100801.GetMetricStatistics``, signed for ``monitoring``), which the
SageMaker SDK's TrainingJobAnalytics calls for a training job's metric curves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from amtune.api.deps import aws_caller_of, cloudwatch_caller_of, the_tuner
from amtune.api.errors import AWS_JSON, aws_status, error_response, map_exception, request_id
from amtune.app.context import Caller
from amtune.app.service import Tuner

TARGET_PREFIX = "SageMaker."
MAX_BODY_BYTES = 1 << 20

Operation = Callable[[Tuner, Caller, dict[str, Any]], dict[str, Any] | None]

OPERATIONS: dict[str, Operation] = {
    "CreateHyperParameterTuningJob": lambda t, c, b: t.create_tuning_job(c, b),
    "DescribeHyperParameterTuningJob": lambda t, c, b: t.describe_tuning_job(
        c, b.get("HyperParameterTuningJobName")
    ),
    "ListHyperParameterTuningJobs": lambda t, c, b: t.list_tuning_jobs(c, b),
    "StopHyperParameterTuningJob": lambda t, c, b: t.stop_tuning_job(
        c, b.get("HyperParameterTuningJobName")
    ),
    "DeleteHyperParameterTuningJob": lambda t, c, b: t.delete_tuning_job(
        c, b.get("HyperParameterTuningJobName")
    ),
    "ListTrainingJobsForHyperParameterTuningJob": lambda t, c, b: (
        t.list_training_jobs_for_tuning_job(c, b)
    ),
    "DescribeTrainingJob": lambda t, c, b: t.describe_training_job(c, b.get("TrainingJobName")),
    "ListTrainingJobs": lambda t, c, b: t.list_training_jobs(c, b),
    "StopTrainingJob": lambda t, c, b: t.stop_training_job(c, b.get("TrainingJobName")),
    # Outside the nine, but the SageMaker SDK's Estimator.attach needs it.
    "ListTags": lambda t, c, b: t.list_tags(c, b),
}

CLOUDWATCH_TARGET = "GraniteServiceVersion20100801.GetMetricStatistics"
AWS_JSON_10 = "application/x-amz-json-1.0"


def _metric_statistics(tuner: Tuner, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    return tuner.get_metric_statistics(caller, body)


router = APIRouter()


def _aws_error(code: str, message: str, status: int = 400, media: str = AWS_JSON) -> Response:
    return error_response(code, message, status, media_type=media)


@router.post(
    "/",
    summary="AWS JSON 1.1 endpoint of the SageMaker AMT operations",
    description=(
        "The nine SageMaker operations of Automatic Model Tuning, as boto3 and the AWS CLI "
        "call them: the operation is named by the X-Amz-Target header "
        "(SageMaker.CreateHyperParameterTuningJob, ...), the body is its request shape."
    ),
    operation_id="awsJsonRpc",
    tags=["aws"],
    responses={400: {"description": "An AWS-style error: __type and message"}},
)
async def aws_json_rpc(
    request: Request, x_amz_target: str | None = Header(default=None)
) -> Response:
    target = x_amz_target or ""
    cloudwatch = target == CLOUDWATCH_TARGET
    media = AWS_JSON_10 if cloudwatch else AWS_JSON
    operation = (
        _metric_statistics if cloudwatch else OPERATIONS.get(target.removeprefix(TARGET_PREFIX))
    )
    if not (cloudwatch or target.startswith(TARGET_PREFIX)) or operation is None:
        return _aws_error("UnknownOperationException", f"Unknown operation {target!r}.")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return _aws_error(
            "SerializationException", "The request body is larger than 1 MiB.", media=media
        )
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        return _aws_error(
            "SerializationException", "The request body is not valid JSON.", media=media
        )
    if not isinstance(body, dict):
        return _aws_error(
            "SerializationException", "The request body must be a JSON object.", media=media
        )
    try:
        tuner = the_tuner(request)
        caller = await (cloudwatch_caller_of if cloudwatch else aws_caller_of)(request)
        result = await _in_thread(operation, tuner, caller, body)
    except Exception as exc:
        error = map_exception(exc)
        status = 500 if error.code == "InternalFailure" else aws_status(error)
        return _aws_error(error.code, error.message, status, media=media)
    return Response(
        json.dumps(result or {}, allow_nan=False),
        media_type=media,
        headers={"x-amzn-RequestId": request_id()},
    )


async def _in_thread(
    operation: Operation, tuner: Tuner, caller: Caller, body: dict[str, Any]
) -> dict[str, Any] | None:
    """Database work is blocking: keep it off the event loop."""
    return await run_in_threadpool(operation, tuner, caller, body)
