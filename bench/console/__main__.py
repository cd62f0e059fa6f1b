"""Console page times at scale, against optuna-dashboard on the same data.

``python -m bench.console [--jobs 10000] [--points 100] [--rounds 5] [--peer-rounds 1]
[--baseline CHECKOUT] [--no-vacuum] [--out FILE]``:

1. On two fresh PostgreSQL databases of the test cluster it stores the same search: a Random
   tuning job of ``--jobs`` training jobs with four hyperparameters, each job reporting its
   objective at ``--points`` steps (10,000 x 100 = 1,000,000 metric points), once through
   amtune's application layer (claims, metric reports, completions, as workers would) and
   once as an Optuna study of the same trials (same parameters, intermediate values and
   objectives) in an RDB storage.
2. It starts ``amtune serve`` and ``optuna-dashboard`` on them and, in alternating rounds,
   measures in Debian's Chromium (Playwright) the time from navigation to the first plot of a
   tuning job's page (amtune: the objective-history chart drawn with one dot per shown job;
   optuna-dashboard: its history plot drawn with points), and with httpx the time and size
   of each page's data requests.

3. With ``--baseline`` (another checkout, e.g. /work/main) a second ``amtune serve`` runs that
   checkout's code on the same database, and each round measures both builds, in alternating
   order, so the two are compared round by round under the same load.
4. The rounds run on the database as the fill left it, then (unless ``--no-vacuum``) again
   after ``VACUUM ANALYZE``: the test cluster runs with autovacuum off, a default cluster
   would have vacuumed and analysed these tables after such a fill.

Prints medians per measure and the paired difference per round; the machine is shared, so
only figures from the same run are compared. JSON has no infinity: a measure that did not
finish within ``--cap`` is written as null.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from bench.processes import serving
from tests.app.requests import random_request
from tests.conftest import postgres_database
from tests.service.processes import free_port

from amtune.app.claims import Claim
from amtune.app.reports import MetricPoint
from amtune.app.service import Tuner
from amtune.settings import Settings
from amtune.store.migrate import upgrade

NAME = "scale"
METRIC = "validation:accuracy"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def objective_of(hyperparameters: dict[str, str], rng: random.Random) -> float:
    eta = float(hyperparameters["eta"])
    depth = float(hyperparameters["max_depth"])
    return 0.9 - 2 * (eta - 0.1) ** 2 - 0.004 * (depth - 6) ** 2 + rng.gauss(0, 0.01)


def fill_amtune(url: str, jobs: int, points: int) -> list[dict[str, Any]]:
    """The search through the application layer; returns each job's params and curve."""
    upgrade(url)
    tuner = Tuner(Settings(database_url=url))
    caller = tuner.default_caller()
    request = random_request(NAME, max_jobs=jobs, parallel=10)
    tuner.create_tuning_job(caller, request)
    rng = random.Random(0)
    trials = []
    started = time.monotonic()
    for i in range(jobs):
        claim = tuner.claim(caller, NAME, f"worker-{i % 8}")
        assert isinstance(claim, Claim)
        final = objective_of(claim.hyperparameters, rng)
        curve = [final * (1 - math.exp(-4 * (s + 1) / points)) for s in range(points)]
        metrics = [MetricPoint(METRIC, v, step=s + 1) for s, v in enumerate(curve)]
        tuner.report_metrics(caller, claim.training_job_name, claim.lease_token, metrics)
        tuner.complete(caller, claim.training_job_name, claim.lease_token)
        tuned = {k: claim.hyperparameters[k] for k in ("eta", "subsample", "booster", "max_depth")}
        trials.append({"params": tuned, "curve": curve})
        if (i + 1) % 1000 == 0:
            print(f"  amtune: {i + 1} jobs stored ({time.monotonic() - started:.0f} s)", flush=True)
    tuner.close()
    return trials


