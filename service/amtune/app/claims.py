"""Handing the next training job to a worker.

A claim runs in up to three short transactions rather than one long one: the suggestion
engine may take a while (a Gaussian process fit), and no database lock is held across it.

1. Lock the tuning job, settle it (lapsed leases, limits), re-issue a job awaiting a retry,
   or check that a new job may start, and snapshot the history the strategy needs.
2. Outside any transaction, ask the strategy for the next config.
3. Lock again and insert the job only if no other claim created one meanwhile (the job's
   ``created_count`` is unchanged); otherwise start over with the new history.

Within one process, claims of the same tuning job take turns from step 1 to 3
(:class:`_Suggesting`), so a suggestion is rarely computed only to lose the insert.

Cheap strategies (Random, Grid) are computed inside the first transaction instead.
The unique (tuning job, seq) key backs the count check: no two jobs share a number.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from amtune.app import early_stopping, events, lifecycle, warm_start
from amtune.app.context import Caller, Context
from amtune.app.definitions import definitions_of, with_objective_key
from amtune.app.domain import (
    ACTIVE_TRAINING,
    ENDED_TRAINING,
    Definition,
    TrainingStatus,
    TuningStatus,
)
from amtune.app.domain import to_minimise as minimised
from amtune.app.errors import Conflict, ServiceUnavailable, ValidationError
from amtune.app.naming import training_job_arn, training_job_name
from amtune.app.tuning_jobs import load as load_tuning_job
from amtune.app.validation.names import validate_tuning_job_name
from amtune.engine.spaces import SearchSpace
from amtune.engine.strategies import get_strategy
from amtune.engine.strategies.base import History, Suggestion, Trial, suggest_scored
from amtune.observe import metrics
from amtune.store import guarded_writes, repository
from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import Lock

CHEAP_STRATEGIES = frozenset({"Random", "Grid"})
MAX_ROUNDS = 50
#: Tries of the quick path when another claim took the job number first. The locked path holds
#: the tuning job's row over several round trips, and every quick claim's number UPDATE waits
#: behind it and then loses too: one lost race fell back to the lock and dragged the claims
#: behind it along (a fifth of all claims under bench/load, a convoy in the claim p99).
QUICK_ATTEMPTS = 3


@dataclass(frozen=True)
class Claim:
    training_job_name: str
    training_job_arn: str
    hyperparameters: dict[str, str]
    lease_expires_at: float
    heartbeat_interval_seconds: int
    #: The proof of holding the job that every later call on it carries.
    lease_token: str

    def render(self) -> dict[str, Any]:
        return {
            "TrainingJobName": self.training_job_name,
            "TrainingJobArn": self.training_job_arn,
            "HyperParameters": self.hyperparameters,
            "LeaseExpiresAt": self.lease_expires_at,
            "HeartbeatIntervalSeconds": self.heartbeat_interval_seconds,
            "LeaseToken": self.lease_token,
        }


@dataclass(frozen=True)
class Wait:
    """Nothing can start now; ask again after ``retry_after`` seconds."""

    retry_after: int
    reason: str


@dataclass(frozen=True)
class _Ended:
    status: str


@dataclass(frozen=True)
class _Request:
    """Everything the strategy needs, captured under the lock."""

    created_count: int
    strategy: str
    space: SearchSpace
    history: History
    seed: int

    def suggest(self) -> Suggestion:
        """Runs the strategy: cheap ones inside the claim, the rest outside any transaction."""
        started = time.perf_counter()
        suggestion = suggest_scored(
            get_strategy(self.strategy),
            self.space,
            self.history,
            seed=self.seed,
            index=self.created_count,
        )
        metrics.SUGGESTION_SECONDS.labels(self.strategy).observe(time.perf_counter() - started)
        return suggestion


class _Raced:
    """The quick path lost its job number to another claim: worth another quick try."""


_RACED = _Raced()


@dataclass(frozen=True)
class _Suggestion:
    created_count: int
    suggestion: Suggestion


_CLAIMED_200 = metrics.CLAIMS.labels("200")
_CLAIMED_204 = metrics.CLAIMS.labels("204")
_CLAIMED_409 = metrics.CLAIMS.labels("409")


def claim(ctx: Context, caller: Caller, tuning_job_name: str, worker_id: str) -> Claim | Wait:
    """Hand ``worker_id`` the tuning job's next training job, or tell it to wait or to exit.

    ``worker_id`` arrives parsed (a 1-256 character identifier, ``api.schemas``). Counts the
    answer (200, 204, 409) and logs each training job handed out."""
    try:
        outcome = _claim(ctx, caller, tuning_job_name, worker_id)
    except Conflict:
        _CLAIMED_409.inc()
        raise
    if isinstance(outcome, Wait):
        _CLAIMED_204.inc()
    else:
        _CLAIMED_200.inc()
        events.training_job_claimed(
            caller.account_id, outcome.training_job_name, tuning_job_name, worker_id
        )
    return outcome


def check_worker_id(worker_id: Any) -> None:
    """The pool claim's WorkerId rule, for callers of ``Tuner.claim_any`` other than REST."""
    if not isinstance(worker_id, str) or not 1 <= len(worker_id) <= 256:
        raise ValidationError(
            f"Value '{worker_id}' at 'workerId' failed to satisfy constraint: "
            "Member must be a string of 1 to 256 characters"
        )


