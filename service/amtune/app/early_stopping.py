"""Stopping training jobs early: AMT's median rule and Hyperband's successive halving.

A tuning job with ``TrainingJobEarlyStoppingType=Auto`` judges its training jobs by the median
rule, one with ``Strategy=Hyperband`` by asynchronous Hyperband: successive halving in brackets
that start at successive rungs, a job's bracket drawn from its number ``seq``, so no column
records it (the pure rules are in :mod:`amtune.engine.stopping`). Each training job carries its
rule on its own row (``stopping_rule``, set when it is created), so a metric report, which
touches only that row, knows whether anything is to be judged without reading the tuning job;
jobs without a rule pay nothing more than before.

A job is judged after every report that carries a stepped value of its objective metric. The
judgement reads the stepped objective points of the tuning job's training jobs of the same
definition (their learning curves) outside any transaction; when the rule says stop, one short
transaction locks the job's row and turns ``StopRequested`` on (status ``Stopping``, a
``Stopping`` transition saying why). The report that caused it already answers
``StopRequested: true``, and so does every later report and heartbeat. The job then ends
``Stopped`` when its worker ends it, keeping its last objective value.

Hyperband also tells a job that reached ``MaxResource`` to stop: its training is done and its
objective final, so it ends ``Completed``, not ``Stopped`` (:func:`ends_completed`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from amtune.app import events, lifecycle
from amtune.app.context import Context
from amtune.app.definitions import definitions_of
from amtune.app.domain import TrainingStatus, to_minimise
from amtune.app.validation.strategy import EPOCH_KEYS
from amtune.engine.stopping import hyperband_stops, median_rule_stops, rung_levels
from amtune.store import repository
from amtune.store.guarded_writes import Held
from amtune.store.models import TrainingJobRow, TuningJobRow

MEDIAN = "Median"
HYPERBAND = "Hyperband"

MEDIAN_MIN_EARLIER_JOBS = 3
"""The median rule stops nobody at a step until this many earlier training jobs (created
before the judged one, of the same definition, running or ended) have reached that step: the
median of fewer says little."""

MEDIAN_MIN_PROGRESS = 0.1
"""The median rule judges a job at a step only from a tenth of the longest learning curve of the
earlier jobs on (the highest step any of them reported): the first values of a curve rank
configurations poorly. Measured in ``bench/MULTIFIDELITY.md``: without it the rule stopped the
eventually best configuration at its first or second step on gradient boosting and the MLP."""

HYPERBAND_ETA = 3.0
"""Successive halving's reduction factor: rungs at MinResource * 3^k, the top third passes."""

HYPERBAND_GRACE = 3
"""At a rung, nobody is stopped while fewer than this many jobs (the judged one included)
have reached it: the first values at a rung are too few to rank."""

STOPPED_BY_MEDIAN = "Stopped by early stopping (TrainingJobEarlyStoppingType=Auto)"
STOPPED_AT_RUNG = "Stopped by Hyperband"
REACHED_MAX_RESOURCE = "Reached MaxResource"

Metric = tuple[str, float, float, int | None]


def rule_of(strategy: str, request: Mapping[str, Any]) -> str | None:
    """The rule the training jobs of a tuning job are judged by (None: never stopped early)."""
    if strategy == "Hyperband":
        return HYPERBAND
    if request["HyperParameterTuningJobConfig"].get("TrainingJobEarlyStoppingType") == "Auto":
        return MEDIAN
    return None


@dataclass(frozen=True)
class _Judging:
    """One definition's objective direction and, under Hyperband, its rungs."""

    objective_type: str | None
    rungs: tuple[float, ...]


@dataclass(frozen=True)
class _Rules:
    rule: str | None
    by_definition: dict[str | None, _Judging]


