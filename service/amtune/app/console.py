"""The web console's use cases: what its pages show, aggregated and bounded on the server.

A plot never receives every training job or every metric point: job points are sampled
(evenly, always with the best), the best-so-far line is its change points, contours are a
fixed grid of means, learning curves are the best and latest jobs with at most a few hundred
points each. So a page costs the same to draw at 100 or 10,000 training jobs; what grows is
one narrow indexed read on the server. Every function is scoped to the caller's account,
like the API's.

The tuning-job page asks for :func:`history` first: its first plot (the objective per
training job over time and the best so far) and the counts that tell the page whether
anything changed, from three narrow columns, so the plot does not wait on the costlier
:func:`overview` (hyperparameters, importance, timeline) and a page polling an unchanged job
reads only that.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from amtune.app import training_jobs, tuning_jobs, views
from amtune.app.context import Caller, Context
from amtune.app.definitions import definitions_of
from amtune.app.domain import ACTIVE_TRAINING, to_minimise
from amtune.app.errors import ValidationError
from amtune.app.validation import validate_training_job_name, validate_tuning_job_name
from amtune.engine.analysis import (
    best_so_far_steps,
    downsample_curve,
    grid_means,
    importance,
    sample_indices,
)
from amtune.engine.spaces import CategoricalRange, SearchSpace
from amtune.store import console as queries
from amtune.store import repository
from amtune.store.models import TuningJobRow

POINTS_LIMIT = 1000
IMPORTANCE_LIMIT = 2000
TIMELINE_LIMIT = 500
CURVE_JOBS_BEST = 10
CURVE_JOBS_LATEST = 20
CURVE_POINTS = 200
DETAIL_POINTS = 500
CONTOUR_BINS = 20
CONTOUR_LIMIT = 3000
CSV_PAGE = 100


def tuning_job_list(ctx: Context, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    """ListHyperParameterTuningJobs (filtered, sorted, paged by the API's own rules), with
    each job's best objective so far."""
    page = tuning_jobs.list_jobs(ctx, caller, request)
    summaries = page["HyperParameterTuningJobSummaries"]
    names = [s["HyperParameterTuningJobName"] for s in summaries]
    bounds = ctx.run(lambda s: queries.objective_bounds(s, caller.account_id, names), readonly=True)
    for summary in summaries:
        found = bounds.get(summary["HyperParameterTuningJobName"])
        if found is not None:
            kind, low, high = found
            summary["BestObjectiveValue"] = high if kind == "Maximize" else low
    return page


def _space(tuning: TuningJobRow) -> SearchSpace:
    return SearchSpace.from_parameter_ranges(definitions_of(tuning.request)[0].parameter_ranges)


def _hyperparameters(space: SearchSpace) -> list[dict[str, Any]]:
    described: list[dict[str, Any]] = []
    for rng in space.ranges:
        if isinstance(rng, CategoricalRange):
            described.append({"Name": rng.name, "Kind": "Categorical", "Values": list(rng.values)})
        else:
            described.append(
                {
                    "Name": rng.name,
                    "Kind": type(rng).__name__.removesuffix("Range"),
                    "Low": rng.low,
                    "High": rng.high,
                    "Scaling": rng.scaling,
                }
            )
    return described


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _scored(row: Any) -> bool:
    """An ended training job whose objective counts (as for BestTrainingJob: not a failure)."""
    value = row.objective_value
    return (
        row.ended_at is not None
        and row.status != "Failed"
        and value is not None
        and math.isfinite(value)
    )


def _tuning(ctx: Context, caller: Caller, name: str) -> TuningJobRow:
    validate_tuning_job_name(name, "hyperParameterTuningJobName")
    return ctx.run(lambda s: tuning_jobs.load(s, caller, name), readonly=True)


def _read(ctx: Context, caller: Caller, name: str) -> tuple[TuningJobRow, Sequence[Any]]:
    validate_tuning_job_name(name, "hyperParameterTuningJobName")

    def work(session: Any) -> tuple[TuningJobRow, Sequence[Any]]:
        tuning = tuning_jobs.load(session, caller, name)
        return tuning, queries.training_job_points(session, tuning.id)

    return ctx.run(work, readonly=True)


def _hyperparameters_of(ctx: Context, rows: Sequence[Any]) -> list[dict[str, str]]:
    found = ctx.run(lambda s: queries.hyperparameters_of(s, [r.id for r in rows]), readonly=True)
    return [found.get(r.id, {}) for r in rows]


def _units(space: SearchSpace, configs: Sequence[dict[str, str]]) -> tuple[np.ndarray, list[int]]:
    """The unit-cube coding of each config; configs outside the space are skipped."""
    coded, kept = [], []
    for i, config in enumerate(configs):
        try:
            coded.append(space.to_unit(config))
        except (ValueError, KeyError):
            continue
        kept.append(i)
    if not coded:
        return np.zeros((0, space.dim)), []
    return np.vstack(coded), kept


def history(ctx: Context, caller: Caller, name: str) -> dict[str, Any]:
    """The objective of each scored training job by end time (at most ``POINTS_LIMIT``,
    evenly sampled, always with the best) and the best so far as its change points, with the
    tuning job's status, last change and training-job counts by status."""
    validate_tuning_job_name(name, "hyperParameterTuningJobName")

    def work(session: Any) -> tuple[TuningJobRow, Sequence[Any]]:
        tuning = tuning_jobs.load(session, caller, name, with_request=False)
        return tuning, queries.objective_history(session, tuning.id)

    tuning, rows = ctx.run(work, readonly=True)
    counts = Counter(row.status for row in rows)
    scored = [r for r in rows if _scored(r)]
    values = np.array([r.objective_value for r in scored], dtype=float)
    kind = tuning.objective_type
    minimised = -values if kind == "Maximize" else values
    best = [int(np.argmin(minimised))] if scored else []
    shown = sample_indices(len(scored), POINTS_LIMIT, keep=best)
    ended = np.array([r.ended_at for r in scored], dtype=float)
    steps = best_so_far_steps(ended, minimised) if scored else []
    return {
        "TuningJobStatus": tuning.status,
        "LastModifiedTime": tuning.last_modified_at,
        "EndTime": tuning.ended_at,
        "Objective": {"Type": kind, "MetricName": tuning.objective_metric},
        "TrainingJobCount": len(rows),
        "StatusCounts": dict(counts),
        "ScoredCount": len(scored),
        # [end time, objective, training job name]: arrays, not objects, for a small answer.
        "Points": [[scored[i].ended_at, scored[i].objective_value, scored[i].name] for i in shown],
        "BestSoFar": [[t, -v if kind == "Maximize" else v] for t, v in steps],
    }


def overview(ctx: Context, caller: Caller, name: str) -> dict[str, Any]:
    """Everything else the tuning-job page draws (description, hyperparameters of the shown
    jobs, importance, timeline), bounded in size."""
    description = tuning_jobs.describe(ctx, caller, name)
    tuning, rows = _read(ctx, caller, name)
    space = _space(tuning)
    kind = tuning.objective_type
    scored = [i for i, r in enumerate(rows) if _scored(r)]
    minimised = np.array([to_minimise(rows[i].objective_value, kind) for i in scored])
    best = [scored[int(np.argmin(minimised))]] if scored else []
    shown = [int(i) for i in sample_indices(len(rows), POINTS_LIMIT, keep=best)]
    # Reading and coding hyperparameters is the costly part: only for the jobs shown and
    # the sample importance is computed on.
    sampled = sample_indices(len(scored), IMPORTANCE_LIMIT)
    wanted = sorted(set(shown) | {scored[int(i)] for i in sampled})
    configs = dict(zip(wanted, _hyperparameters_of(ctx, [rows[i] for i in wanted]), strict=True))
    units, coded = _units(space, [configs[scored[int(i)]] for i in sampled])
    objectives = minimised[sampled[coded]] if coded else np.zeros(0)
    shares = importance(units, objectives) if coded else np.zeros(space.dim)
    started = [r for r in rows if r.started_at is not None][-TIMELINE_LIMIT:]
    now = ctx.now()
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.status] += 1
    return {
        "TuningJob": description,
        "Objective": {"Type": kind, "MetricName": tuning.objective_metric},
        "HyperParameters": _hyperparameters(space),
        "TrainingJobCount": len(rows),
        "StatusCounts": dict(counts),
        "Points": [_point(rows[i], configs[i]) for i in shown],
        "Importance": [
            {"Name": rng.name, "Share": round(float(share), 4)}
            for rng, share in zip(space.ranges, shares, strict=True)
        ],
        "Timeline": [
            {
                "Worker": row.worker_id or "(none)",
                "TrainingJobName": row.name,
                "Start": row.started_at,
                "End": row.ended_at if row.ended_at is not None else now,
                "Status": row.status,
            }
            for row in started
        ],
    }