def _claim(ctx: Context, caller: Caller, tuning_job_name: str, worker_id: str) -> Claim | Wait:
    validate_tuning_job_name(tuning_job_name, "tuningJobName")
    quick_claim = functools.partial(
        _quick_claim, ctx, caller=caller, name=tuning_job_name, worker_id=worker_id
    )
    for _ in range(QUICK_ATTEMPTS):
        quick = ctx.run(quick_claim, one_statement=True)
        if isinstance(quick, Claim):
            return quick
        if quick is not _RACED:
            break
    with _Suggesting(caller.account_id, tuning_job_name) as suggesting:
        suggestion: _Suggestion | None = None
        for _ in range(MAX_ROUNDS):
            outcome = ctx.run(
                functools.partial(
                    _claim_step,
                    ctx,
                    caller=caller,
                    name=tuning_job_name,
                    worker_id=worker_id,
                    suggestion=suggestion,
                )
            )
            if isinstance(outcome, _Request):
                if suggesting.take():
                    continue  # read again: the history may have moved while this claim waited
                suggestion = _Suggestion(outcome.created_count, outcome.suggest())
                continue
            if isinstance(outcome, _Ended):
                raise Conflict(
                    f"The tuning job {tuning_job_name} is {outcome.status}: "
                    "it hands out no more training jobs.",
                    code="TuningJobNotInProgress",
                )
            return outcome
    raise ServiceUnavailable("Too many concurrent claims on this tuning job; try again.")


_SUGGEST_STRIPES = [threading.Lock() for _ in range(64)]


class _Suggesting:
    """This process's turn to run a costly strategy for one tuning job.

    Claims that compute suggestions at the same time from the same history all but one lose
    the insert and compute again: with 8 workers on one Bayesian tuning job, most GP fits were
    thrown away, and a claim could lose 50 rounds in a row and answer 503 (seen in a benchmark
    run through the service). Taken before a claim's first suggestion and held until the claim
    ends, the turn lets one claim of a process suggest at a time, each from the history its
    predecessor left. No transaction is open while a claim waits for it. Claims on other
    replicas can still race; the count check keeps that correct. Tuning jobs share 64 stripes.
    """

    def __init__(self, account_id: str, name: str) -> None:
        self._lock = _SUGGEST_STRIPES[hash((account_id, name.lower())) % len(_SUGGEST_STRIPES)]
        self._held = False

    def take(self) -> bool:
        """Wait for the turn; True the first time (the caller should read again), then False."""
        if self._held:
            return False
        self._lock.acquire()
        self._held = True
        return True

    def __enter__(self) -> _Suggesting:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._held:
            self._lock.release()


def _quick_claim(
    ctx: Context, session: Session, *, caller: Caller, name: str, worker_id: str
) -> Claim | _Raced | None:
    """The common claim: two round trips, the tuning job's lock held for one statement.

    A cheap strategy on a tuning job that plainly runs on (no lapsed lease, no retry waiting,
    a free slot, budget and time left) reads without the lock, then takes the next job number
    and inserts the job in one statement that succeeds only if no other claim took the number
    meanwhile (:func:`guarded_writes.insert_if_number_free`); on PostgreSQL it all runs in
    autocommit. A tuning job's claims then stop queueing behind each other's reads. A lost
    race returns ``_RACED``; anything else returns None and the claim takes the locked path.
    """
    found = repository.tuning_job_with_progress(session, caller.account_id, name, ctx.now())
    if found is None:
        return None  # the locked path answers ResourceNotFound
    tuning, progress = found
    # The job's times come after that read: on SQLite it waited for the write lock there, and
    # a job that ended meanwhile, freeing the slot, must not seem to overlap this one.
    now = ctx.now()
    if tuning.strategy not in CHEAP_STRATEGIES or not lifecycle.runs_on_plainly(tuning, now):
        return None
    if (
        progress.lapsed
        or progress.awaiting_retry
        or progress.active >= tuning.max_parallel
        or lifecycle.first_jobs_all_failed(tuning, progress)
    ):
        return None
    definition, request = _next_request(session, tuning)
    suggested = request.suggest()
    if suggested.config is None:
        return None
    job, token = _started_job(ctx, caller, tuning, definition, suggested, worker_id, now)
    if not guarded_writes.insert_if_number_free(session, job):
        return _RACED
    return _claim_of(ctx, job, token)