def fill_optuna(url: str, trials: list[dict[str, Any]]) -> int:
    """The same trials as an Optuna study. Optuna's own ``add_trials`` took 66 s for 300
    trials of 20 intermediate values here, so the rows go into its tables in bulk, through
    its own SQLAlchemy models (same schema, same enum and distribution encodings)."""
    import datetime as dt

    import optuna
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
        distribution_to_json,
    )
    from optuna.storages._rdb import models
    from optuna.trial import TrialState
    from sqlalchemy import insert

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(study_name=NAME, storage=storage, direction="maximize")
    distributions = {
        "eta": FloatDistribution(0.01, 0.3),
        "subsample": FloatDistribution(0.5, 1.0),
        "booster": CategoricalDistribution(["gbtree", "dart"]),
        "max_depth": IntDistribution(3, 10),
    }
    encoded = {name: distribution_to_json(d) for name, d in distributions.items()}
    trial_table = models.TrialModel.__table__
    started = time.monotonic()
    begun = dt.datetime(2026, 1, 1)
    with storage.engine.begin() as conn:
        for first in range(0, len(trials), 1000):
            chunk = trials[first : first + 1000]
            rows = [
                {
                    "number": first + i,
                    "study_id": study._study_id,
                    "state": TrialState.COMPLETE,
                    "datetime_start": begun + dt.timedelta(seconds=first + i),
                    "datetime_complete": begun + dt.timedelta(seconds=first + i + 1),
                }
                for i in range(len(chunk))
            ]
            ids = (
                conn.execute(
                    insert(trial_table).returning(
                        trial_table.c.trial_id, sort_by_parameter_order=True
                    ),
                    rows,
                )
                .scalars()
                .all()
            )
            params, values, intermediate = [], [], []
            for trial_id, trial in zip(ids, chunk, strict=True):
                given = trial["params"]
                typed = {
                    "eta": float(given["eta"]),
                    "subsample": float(given["subsample"]),
                    "booster": given["booster"],
                    "max_depth": int(given["max_depth"]),
                }
                for name, value in typed.items():
                    params.append(
                        {
                            "trial_id": trial_id,
                            "param_name": name,
                            "param_value": distributions[name].to_internal_repr(value),
                            "distribution_json": encoded[name],
                        }
                    )
                values.append(
                    {
                        "trial_id": trial_id,
                        "objective": 0,
                        "value": trial["curve"][-1],
                        "value_type": models.TrialValueModel.TrialValueType.FINITE,
                    }
                )
                intermediate += [
                    {
                        "trial_id": trial_id,
                        "step": step,
                        "intermediate_value": value,
                        "intermediate_value_type": (
                            models.TrialIntermediateValueModel.TrialIntermediateValueType.FINITE
                        ),
                    }
                    for step, value in enumerate(trial["curve"], start=1)
                ]
            conn.execute(insert(models.TrialParamModel.__table__), params)
            conn.execute(insert(models.TrialValueModel.__table__), values)
            conn.execute(insert(models.TrialIntermediateValueModel.__table__), intermediate)
            done = first + len(chunk)
            print(
                f"  optuna: {done} trials stored ({time.monotonic() - started:.0f} s)", flush=True
            )
    loaded = optuna.load_study(study_name=NAME, storage=storage)
    assert len(loaded.trials) == len(trials)  # Optuna reads back what was written
    assert (
        loaded.trials[-1].intermediate_values[len(trials[-1]["curve"])] == trials[-1]["curve"][-1]
    )
    return study._study_id


def timed_get(url: str, cap: float) -> tuple[float, int]:
    """Seconds and bytes of one GET; ``inf`` seconds when no answer came within ``cap``."""
    started = time.perf_counter()
    try:
        response = httpx.get(url, timeout=cap)
    except httpx.TimeoutException:
        return math.inf, 0
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, len(response.content)


