"""The REST face under ``/v1``: the AMT operations as resources, and the worker protocol.

Shapes are the AMT ones (PascalCase); errors carry the AWS codes in the body. Routes only
parse and render: each calls one method of the application layer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.responses import JSONResponse

from amtune.api import schemas
from amtune.api.deps import caller_of, tuner_of
from amtune.app.claims import Wait
from amtune.app.context import Caller
from amtune.app.service import Tuner

router = APIRouter(prefix="/v1", responses={400: {"model": schemas.ErrorBody}})

TunerDep = Annotated[Tuner, Depends(tuner_of)]
CallerDep = Annotated[Caller, Depends(caller_of)]


# --- tuning jobs ---------------------------------------------------------------------------
@router.post("/tuning-jobs", status_code=201, tags=["tuning jobs"], operation_id="createTuningJob")
def create_tuning_job(
    tuner: TunerDep,
    caller: CallerDep,
    body: Annotated[schemas.AmtShape, Body(description="CreateHyperParameterTuningJob request")],
) -> schemas.AmtShape:
    return tuner.create_tuning_job(caller, body)


@router.get("/tuning-jobs", tags=["tuning jobs"], operation_id="listTuningJobs")
def list_tuning_jobs(
    tuner: TunerDep,
    caller: CallerDep,
    query: Annotated[schemas.ListQuery, Query()],
) -> schemas.AmtShape:
    return tuner.list_tuning_jobs(caller, query.model_dump(exclude_none=True))


@router.get("/tuning-jobs/{TuningJobName}", tags=["tuning jobs"], operation_id="describeTuningJob")
def describe_tuning_job(
    tuner: TunerDep,
    caller: CallerDep,
    TuningJobName: str,  # noqa: N803
) -> schemas.AmtShape:
    return tuner.describe_tuning_job(caller, TuningJobName)


@router.post(
    "/tuning-jobs/{TuningJobName}/stop", tags=["tuning jobs"], operation_id="stopTuningJob"
)
def stop_tuning_job(
    tuner: TunerDep,
    caller: CallerDep,
    TuningJobName: str,  # noqa: N803
) -> schemas.AmtShape:
    tuner.stop_tuning_job(caller, TuningJobName)
    return {}


@router.delete(
    "/tuning-jobs/{TuningJobName}",
    status_code=204,
    tags=["tuning jobs"],
    operation_id="deleteTuningJob",
)
def delete_tuning_job(
    tuner: TunerDep,
    caller: CallerDep,
    TuningJobName: str,  # noqa: N803
) -> Response:
    tuner.delete_tuning_job(caller, TuningJobName)
    return Response(status_code=204)


@router.get(
    "/tuning-jobs/{TuningJobName}/training-jobs",
    tags=["tuning jobs"],
    operation_id="listTrainingJobsForTuningJob",
)
def list_training_jobs_for_tuning_job(
    tuner: TunerDep,
    caller: CallerDep,
    TuningJobName: str,  # noqa: N803
    query: Annotated[schemas.ListForTuningJobQuery, Query()],
) -> schemas.AmtShape:
    request = {"HyperParameterTuningJobName": TuningJobName, **query.model_dump(exclude_none=True)}
    return tuner.list_training_jobs_for_tuning_job(caller, request)


# --- training jobs -------------------------------------------------------------------------
@router.get("/training-jobs", tags=["training jobs"], operation_id="listTrainingJobs")
def list_training_jobs(
    tuner: TunerDep,
    caller: CallerDep,
    query: Annotated[schemas.ListQuery, Query()],
) -> schemas.AmtShape:
    return tuner.list_training_jobs(caller, query.model_dump(exclude_none=True))


@router.get(
    "/training-jobs/{TrainingJobName}", tags=["training jobs"], operation_id="describeTrainingJob"
)
def describe_training_job(
    tuner: TunerDep,
    caller: CallerDep,
    TrainingJobName: str,  # noqa: N803
) -> schemas.AmtShape:
    return tuner.describe_training_job(caller, TrainingJobName)


@router.get(
    "/training-jobs/{TrainingJobName}/metrics",
    tags=["training jobs"],
    operation_id="listTrainingJobMetrics",
)
def list_training_job_metrics(
    tuner: TunerDep,
    caller: CallerDep,
    TrainingJobName: str,  # noqa: N803
    query: Annotated[schemas.MetricsQuery, Query()],
) -> schemas.AmtShape:
    request = {"TrainingJobName": TrainingJobName, **query.model_dump(exclude_none=True)}
    return tuner.list_training_job_metrics(caller, request)


@router.post(
    "/training-jobs/{TrainingJobName}/stop",
    tags=["training jobs"],
    operation_id="stopTrainingJob",
)
def stop_training_job(
    tuner: TunerDep,
    caller: CallerDep,
    TrainingJobName: str,  # noqa: N803
) -> schemas.AmtShape:
    tuner.stop_training_job(caller, TrainingJobName)
    return {}


# --- the worker protocol -------------------------------------------------------------------
# Requests to these routes are served by ``api.lean`` (the same endpoints, without FastAPI's
# per-request machinery); FastAPI documents them. They answer with a JSONResponse of what the
# application layer returned: its dicts already have the documented shapes, and re-validating
# them through the response model was an eighth of the service's CPU under load (bench/load).
@router.post(
    "/tuning-jobs/{TuningJobName}/claims",
    tags=["workers"],
    operation_id="claimTrainingJob",
    response_model=schemas.ClaimResponse,
    responses={
        204: {"description": "Nothing can start now; retry after Retry-After seconds."},
        404: {"model": schemas.ErrorBody, "description": "No such tuning job."},
        409: {"model": schemas.ErrorBody, "description": "TuningJobNotInProgress: exit."},
    },
)
def claim(
    tuner: TunerDep,
    caller: CallerDep,
    TuningJobName: str,  # noqa: N803
    body: schemas.ClaimRequest,
) -> Any:
    outcome = tuner.claim(caller, TuningJobName, body.WorkerId)
    if isinstance(outcome, Wait):
        return Response(status_code=204, headers={"Retry-After": str(outcome.retry_after)})
    return JSONResponse(outcome.render())


@router.post(
    "/claims",
    tags=["workers"],
    operation_id="claimFromPool",
    response_model=schemas.PoolClaimResponse,
    responses={
        204: {"description": "No tuning job of the team has work now; retry after Retry-After."},
    },
)
def claim_from_pool(tuner: TunerDep, caller: CallerDep, body: schemas.PoolClaimRequest) -> Any:
    outcome = tuner.claim_any(caller, body.WorkerId, body.Images)
    if isinstance(outcome, Wait):
        return Response(status_code=204, headers={"Retry-After": str(outcome.retry_after)})
    return JSONResponse(outcome.render())


GONE: dict[int | str, dict[str, Any]] = {
    409: {"model": schemas.ErrorBody, "description": "The lease is gone: drop the job."}
}


@router.post(
    "/training-jobs/{TrainingJobName}/heartbeat",
    tags=["workers"],
    operation_id="heartbeat",
    response_model=schemas.HeartbeatResponse,
    responses=GONE,
)
def heartbeat(
    tuner: TunerDep,
    caller: CallerDep,
    TrainingJobName: str,  # noqa: N803
    body: schemas.WorkerBody,
) -> Response:
    return JSONResponse(tuner.heartbeat(caller, TrainingJobName, body.LeaseToken))


@router.post(
    "/training-jobs/{TrainingJobName}/metrics",
    tags=["workers"],
    operation_id="reportMetrics",
    response_model=schemas.StopResponse,
    responses=GONE,
)
def report_metrics(
    tuner: TunerDep,
    caller: CallerDep,
    TrainingJobName: str,  # noqa: N803
    body: schemas.MetricsRequest,
) -> Response:
    result = tuner.report_metrics(
        caller, TrainingJobName, body.LeaseToken, schemas.dumped(body.Metrics)
    )
    return JSONResponse(result)


@router.post(
    "/training-jobs/{TrainingJobName}/complete",
    tags=["workers"],
    operation_id="completeTrainingJob",
    response_model=schemas.EndResponse,
    responses=GONE,
)
def complete(
    tuner: TunerDep,
    caller: CallerDep,
    TrainingJobName: str,  # noqa: N803
    body: schemas.CompleteRequest,
) -> Response:
    result = tuner.complete(
        caller, TrainingJobName, body.LeaseToken, schemas.dumped(body.FinalMetricDataList)
    )
    return JSONResponse(result)


@router.post(
    "/training-jobs/{TrainingJobName}/fail",
    tags=["workers"],
    operation_id="failTrainingJob",
    response_model=schemas.EndResponse,
    responses=GONE,
)
def fail(
    tuner: TunerDep,
    caller: CallerDep,
    TrainingJobName: str,  # noqa: N803
    body: schemas.FailRequest,
) -> Response:
    result = tuner.fail(
        caller, TrainingJobName, body.LeaseToken, body.FailureReason, body.Retryable
    )
    return JSONResponse(result)


@router.post(
    "/training-jobs/{TrainingJobName}/release",
    tags=["workers"],
    operation_id="releaseTrainingJob",
    response_model=schemas.EndResponse,
    responses=GONE,
)
def release(
    tuner: TunerDep,
    caller: CallerDep,
    TrainingJobName: str,  # noqa: N803
    body: schemas.WorkerBody,
) -> Response:
    return JSONResponse(tuner.release(caller, TrainingJobName, body.LeaseToken))