def _retry_after(ctx: Context) -> int:
    return 1 if ctx.settings.lease_seconds < 20 else 2


def _claim_step(
    ctx: Context,
    session: Session,
    *,
    caller: Caller,
    name: str,
    worker_id: str,
    suggestion: _Suggestion | None,
) -> Claim | Wait | _Ended | _Request:
    tuning = load_tuning_job(session, caller, name, lock=Lock.CLAIM, with_request=False)
    progress = lifecycle.settle(session, tuning, ctx.now())
    # As on the quick path: the job's times come after the read that found its slot free (a
    # completion share-locks the tuning job, so it may commit while this claim holds its lock),
    # and a job that ended meanwhile must not seem to overlap this one.
    now = ctx.now()
    if progress is None or tuning.status != TuningStatus.IN_PROGRESS:
        return _Ended(tuning.status)
    if progress.awaiting_retry:
        retry = repository.awaiting_retry(session, tuning.id)
        if retry is not None:
            token = lifecycle.start_training_job(retry, worker_id, now, ctx.settings.lease_seconds)
            return _claim_of(ctx, retry, token)
    if progress.active >= tuning.max_parallel:
        return Wait(_retry_after(ctx), "MaxParallelTrainingJobs are in progress")
    if tuning.created_count >= tuning.max_jobs:
        return Wait(_retry_after(ctx), "MaxNumberOfTrainingJobs created; waiting for them to end")

    definition, request = _next_request(session, tuning)
    if suggestion is not None and suggestion.created_count == tuning.created_count:
        suggested = suggestion.suggestion
    elif tuning.strategy in CHEAP_STRATEGIES:
        suggested = request.suggest()
    else:
        return request
    if suggested.config is None:
        if progress.active:
            return Wait(_retry_after(ctx), "the strategy waits for running training jobs")
        lifecycle.complete_exhausted(tuning, now)
        return _Ended(tuning.status)
    job, token = _started_job(ctx, caller, tuning, definition, suggested, worker_id, now)
    tuning.created_count = job.seq
    tuning.last_modified_at = now
    session.add(job)
    return _claim_of(ctx, job, token)


def _next_request(session: Session, tuning: TuningJobRow) -> tuple[Definition, _Request]:
    """The definition the next training job runs and what its strategy needs to choose."""
    plan = _plan_of(tuning)
    index = tuning.created_count % len(plan.definitions)
    definition, space = plan.definitions[index], plan.spaces[index]
    history = History()
    if get_strategy(tuning.strategy).needs_history(space):
        rows = repository.history(session, tuning.id)
        # Learning curves only for the strategy that reads them: they cost a read of every
        # stepped objective point of the tuning job.
        curves = (
            repository.objective_curves(session, tuning.id)
            if plan.stopping_rule == early_stopping.HYPERBAND
            else {}
        )
        history = _history(rows, definition.name, definition.objective_type, curves)
        inherited = plan.inherited[index]
        if inherited.same or inherited.related:
            history = History(
                finished=inherited.same + history.finished,
                pending=history.pending,
                pending_curves=history.pending_curves,
                transfer=inherited.related,
            )
    request = _Request(
        created_count=tuning.created_count,
        strategy=tuning.strategy,
        space=space,
        history=history,
        seed=tuning.random_seed,
    )
    return definition, request


@dataclass(frozen=True)
class _Plan:
    """A tuning job's definitions and their search spaces, parsed once per process."""

    definitions: list[Definition]
    spaces: list[SearchSpace]
    #: The early-stopping rule its training jobs are judged by (``early_stopping.rule_of``).
    stopping_rule: str | None
    #: What each definition inherits from warm-start parents (``app/warm_start.py``).
    inherited: list[warm_start.Observations]