def _point(row: Any, hyperparameters: dict[str, str]) -> dict[str, Any]:
    return {
        "Seq": row.seq,
        "TrainingJobName": row.name,
        "Status": row.status,
        "Objective": row.objective_value if _finite(row.objective_value) else None,
        "CreationTime": row.created_at,
        "EndTime": row.ended_at,
        "HyperParameters": dict(hyperparameters),
    }


def contour(ctx: Context, caller: Caller, name: str, x: str, y: str) -> dict[str, Any]:
    """Mean objective over a grid of two hyperparameters (unit-coded axes, value labels)."""
    tuning, rows = _read(ctx, caller, name)
    space = _space(tuning)
    names = [rng.name for rng in space.ranges]
    for field, value in (("x", x), ("y", y)):
        if value not in names:
            raise ValidationError(
                f"Value '{value}' at '{field}' failed to satisfy constraint: "
                f"Member must be one of the tuned hyperparameters {names}"
            )
    scored = [r for r in rows if _scored(r)]
    scored = [scored[int(i)] for i in sample_indices(len(scored), CONTOUR_LIMIT)]
    units, kept = _units(space, _hyperparameters_of(ctx, scored))
    values = np.array([scored[i].objective_value for i in kept], dtype=float)
    ix, iy = names.index(x), names.index(y)
    grid = grid_means(units[:, ix], units[:, iy], values, CONTOUR_BINS) if kept else []
    return {
        "X": x,
        "Y": y,
        "XLabels": _axis_labels(space, ix),
        "YLabels": _axis_labels(space, iy),
        "Grid": grid,
        "Jobs": len(kept),
    }