def first_plot(browser: Any, url: str, ready: str, cap: float) -> float:
    """Seconds from navigation to the moment ``ready`` (a JS predicate) holds; ``inf`` when
    it did not within ``cap`` seconds."""
    from playwright.sync_api import TimeoutError as PageTimeout

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_function(ready, timeout=cap * 1000, polling=50)
        return time.perf_counter() - started
    except PageTimeout:
        return math.inf
    finally:
        context.close()


AMTUNE_READY = (
    "() => [...document.querySelectorAll('#history svg path')]"
    ".filter((p) => p.getAttribute('fill') === '#5070dd').length >= 100"
)
# optuna-dashboard draws its history plot with Plotly: one SVG path per point.
OPTUNA_READY = (
    "() => document.querySelectorAll('.js-plotly-plot .scatterlayer .point').length >= 100"
)


def finite(value: float) -> float | None:
    """A figure for the JSON results: rounded, or None (JSON null) for a measure that did not
    finish within the cap (``inf`` here), since JSON has no infinity."""
    return round(value, 3) if math.isfinite(value) else None


def commit_of(path: Path) -> str:
    """The checkout's commit, marked ``+changes`` when its tracked files differ from it."""
    git = ["git", "-C", str(path)]
    head = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run([*git, "diff", "--quiet", "HEAD"], check=False).returncode != 0
    return head + ("+changes" if dirty else "")