def max_resource_of(config: Mapping[str, Any], static: Mapping[str, str]) -> int:
    """Hyperband's MaxResource: as given, else the first epochs-like static hyperparameter.

    Validation has already refused a request where neither yields an integer."""
    hyperband = (config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig") or {}
    if hyperband.get("MaxResource") is not None:
        return int(hyperband["MaxResource"])
    for key in EPOCH_KEYS:
        if key in static:
            return int(static[key])
    raise ValueError("no MaxResource and no epochs-like static hyperparameter")


def min_resource_of(config: Mapping[str, Any]) -> int:
    hyperband = (config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig") or {}
    return int(hyperband.get("MinResource") or 1)


def _rules_from(tuning: TuningJobRow) -> _Rules:
    request = tuning.request
    config = request["HyperParameterTuningJobConfig"]
    rule = rule_of(tuning.strategy, request)
    by_definition: dict[str | None, _Judging] = {}
    for definition in definitions_of(request):
        rungs: tuple[float, ...] = ()
        if rule == HYPERBAND:
            rungs = rung_levels(
                min_resource_of(config),
                max_resource_of(config, definition.static),
                HYPERBAND_ETA,
            )
        by_definition[definition.name] = _Judging(definition.objective_type, rungs)
    return _Rules(rule, by_definition)


_RULES: OrderedDict[tuple[int, float], _Rules] = OrderedDict()
_RULES_SIZE = 256
_RULES_LOCK = threading.Lock()


def _rules_of(tuning: TuningJobRow) -> _Rules:
    """Parsed once per process: a tuning job's request never changes after creation."""
    key = (tuning.id, tuning.created_at)
    with _RULES_LOCK:
        found = _RULES.get(key)
        if found is not None:
            _RULES.move_to_end(key)
            return found
    rules = _rules_from(tuning)
    with _RULES_LOCK:
        _RULES[key] = rules
        while len(_RULES) > _RULES_SIZE:
            _RULES.popitem(last=False)
    return rules


def judge(ctx: Context, held: Held, reported: Sequence[Metric]) -> bool:
    """After a report on a held job: whether it is (now) told to stop."""
    if held.stop_requested:
        return True
    if held.stopping_rule is None or held.tuning_job_id is None:
        return False
    new_points = sum(
        1 for name, _, _, step in reported if name == held.objective_metric and step is not None
    )
    if not new_points:
        return False
    reason = ctx.run(lambda session: _verdict(session, held, new_points), readonly=True)
    if reason is None:
        return False
    return ctx.run(lambda session: _request_stop(session, held.id, ctx.now(), reason))


def _verdict(session: Session, held: Held, new_points: int) -> str | None:
    """Why the job should stop now, or None to let it run on.

    The rule is applied at each of the ``new_points`` objective points the report brought, in
    step order, as if they had come one by one: a worker that batches several epochs into one
    report is judged at every epoch (and every rung) it passed, not only at the last."""
    assert held.tuning_job_id is not None
    tuning = repository.tuning_job_by_id(session, held.tuning_job_id)
    rules = _rules_of(tuning)
    curves = repository.objective_curves(session, tuning.id)
    if held.seq not in curves:
        return None
    definition, points = curves[held.seq]
    judging = rules.by_definition.get(definition)
    if judging is None:
        return None

    def minimised(curve: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(step, to_minimise(value, judging.objective_type)) for step, value in curve]

    mine = minimised(points)
    same_definition = [
        (seq, minimised(curve)) for seq, (name, curve) in curves.items() if name == definition
    ]
    earlier = [curve for seq, curve in same_definition if seq < held.seq]
    others = [curve for seq, curve in same_definition if seq != held.seq]
    for end in range(max(len(mine) - new_points, 0) + 1, len(mine) + 1):
        # Hyperband's bracket goes by the job's 0-based ordinal (seq counts from 1).
        reason = _reason(held.stopping_rule, judging, mine[:end], held.seq - 1, earlier, others)
        if reason is not None:
            return reason
    return None


def _reason(
    rule: str | None,
    judging: _Judging,
    mine: list[tuple[float, float]],
    index: int,
    earlier: list[list[tuple[float, float]]],
    others: list[list[tuple[float, float]]],
) -> str | None:
    step = mine[-1][0]
    if rule == MEDIAN:
        if median_rule_stops(
            mine, earlier, min_others=MEDIAN_MIN_EARLIER_JOBS, min_progress=MEDIAN_MIN_PROGRESS
        ):
            return f"{STOPPED_BY_MEDIAN}: worse than the median at step {step:g}"
        return None
    if rule == HYPERBAND and judging.rungs:
        if step >= judging.rungs[-1]:
            return f"{REACHED_MAX_RESOURCE} ({judging.rungs[-1]:g})"
        if hyperband_stops(
            mine,
            index,
            others,
            rungs=judging.rungs,
            eta=HYPERBAND_ETA,
            min_at_rung=HYPERBAND_GRACE,
        ):
            return f"{STOPPED_AT_RUNG}: not in the top third at step {step:g}"
    return None


def _request_stop(session: Session, job_id: int, now: float, reason: str) -> bool:
    job = repository.training_job_by_id(session, job_id, for_update=True)
    if job.status == TrainingStatus.IN_PROGRESS and not job.stop_requested:
        lifecycle.request_training_stop(job, now, message=reason)
        if not reason.startswith(REACHED_MAX_RESOURCE):  # that one finished its training
            events.training_job_stopped_early(job.account_id, job.name, reason)
    return job.stop_requested


def ends_completed(job: TrainingJobRow) -> bool:
    """A job told to stop because it reached Hyperband's MaxResource finished its training."""
    return any(
        entry.get("Status") == "Stopping"
        and str(entry.get("StatusMessage", "")).startswith(REACHED_MAX_RESOURCE)
        for entry in job.transitions
    )