def _axis_labels(space: SearchSpace, index: int) -> list[str]:
    """The hyperparameter's value at the centre of each grid bin, as training jobs see it."""
    labels = []
    for b in range(CONTOUR_BINS):
        u = np.full(space.dim, 0.5)
        u[index] = (b + 0.5) / CONTOUR_BINS
        labels.append(space.from_unit(u)[space.ranges[index].name])
    return labels


def curves(ctx: Context, caller: Caller, name: str, metric: str | None) -> dict[str, Any]:
    """Learning curves of the best and the latest training jobs, a few hundred points each."""
    validate_tuning_job_name(name, "hyperParameterTuningJobName")

    def work(session: Any) -> tuple[TuningJobRow, dict[int, Any], list[str], Sequence[Any]]:
        tuning = tuning_jobs.load(session, caller, name)
        best = queries.best_jobs(session, tuning.id, tuning.objective_type, CURVE_JOBS_BEST)
        chosen = {r.id: r for r in best}
        for row in queries.latest_jobs(session, tuning.id, CURVE_JOBS_LATEST):
            chosen.setdefault(row.id, row)
        ids = list(chosen)
        wanted = metric or tuning.objective_metric
        names = queries.metric_names(session, ids)
        return tuning, chosen, names, queries.metric_points(session, ids, wanted)

    tuning, chosen, metric_names, points = ctx.run(work, readonly=True)
    wanted = metric or tuning.objective_metric
    by_job: dict[int, list[Any]] = defaultdict(list)
    for point in points:
        by_job[point.training_job_id].append(point)
    series = []
    for job_id, row in chosen.items():
        reported = by_job.get(job_id, [])
        if not reported:
            continue
        steps = np.array(
            [p.step if p.step is not None else i for i, p in enumerate(reported)], dtype=float
        )
        values = np.array([p.value for p in reported], dtype=float)
        curve = downsample_curve(steps, values, CURVE_POINTS)
        series.append(
            {
                "TrainingJobName": row.name,
                "Status": row.status,
                "StoppedEarly": row.status == "Stopped" and bool(row.stop_requested),
                "Points": curve.tolist(),
            }
        )
    return {"MetricName": wanted, "MetricNames": metric_names, "Series": series}