def vacuum_analyze(url: str) -> None:
    """What autovacuum does to the tables after a fill like this one on a default cluster
    (the test cluster runs with autovacuum off): dead row versions gone, visibility map set,
    planner statistics."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100, help="metric points per job")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--peer-rounds", type=int, default=1, help="optuna-dashboard rounds, at the start (1)"
    )
    parser.add_argument(
        "--cap", type=float, default=300.0, help="seconds to wait for a peer answer (300)"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout of amtune (e.g. main's) served on the same database; its "
        "rounds alternate with this checkout's, in alternating order",
    )
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="measure the database as stored only (default: then again after VACUUM ANALYZE)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    repo = Path(__file__).resolve().parents[2]
    builds = {"this": repo} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    load_before = os.getloadavg()
    amtune_dbs = postgres_database()
    optuna_dbs = postgres_database() if args.peer_rounds else None
    amtune_url = next(amtune_dbs)
    try:
        print(f"storing {args.jobs} jobs x {args.points} points", flush=True)
        trials = fill_amtune(amtune_url, args.jobs, args.points)
        optuna_db = next(optuna_dbs) if optuna_dbs else ""
        study_id = fill_optuna(optuna_db, trials) if optuna_db else 0
        optuna_url = ""
        ports = {build: free_port() for build in builds}
        urls = {build: f"http://127.0.0.1:{port}" for build, port in ports.items()}
        commands = {
            build: (
                [sys.executable, "-m", "amtune", "serve"],
                {
                    **os.environ,
                    "AMTUNE_DATABASE_URL": amtune_url,
                    "AMTUNE_PORT": str(ports[build]),
                    "AMTUNE_LOG_LEVEL": "WARNING",
                    "PYTHONPATH": f"{path / 'service'}{os.pathsep}{path}",
                },
            )
            for build, path in builds.items()
        }
        api = {
            "summary": f"/console/api/tuning-jobs/{NAME}",
            "history": f"/console/api/tuning-jobs/{NAME}/history",
            "curves": f"/console/api/tuning-jobs/{NAME}/curves",
            "contour": f"/console/api/tuning-jobs/{NAME}/contour?x=eta&y=max_depth",
            "table page": f"/console/api/tuning-jobs/{NAME}/training-jobs?MaxResults=20",
        }
        phases = ["as stored"] + ([] if args.no_vacuum else ["after VACUUM ANALYZE"])
        results: dict[str, dict[str, list[float]]] = {phase: {} for phase in phases}
        sizes: dict[str, int] = {}
        with ExitStack() as stack:
            for build, (command, env) in commands.items():
                stack.enter_context(serving(command, env, f"{urls[build]}/healthz"))
            if optuna_db:
                port = free_port()
                command = [
                    sys.executable,
                    "-c",
                    "from optuna_dashboard._cli import main; main()",
                    optuna_db,
                    "--port",
                    str(port),
                    "--host",
                    "127.0.0.1",
                ]
                optuna_url = f"http://127.0.0.1:{port}"
                stack.enter_context(serving(command, dict(os.environ), f"{optuna_url}/api/meta"))
            pw = stack.enter_context(sync_playwright())
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            # The console's data routes need its session cookie (open mode hands one out).
            clients = {build: httpx.Client() for build in builds}
            for build, client in clients.items():
                client.get(f"{urls[build]}/console/")
            for phase in phases:
                if phase == "after VACUUM ANALYZE":
                    vacuum_analyze(amtune_url)
                record = results[phase]
                for round_ in range(args.rounds):
                    order = list(builds) if round_ % 2 == 0 else list(reversed(builds))
                    for build in order:
                        for label, path in api.items():
                            started = time.perf_counter()
                            response = clients[build].get(urls[build] + path, timeout=600)
                            if response.status_code == 404:
                                continue  # a route the other build does not have
                            response.raise_for_status()
                            elapsed = time.perf_counter() - started
                            record.setdefault(f"{build} {label} (s)", []).append(elapsed)
                            sizes[f"{build} {label}"] = len(response.content)
                        page = f"{urls[build]}/console/tuning-jobs/{NAME}"
                        plot = first_plot(browser, page, AMTUNE_READY, args.cap)
                        record.setdefault(f"{build} first plot (s)", []).append(plot)
                    if optuna_url and phase == phases[0] and round_ < args.peer_rounds:
                        peer_round(browser, optuna_url, study_id, args.cap, record, sizes)
                    print(
                        f"{phase}, round {round_ + 1}: "
                        + ", ".join(f"{k} {v[-1]:.2f}" for k, v in record.items()),
                        flush=True,
                    )
            browser.close()
        summary: dict[str, Any] = {
            "jobs": args.jobs,
            "metric_points": args.jobs * args.points,
            "rounds": args.rounds,
            "builds": {build: commit_of(path) for build, path in builds.items()},
            "load_average_1m_before_after": [
                round(load_before[0], 2),
                round(os.getloadavg()[0], 2),
            ],
            "cap_s": args.cap,
            "null_means": "not answered or not drawn within cap_s",
            "phases": {},
            "response_bytes": sizes,
        }
        for phase, record in results.items():
            figures: dict[str, Any] = {
                "medians_s": {k: finite(statistics.median(v)) for k, v in record.items()},
                "first_plot_s": {
                    k: [finite(x) for x in v] for k, v in record.items() if "first plot" in k
                },
            }
            if "baseline" in builds:
                this, baseline = record["this first plot (s)"], record["baseline first plot (s)"]
                figures["first_plot_baseline_minus_this_s"] = [
                    finite(b - t) for t, b in zip(this, baseline, strict=True)
                ]
            summary["phases"][phase] = figures
        print(json.dumps(summary, indent=2))
        if args.out:
            args.out.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    finally:
        amtune_dbs.close()
        if optuna_dbs:
            optuna_dbs.close()


def peer_round(
    browser: Any,
    url: str,
    study_id: int,
    cap: float,
    record: dict[str, list[float]],
    sizes: dict[str, int],
) -> None:
    """One optuna-dashboard round: its study-detail request, then its page's first plot."""
    elapsed, size = timed_get(f"{url}/api/studies/{study_id}?after=0", cap)
    record.setdefault("optuna-dashboard study detail (s)", []).append(elapsed)
    sizes["optuna-dashboard study detail"] = size
    page = f"{url}/dashboard/studies/{study_id}"
    plot = first_plot(browser, page, OPTUNA_READY, cap)
    record.setdefault("optuna-dashboard first plot (s)", []).append(plot)


if __name__ == "__main__":
    main()
