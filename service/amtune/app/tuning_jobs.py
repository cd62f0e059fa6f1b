"""Create, describe, list, stop and delete tuning jobs."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from amtune.app import autotune, completion, events, lifecycle, views, warm_start
from amtune.app.context import Caller, Context
from amtune.app.definitions import definitions_of, primary_objective
from amtune.app.domain import TERMINAL_TUNING, Counters, TuningStatus, is_better
from amtune.app.errors import (
    ResourceInUse,
    ResourceLimitExceeded,
    ResourceNotFound,
    ValidationError,
)
from amtune.app.listing import list_page, name_filtered, time_filtered
from amtune.app.naming import tuning_job_arn
from amtune.app.teams.quotas import quotas_for
from amtune.app.validation import (
    validate_create_tuning_job,
    validate_list_tuning_jobs,
    validate_tuning_job_name,
)
from amtune.engine.spaces import SearchSpace
from amtune.store import repository
from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import Lock

NAME_FIELD = "hyperParameterTuningJobName"


def not_found(name: str) -> ResourceNotFound:
    return ResourceNotFound(f"Amazon SageMaker can't find a tuning job with name {name}")


def load(
    session: Session,
    caller: Caller,
    name: str,
    *,
    lock: Lock | None = None,
    with_request: bool = True,
) -> TuningJobRow:
    row = repository.tuning_job(
        session, caller.account_id, name, lock=lock, with_request=with_request
    )
    if row is None:
        raise not_found(name)
    return row


def counters_for(session: Session, ids: list[int]) -> dict[int, Counters]:
    result = {row_id: Counters() for row_id in ids}
    for tuning_id, status, retryable, has_objective, n in repository.counter_rows(session, ids):
        result[tuning_id].add(status, retryable, has_objective, n)
    return result


def _stored_request(request: dict[str, Any], max_jobs: int) -> dict[str, Any]:
    """The request as Describe echoes it, with the defaults the service chose filled in."""
    stored = copy.deepcopy(request)
    config = stored["HyperParameterTuningJobConfig"]
    config.setdefault("TrainingJobEarlyStoppingType", "Off")
    config["ResourceLimits"].setdefault("MaxNumberOfTrainingJobs", max_jobs)
    return stored


def _max_jobs(request: dict[str, Any]) -> int:
    config = request["HyperParameterTuningJobConfig"]
    given = config["ResourceLimits"].get("MaxNumberOfTrainingJobs")
    if given is not None:
        return int(given)
    # Only Grid may omit it (validation enforces that): one job per grid point.
    total = 0
    for definition in definitions_of(request):
        count = SearchSpace.from_parameter_ranges(definition.parameter_ranges).cardinality()
        total += count or 0
    return total


def create(ctx: Context, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    request, left_to_autotune = autotune.fill_required(request)
    validate_create_tuning_job(request)
    resolved = autotune.resolve(request, left_to_autotune)
    if resolved is not request:
        validate_create_tuning_job(autotune.chosen_only(resolved))  # its choices obey the rules
        request = resolved
    config = request["HyperParameterTuningJobConfig"]
    limits = config["ResourceLimits"]
    name = request["HyperParameterTuningJobName"]
    max_jobs = _max_jobs(request)
    objective_type, objective_metric = primary_objective(request)
    retry = (definitions_of(request)[0].body.get("RetryStrategy") or {}).get(
        "MaximumRetryAttempts", 0
    )
    seed = config.get("RandomSeed")
    arn = tuning_job_arn(ctx.settings.region, caller.account_id, name)

    def work(session: Session) -> None:
        # The team's quotas (the settings are the defaults); this locks the team's row, so
        # concurrent creates of one team are counted one after the other.
        quotas = quotas_for(session, ctx.settings, caller.account_id)
        if autotune.CHOSEN_PARALLEL in left_to_autotune:  # Autotune stays within the quota
            limits[autotune.CHOSEN_PARALLEL] = min(
                limits[autotune.CHOSEN_PARALLEL], quotas.max_parallel_training_jobs
            )
        if limits["MaxParallelTrainingJobs"] > quotas.max_parallel_training_jobs:
            raise ResourceLimitExceeded(
                f"The value {limits['MaxParallelTrainingJobs']} for "
                "'hyperParameterTuningJobConfig.resourceLimits.maxParallelTrainingJobs' exceeds "
                "the account's quota of "
                f"{quotas.max_parallel_training_jobs} parallel training jobs per tuning job."
            )
        if repository.tuning_job(session, caller.account_id, name) is not None:
            raise ResourceInUse(
                f"A hyperparameter tuning job with the name, {name}, already exists. "
                "Choose a different name."
            )
        live = repository.count_tuning_jobs_in_status(
            session, caller.account_id, [TuningStatus.IN_PROGRESS, TuningStatus.STOPPING]
        )
        if live >= quotas.max_concurrent_tuning_jobs:
            raise ResourceLimitExceeded(
                f"The account already has {live} tuning jobs in progress, the quota of "
                f"{quotas.max_concurrent_tuning_jobs}. Wait for one to end or stop one."
            )
        warm = warm_start.snapshot(session, caller.account_id, request, max_jobs)
        now = ctx.now()
        session.add(
            TuningJobRow(
                account_id=caller.account_id,
                name=name,
                name_key=name.lower(),
                arn=arn,
                status=TuningStatus.IN_PROGRESS,
                strategy=config["Strategy"],
                objective_type=objective_type,
                objective_metric=objective_metric,
                max_jobs=max_jobs,
                max_parallel=limits["MaxParallelTrainingJobs"],
                max_runtime_seconds=limits.get("MaxRuntimeInSeconds"),
                max_retry_attempts=int(retry),
                random_seed=int(seed) if seed is not None else secrets.randbelow(2**31),
                request=_stored_request(request, max_jobs),
                created_count=0,
                completion_criteria=config.get("TuningJobCompletionCriteria") or None,
                warm_start=warm,
                created_at=now,
                last_modified_at=now,
            )
        )
        session.flush()

    try:
        ctx.run(work)
    except IntegrityError as exc:
        # Two creates raced on PostgreSQL: the unique key decided, the loser hears it.
        raise ResourceInUse(
            f"A hyperparameter tuning job with the name, {name}, already exists. "
            "Choose a different name."
        ) from exc
    events.tuning_job_created(caller.account_id, name, config["Strategy"])
    return {"HyperParameterTuningJobArn": arn}


def describe(ctx: Context, caller: Caller, name: str) -> dict[str, Any]:
    validate_tuning_job_name(name, NAME_FIELD)

    def work(session: Session) -> dict[str, Any]:
        tuning = load(session, caller, name)
        counters = counters_for(session, [tuning.id])[tuning.id]
        best = repository.best_training_job(session, tuning.id, tuning.objective_type)
        described = views.tuning_job_description(tuning, counters, best, ctx.now())
        if tuning.completion_criteria:
            facts = lifecycle.completion_facts(session, tuning)
            described["TuningJobCompletionDetails"] = completion.details(
                tuning.objective_type, facts, tuning.converged_at
            )
        overall = _overall_best(session, tuning, best)
        if overall is not None:
            described["OverallBestTrainingJob"] = overall
        return described

    return ctx.run(work, readonly=True)


def _overall_best(
    session: Session, tuning: TuningJobRow, best: TrainingJobRow | None
) -> dict[str, Any] | None:
    """OverallBestTrainingJob: the best of an IdenticalDataAndAlgorithm child and its parents."""
    asked = tuning.request.get("WarmStartConfig") or {}
    if asked.get("WarmStartType") != warm_start.IDENTICAL:
        return None  # without reading the snapshot, the biggest column, at all
    stored = tuning.warm_start
    parent_id = warm_start.best_parent_job(stored, tuning.objective_type)
    overall = session.get(TrainingJobRow, parent_id) if parent_id is not None else None
    if overall is None or overall.objective_value is None:
        overall = best
    elif best is not None and best.objective_value is not None:
        direction = tuning.objective_type or "Minimize"
        if not is_better(overall.objective_value, best.objective_value, direction):
            overall = best
    if overall is None:
        return None
    summary = views.training_job_summary(overall, tuning)
    summary["TuningJobName"] = overall.tuning_job_name
    return summary


TUNING_SORT = {
    "Name": TuningJobRow.name,
    "CreationTime": TuningJobRow.created_at,
    "Status": TuningJobRow.status,
}


def list_jobs(ctx: Context, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    validate_list_tuning_jobs(request)
    query = select(TuningJobRow).where(TuningJobRow.account_id == caller.account_id)
    query = name_filtered(query, request, TuningJobRow.name)
    if request.get("StatusEquals"):
        query = query.where(TuningJobRow.status == request["StatusEquals"])
    query = time_filtered(query, request, TuningJobRow.created_at, TuningJobRow.last_modified_at)

    def render(session: Session, rows: list[TuningJobRow]) -> list[dict[str, Any]]:
        counters = counters_for(session, [r.id for r in rows])
        return [views.tuning_job_summary(r, counters[r.id]) for r in rows]

    return list_page(
        ctx,
        caller,
        request,
        query=query,
        sort_columns=TUNING_SORT,
        default_sort="Name",
        id_column=TuningJobRow.id,
        render=render,
        result_key="HyperParameterTuningJobSummaries",
    )


def stop(ctx: Context, caller: Caller, name: str) -> None:
    validate_tuning_job_name(name, NAME_FIELD)

    def work(session: Session) -> None:
        tuning = load(session, caller, name, lock=Lock.UPDATE)
        now = ctx.now()
        lifecycle.settle(session, tuning, now)
        if tuning.status in TERMINAL_TUNING:
            raise ValidationError(
                f"The hyperparameter tuning job {name} is already in a terminal state "
                f"({tuning.status}) and cannot be stopped."
            )
        if tuning.status == TuningStatus.STOPPING:
            return
        lifecycle.begin_stopping(session, tuning, now)
        session.flush()
        lifecycle.settle(session, tuning, now)

    ctx.run(work)


def delete(ctx: Context, caller: Caller, name: str) -> None:
    validate_tuning_job_name(name, NAME_FIELD)

    def work(session: Session) -> None:
        tuning = load(session, caller, name, lock=Lock.UPDATE)
        lifecycle.settle(session, tuning, ctx.now())
        if tuning.status not in TERMINAL_TUNING:
            raise ValidationError(
                f"The hyperparameter tuning job {name} is in status {tuning.status}, "
                "not in a terminal state. Stop it and wait until it is Stopped before deleting."
            )
        session.delete(tuning)

    ctx.run(work)
