"""``WarmStartConfig``: a tuning job that starts from what up to five earlier ones learned.

At creation the parents are checked (same team, each terminal) and their observations are
copied into the child (``TuningJobRow.warm_start``): a parent is terminal, so the copy cannot go
stale, and it outlives the parent's deletion. Warm start is not recursive: a grandparent's
observations come along only if it is listed itself.

- ``IdenticalDataAndAlgorithm``: the parents measured the same function. Their trials reach the
  strategy as finished trials ahead of the child's own, so the model starts from them and no
  parent configuration is evaluated again; Describe adds ``OverallBestTrainingJob``, the best
  across the parents and the child. The training-job definition may change only in the fields
  AMT lists (:data:`IDENTICAL_MAY_CHANGE`); ranges and resource limits may change freely.
- ``TransferLearning``: the parents measured a related function (other data, another image
  version). Their trials reach the strategy as one transfer group per parent, each rescaled on
  its own by the Bayesian model (``engine.strategies.bayesian.strategy._targets``).

A warm child never evaluates a parent's configuration again, with any strategy and either kind
(the engine counts the parents' configurations as used, ``History.configs``). There is no way
to ask for a repeat, as AMT has no field for it: an identical parent already measured that
configuration on the same data and algorithm, and a configuration worth measuring on new data
is a job without ``WarmStartConfig`` (docs/warm-start.md).

Either way a parent trial the child's ranges cannot hold is dropped, never clipped: a value
outside a numeric range or a categorical value the child no longer lists (the engine skips what
its space cannot encode), or a hyperparameter the parent tuned and the child holds static at
another value (skipped here). Clipping would claim a value observed beyond the child's bound
was observed on it. Both kinds keep AMT's rules: the objective
metric is the parent's, each hyperparameter keeps its kind (integer, continuous, categorical),
and the parents' training jobs together with the child's budget fit in the service's maximum
of training jobs per tuning job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amtune.app.definitions import definitions_of
from amtune.app.domain import (
    ENDED_TRAINING,
    TERMINAL_TUNING,
    Definition,
    is_better,
    to_minimise,
)
from amtune.app.errors import ResourceNotFound, ValidationError
from amtune.app.validation.strategy import MAX_TRAINING_JOBS
from amtune.engine.strategies.base import Trial
from amtune.store import repository
from amtune.store.models import TrainingJobRow, TuningJobRow

IDENTICAL = "IdenticalDataAndAlgorithm"
TRANSFER = "TransferLearning"

IDENTICAL_MAY_CHANGE = (
    "AlgorithmSpecification",
    "InputDataConfig",
    "OutputDataConfig",
    "StaticHyperParameters",
    "RoleArn",
    "ResourceConfig",
    "StoppingCondition",
    "VpcConfig",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
)
"""The TrainingJobDefinition members an IdenticalDataAndAlgorithm child may change (AMT's list;
``HyperParameterTuningResourceConfig`` is the tuning form of ``ResourceConfig``). Ranges and the
definition's name are not data or algorithm and may change too."""

_NOT_COMPARED = (
    *IDENTICAL_MAY_CHANGE,
    "HyperParameterTuningResourceConfig",
    "HyperParameterRanges",
    "DefinitionName",
    "TuningObjective",
)
IDENTICAL_MESSAGE = (
    "Only the following fields in TrainingJobDefinition are allowed to change: "
    "[algorithmSpecification, inputDataConfig, outputDataConfig, staticHyperParameters, "
    "roleArn, resourceConfig, stoppingCondition, vpcConfig, enableManagedSpotTraining, "
    "checkpointConfig]."
)
_PARENTS = "warmStartConfig.parentHyperParameterTuningJobs"
_KINDS = {
    "IntegerParameterRanges": "integer",
    "ContinuousParameterRanges": "continuous",
    "CategoricalParameterRanges": "categorical",
}


def snapshot(
    session: Session, account_id: str, request: dict[str, Any], max_jobs: int
) -> dict[str, Any] | None:
    """Check the parents of a create request and copy their observations; None without
    ``WarmStartConfig``. Runs in the create's transaction."""
    warm = request.get("WarmStartConfig")
    if not warm:
        return None
    kind = warm["WarmStartType"]
    child = definitions_of(request)
    parents: list[dict[str, Any]] = []
    inherited = 0
    for index, entry in enumerate(warm["ParentHyperParameterTuningJobs"]):
        name = entry["HyperParameterTuningJobName"]
        parent = repository.tuning_job(session, account_id, name)
        if parent is None:
            raise ResourceNotFound(f"Amazon SageMaker can't find a tuning job with name {name}")
        where = f"'{_PARENTS}.{index + 1}.member.hyperParameterTuningJobName'"
        if parent.status not in TERMINAL_TUNING:
            raise ValidationError(
                f"The parent tuning job {name} at {where} is {parent.status}. A warm-start "
                "parent must be in a terminal state (Completed, Stopped or Failed); wait for it "
                "to end or stop it."
            )
        _check_compatible(child, definitions_of(parent.request), kind, name, where)
        trials = _trials(session, parent)
        inherited += parent.created_count
        parents.append(
            {"Name": parent.name, "ObjectiveType": parent.objective_type, "Trials": trials}
        )
    strategy = request["HyperParameterTuningJobConfig"]["Strategy"]
    limit = MAX_TRAINING_JOBS.get(strategy, 750)
    if inherited + max_jobs > limit:
        raise ValidationError(
            f"The parents at '{_PARENTS}' ran {inherited} training jobs; with "
            f"MaxNumberOfTrainingJobs {max_jobs} that exceeds the limit of {limit} training "
            f"jobs per tuning job for the {strategy} strategy, which counts a warm start's "
            "parents too. Provide fewer parents or a smaller MaxNumberOfTrainingJobs."
        )
    return {"WarmStartType": kind, "Parents": parents}