_PLANS: OrderedDict[tuple[int, float], _Plan] = OrderedDict()
_PLANS_SIZE = 256
_PLANS_LOCK = threading.Lock()


def _plan_of(tuning: TuningJobRow) -> _Plan:
    """The stored request never changes after creation, so its parse is kept by (id, created).

    A claim then reads neither the request column nor the ranges again: on a busy tuning job
    that was a third of a claim's work.
    """
    key = (tuning.id, tuning.created_at)
    with _PLANS_LOCK:
        plan = _PLANS.get(key)
        if plan is not None:
            _PLANS.move_to_end(key)
            return plan
    definitions = definitions_of(tuning.request)
    stored = tuning.warm_start if "WarmStartConfig" in tuning.request else None
    plan = _Plan(
        definitions=definitions,
        spaces=[SearchSpace.from_parameter_ranges(d.parameter_ranges) for d in definitions],
        stopping_rule=early_stopping.rule_of(tuning.strategy, tuning.request),
        inherited=[warm_start.observations(stored, d) for d in definitions],
    )
    with _PLANS_LOCK:
        _PLANS[key] = plan
        while len(_PLANS) > _PLANS_SIZE:
            _PLANS.popitem(last=False)
    return plan


def _history(
    rows: list[tuple[str | None, str, dict[str, Any], float | None, int]],
    definition: str | None,
    objective_type: str | None,
    curves: Mapping[int, tuple[str | None, list[tuple[float, float]]]],
) -> History:
    """The strategy's view of one definition's jobs; every value minimised, curves included
    for the jobs in ``curves`` (by seq)."""

    def curve_of(seq: int) -> tuple[tuple[float, float], ...]:
        points = curves.get(seq, (None, []))[1]
        return tuple((step, minimised(value, objective_type)) for step, value in points)

    mine = [row for row in rows if row[0] == definition]
    finished = tuple(
        Trial(
            config=tuned,
            objective=None if value is None else minimised(value, objective_type),
            curve=curve_of(seq),
        )
        for _, status, tuned, value, seq in mine
        if status in ENDED_TRAINING
    )
    running = [(tuned, seq) for _, status, tuned, _, seq in mine if status in ACTIVE_TRAINING]
    return History(
        finished=finished,
        pending=tuple(tuned for tuned, _ in running),
        pending_curves=tuple(curve_of(seq) for _, seq in running) if curves else (),
    )


def _started_job(
    ctx: Context,
    caller: Caller,
    tuning: TuningJobRow,
    definition: Definition,
    suggested: Suggestion,
    worker_id: str,
    now: float,
) -> tuple[TrainingJobRow, str]:
    """The tuning job's next training job, already handed to ``worker_id``, not yet stored,
    and the lease token of that worker."""
    config = suggested.config
    assert config is not None
    seq = tuning.created_count + 1
    name = training_job_name(tuning.name, seq)
    hyperparameters = {
        **with_objective_key(definition.static, definition.objective_metric),
        **config,
    }
    job = TrainingJobRow(
        account_id=caller.account_id,
        tuning_job_id=tuning.id,
        tuning_job_name=tuning.name,
        tuning_job_arn=tuning.arn,
        definition=definition.body,
        definition_name=definition.name,
        objective_metric=definition.objective_metric,
        seq=seq,
        name=name,
        arn=training_job_arn(ctx.settings.region, caller.account_id, name),
        status=TrainingStatus.IN_PROGRESS,
        secondary_status="Starting",
        hyperparameters=hyperparameters,
        tuned_hyperparameters=dict(config),
        stop_requested=False,
        metric_count=0,
        stopping_rule=_plan_of(tuning).stopping_rule,
        attempt=1,
        transitions=[{"Status": "Starting", "StartTime": now, "StatusMessage": "Created"}],
        created_at=now,
        last_modified_at=now,
        expected_improvement=suggested.expected_improvement,
    )
    token = lifecycle.start_training_job(job, worker_id, now, ctx.settings.lease_seconds)
    return job, token


def _claim_of(ctx: Context, job: TrainingJobRow, token: str) -> Claim:
    assert job.lease_expires_at is not None
    return Claim(
        training_job_name=job.name,
        training_job_arn=job.arn,
        hyperparameters=dict(job.hyperparameters),
        lease_expires_at=job.lease_expires_at,
        heartbeat_interval_seconds=ctx.settings.heartbeat_interval_seconds,
        lease_token=token,
    )
