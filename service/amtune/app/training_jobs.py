"""Describe, list and stop training jobs, and list those of one tuning job."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amtune.app import lifecycle, views
from amtune.app.context import Caller, Context
from amtune.app.domain import ENDED_TRAINING
from amtune.app.errors import TrainingJobNotFound, ValidationError
from amtune.app.listing import list_page, name_filtered, time_filtered
from amtune.app.naming import training_job_arn
from amtune.app.tuning_jobs import load as load_tuning_job
from amtune.app.validation import (
    validate_list_training_job_metrics,
    validate_list_training_jobs,
    validate_list_training_jobs_for_tuning_job,
    validate_training_job_name,
    validate_tuning_job_name,
)
from amtune.store import repository
from amtune.store.models import MetricRow, TrainingJobRow, TuningJobRow
from amtune.store.repository import Lock

NAME_FIELD = "trainingJobName"


def not_found(ctx: Context, caller: Caller, name: str) -> TrainingJobNotFound:
    """AWS answers a missing training job with ValidationException, not ResourceNotFound."""
    arn = training_job_arn(ctx.settings.region, caller.account_id, name)
    return TrainingJobNotFound(
        f"Requested resource not found: Could not find training job '{arn}'."
    )


def load(
    ctx: Context, session: Session, caller: Caller, name: str, *, for_update: bool = False
) -> TrainingJobRow:
    job = repository.training_job(session, caller.account_id, name, for_update=for_update)
    if job is None:
        raise not_found(ctx, caller, name)
    return job


def describe(ctx: Context, caller: Caller, name: str) -> dict[str, Any]:
    validate_training_job_name(name, NAME_FIELD)
    return ctx.run(
        lambda s: views.training_job_description(load(ctx, s, caller, name)), readonly=True
    )


def stop(ctx: Context, caller: Caller, name: str) -> None:
    validate_training_job_name(name, NAME_FIELD)

    def work(session: Session) -> None:
        job = load(ctx, session, caller, name)
        tuning = (
            repository.tuning_job_by_id(session, job.tuning_job_id, lock=Lock.UPDATE)
            if job.tuning_job_id is not None
            else None
        )
        session.refresh(job)
        now = ctx.now()
        if tuning is not None:
            lifecycle.settle(session, tuning, now)
        if job.status in ENDED_TRAINING:
            raise ValidationError(
                f"The request was rejected because the training job is in status {job.status}."
            )
        lifecycle.request_training_stop(job, now)
        session.flush()
        if tuning is not None:
            lifecycle.settle(session, tuning, now)

    ctx.run(work)


FOR_TUNING_SORT = {
    "Name": TrainingJobRow.name,
    "CreationTime": TrainingJobRow.created_at,
    "Status": TrainingJobRow.status,
    "FinalObjectiveMetricValue": TrainingJobRow.objective_value,
}


def list_for_tuning_job(ctx: Context, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    name = request.get("HyperParameterTuningJobName")
    validate_tuning_job_name(name, "hyperParameterTuningJobName")
    validate_list_training_jobs_for_tuning_job(request)
    assert isinstance(name, str)
    tuning: TuningJobRow = ctx.run(lambda s: load_tuning_job(s, caller, name), readonly=True)
    query = select(TrainingJobRow).where(TrainingJobRow.tuning_job_id == tuning.id)
    if request.get("StatusEquals"):
        query = query.where(TrainingJobRow.status == request["StatusEquals"])
    if request.get("SortBy") == "FinalObjectiveMetricValue":
        # AMT leaves out jobs without an objective value from this ordering.
        query = query.where(
            TrainingJobRow.objective_value.is_not(None),
            TrainingJobRow.ended_at.is_not(None),
        )
    return list_page(
        ctx,
        caller,
        request,
        query=query,
        sort_columns=FOR_TUNING_SORT,
        default_sort="Name",
        id_column=TrainingJobRow.id,
        render=lambda _s, rows: [views.training_job_summary(r, tuning) for r in rows],
        result_key="TrainingJobSummaries",
        scope={"_tuning_job_id": tuning.id},
    )


LIST_SORT = {
    "Name": TrainingJobRow.name,
    "CreationTime": TrainingJobRow.created_at,
    "Status": TrainingJobRow.status,
}


def list_jobs(ctx: Context, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    validate_list_training_jobs(request)
    query = select(TrainingJobRow).where(TrainingJobRow.account_id == caller.account_id)
    query = name_filtered(query, request, TrainingJobRow.name)
    if request.get("StatusEquals"):
        query = query.where(TrainingJobRow.status == request["StatusEquals"])
    query = time_filtered(
        query, request, TrainingJobRow.created_at, TrainingJobRow.last_modified_at
    )
    return list_page(
        ctx,
        caller,
        request,
        query=query,
        sort_columns=LIST_SORT,
        default_sort="CreationTime",
        id_column=TrainingJobRow.id,
        render=lambda _s, rows: [views.training_job_list_summary(r) for r in rows],
        result_key="TrainingJobSummaries",
    )


DEFAULT_METRIC_RESULTS = 100


def list_metrics(ctx: Context, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    """The metric points a training job reported, in the order they came (so each metric's
    points in step order), optionally of one ``MetricName``; paged like the List operations."""
    validate_list_training_job_metrics(request)
    name = request["TrainingJobName"]
    job_id: int = ctx.run(lambda s: load(ctx, s, caller, name).id, readonly=True)
    query = select(MetricRow).where(MetricRow.training_job_id == job_id)
    if request.get("MetricName"):
        query = query.where(MetricRow.metric_name == request["MetricName"])
    return list_page(
        ctx,
        caller,
        {**request, "MaxResults": request.get("MaxResults") or DEFAULT_METRIC_RESULTS},
        query=query,
        sort_columns={"Id": MetricRow.id},
        default_sort="Id",
        id_column=MetricRow.id,
        render=lambda _s, rows: [views.metric_point(r) for r in rows],
        result_key="Metrics",
        scope={"_training_job_id": job_id},
    )