def training_job_detail(ctx: Context, caller: Caller, name: str) -> dict[str, Any]:
    """DescribeTrainingJob, plus the worker, lease and attempt, and its metrics by step."""
    validate_training_job_name(name, "trainingJobName")

    def work(session: Any) -> tuple[dict[str, Any], dict[str, Any], Sequence[Any]]:
        job = training_jobs.load(ctx, session, caller, name)
        held = {
            "WorkerId": job.worker_id,
            "LeaseExpiresAt": job.lease_expires_at if job.status in ACTIVE_TRAINING else None,
            "Attempt": job.attempt,
            "StopRequested": job.stop_requested,
        }
        return (
            views.training_job_description(job),
            held,
            queries.metric_points(session, [job.id], None),
        )

    description, held, points = ctx.run(work, readonly=True)
    grouped: dict[str, list[Any]] = defaultdict(list)
    for point in points:
        grouped[point.metric_name].append(point)
    metrics = {}
    for metric, reported in sorted(grouped.items()):
        steps = np.array(
            [p.step if p.step is not None else i for i, p in enumerate(reported)], dtype=float
        )
        values = np.array([p.value for p in reported], dtype=float)
        metrics[metric] = downsample_curve(steps, values, DETAIL_POINTS).tolist()
    return {"TrainingJob": description, **held, "Metrics": metrics}


CSV_COLUMNS = (
    "TrainingJobName",
    "TrainingJobStatus",
    "FinalObjectiveValue",
    "CreationTime",
    "TrainingStartTime",
    "TrainingEndTime",
    "FailureReason",
)


def training_jobs_csv(ctx: Context, caller: Caller, name: str) -> Iterator[str]:
    """Every training job of a tuning job as CSV lines, read page by page through
    ListTrainingJobsForHyperParameterTuningJob, so the file says what the API says."""
    tuning = _tuning(ctx, caller, name)
    parameters = [rng.name for rng in _space(tuning).ranges]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")

    def flushed() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow([*CSV_COLUMNS, *parameters])
    yield flushed()
    request: dict[str, Any] = {
        "HyperParameterTuningJobName": name,
        "SortBy": "CreationTime",
        "SortOrder": "Ascending",
        "MaxResults": CSV_PAGE,
    }
    while True:
        page = training_jobs.list_for_tuning_job(ctx, caller, request)
        for summary in page["TrainingJobSummaries"]:
            objective = summary.get("FinalHyperParameterTuningJobObjectiveMetric", {})
            tuned = summary.get("TunedHyperParameters", {})
            writer.writerow(
                [
                    summary["TrainingJobName"],
                    summary["TrainingJobStatus"],
                    objective.get("Value", ""),
                    summary.get("CreationTime", ""),
                    summary.get("TrainingStartTime", ""),
                    summary.get("TrainingEndTime", ""),
                    summary.get("FailureReason", ""),
                    *(tuned.get(p, "") for p in parameters),
                ]
            )
        yield flushed()
        if not page.get("NextToken"):
            return
        request["NextToken"] = page["NextToken"]


def create_request_from(ctx: Context, caller: Caller, name: str) -> dict[str, Any]:
    """A CreateHyperParameterTuningJob request like the one that made ``name``, renamed,
    for the console's "new job from this one" form."""
    tuning = _tuning(ctx, caller, name)
    request = dict(tuning.request)
    suffix = "-again"
    request["HyperParameterTuningJobName"] = name[: 32 - len(suffix)] + suffix
    return request


def best_training_job(ctx: Context, caller: Caller, name: str) -> dict[str, Any] | None:
    def work(session: Any) -> dict[str, Any] | None:
        tuning = tuning_jobs.load(session, caller, name)
        best = repository.best_training_job(session, tuning.id, tuning.objective_type)
        return views.training_job_summary(best, tuning) if best is not None else None

    return ctx.run(work, readonly=True)