def _trials(session: Session, parent: TuningJobRow) -> list[list[Any]]:
    """[definition name, tuned config, objective or None, training-job id] per ended job."""
    query = (
        select(
            TrainingJobRow.definition_name,
            TrainingJobRow.tuned_hyperparameters,
            TrainingJobRow.objective_value,
            TrainingJobRow.id,
            TrainingJobRow.status,
        )
        .where(TrainingJobRow.tuning_job_id == parent.id)
        .order_by(TrainingJobRow.seq)
    )
    return [
        [definition, dict(tuned), value, job_id]
        for definition, tuned, value, job_id, status in session.execute(query)
        if status in ENDED_TRAINING
    ]


def _check_compatible(
    child: Sequence[Definition],
    parent: Sequence[Definition],
    kind: str,
    name: str,
    where: str,
) -> None:
    if len(child) != len(parent):
        raise ValidationError(
            f"The parent tuning job {name} at {where} has {len(parent)} training job "
            f"definitions and this one {len(child)}. A warm start keeps the number of "
            "definitions."
        )
    for mine, theirs in zip(child, parent, strict=True):
        if mine.objective_metric != theirs.objective_metric:
            raise ValidationError(
                f"The objective metric {mine.objective_metric} differs from the objective "
                f"metric {theirs.objective_metric} of the parent tuning job {name} at {where}. "
                "A warm start keeps the parent's objective metric."
            )
        _check_kinds(mine, theirs, name, where)
        if kind == IDENTICAL and _frozen(mine.body) != _frozen(theirs.body):
            raise ValidationError(IDENTICAL_MESSAGE)


def _check_kinds(mine: Definition, theirs: Definition, name: str, where: str) -> None:
    parent_kinds = _kinds_of(theirs)
    for hyperparameter, kind in _kinds_of(mine).items():
        before = parent_kinds.get(hyperparameter)
        if before is not None and before != kind:
            raise ValidationError(
                f"The hyperparameter {hyperparameter} is tuned as {kind} here but as {before} "
                f"in the parent tuning job {name} at {where}. A warm start keeps each "
                "hyperparameter's kind (integer, continuous or categorical)."
            )
    mine_count = len(mine.static) + len(_kinds_of(mine))
    theirs_count = len(theirs.static) + len(parent_kinds)
    if mine_count != theirs_count:
        raise ValidationError(
            f"This tuning job has {mine_count} static and tuned hyperparameters and the parent "
            f"tuning job {name} at {where} has {theirs_count}. A warm start keeps the number of "
            "hyperparameters."
        )


def _kinds_of(definition: Definition) -> dict[str, str]:
    ranges = definition.parameter_ranges
    return {
        spec["Name"]: kind for member, kind in _KINDS.items() for spec in ranges.get(member, [])
    }


def _frozen(body: dict[str, Any]) -> dict[str, Any]:
    """The members an IdenticalDataAndAlgorithm child must keep, with absent booleans as
    False and an absent environment as empty, so leaving out a default is no change."""
    frozen = {key: value for key, value in body.items() if key not in _NOT_COMPARED}
    for flag in ("EnableNetworkIsolation", "EnableInterContainerTrafficEncryption"):
        frozen[flag] = bool(frozen.get(flag, False))
    frozen["Environment"] = dict(frozen.get("Environment") or {})
    return frozen


@dataclass(frozen=True)
class Observations:
    """What a child's strategy inherits for one of its definitions."""

    same: tuple[Trial, ...] = ()
    """IdenticalDataAndAlgorithm parents' trials: the same function."""
    related: tuple[tuple[Trial, ...], ...] = ()
    """TransferLearning parents' trials, one group per parent."""


def observations(stored: dict[str, Any] | None, definition: Definition) -> Observations:
    """The parents' trials of ``definition`` (matched by name), as the engine minimises them."""
    if not stored:
        return Observations()
    groups: list[tuple[Trial, ...]] = []
    for parent in stored["Parents"]:
        objective_type = parent["ObjectiveType"] or definition.objective_type
        groups.append(
            tuple(
                Trial(
                    config=dict(config),
                    objective=None if value is None else to_minimise(value, objective_type),
                )
                for name, config, value, _job_id in parent["Trials"]
                if name == definition.name and _agrees(config, definition.static)
            )
        )
    if stored["WarmStartType"] == IDENTICAL:
        return Observations(same=tuple(t for group in groups for t in group))
    return Observations(related=tuple(group for group in groups if group))


def _agrees(config: dict[str, str], static: dict[str, str]) -> bool:
    """Whether a parent's config matches every value the child now holds static."""
    return all(value == static[key] for key, value in config.items() if key in static)


def best_parent_job(stored: dict[str, Any] | None, objective_type: str | None) -> int | None:
    """The id of the parents' best training job (IdenticalDataAndAlgorithm only)."""
    if not stored or stored["WarmStartType"] != IDENTICAL:
        return None
    best: tuple[float, int] | None = None
    for parent in stored["Parents"]:
        for _name, _config, value, job_id in parent["Trials"]:
            if value is None:
                continue
            if best is None or is_better(value, best[0], objective_type or "Minimize"):
                best = (value, job_id)
    return None if best is None else best[1]
