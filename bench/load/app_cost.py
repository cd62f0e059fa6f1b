"""CPU cost of the worker path in the application layer alone (no HTTP, no generator).

``python -m bench.load.app_cost [--cycles N] [--profile]``: on a fresh PostgreSQL database of
the test cluster, one Random tuning job with continuous ranges; each cycle is a claim, three
metric reports and a completion (five operations), as the load generator's workers do. Prints
the process CPU per operation, overall and per kind; with ``--profile``, the top of a
cProfile of CPU time by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable
from typing import TypeVar

from tests.app.requests import sdk_style_request
from tests.conftest import postgres_database

from amtune.app.claims import Claim
from amtune.app.reports import MetricPoint
from amtune.app.service import Tuner
from amtune.settings import Settings
from amtune.store.migrate import upgrade

OPERATIONS_PER_CYCLE = 5
T = TypeVar("T")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    databases = postgres_database()
    url = next(databases)
    try:
        upgrade(url)
        tuner = Tuner(Settings(database_url=url))
        caller = tuner.default_caller()
        request = sdk_style_request()
        request["HyperParameterTuningJobName"] = "cost"
        request["HyperParameterTuningJobConfig"].update(
            Strategy="Random",
            ResourceLimits={"MaxNumberOfTrainingJobs": 10000, "MaxParallelTrainingJobs": 10},
        )
        tuner.create_tuning_job(caller, request)

        spent_on: dict[str, float] = {"claim": 0.0, "report": 0.0, "complete": 0.0}

        def timed(kind: str, call: Callable[[], T]) -> T:
            started = time.process_time()
            try:
                return call()
            finally:
                spent_on[kind] += time.process_time() - started

        def cycle() -> None:
            job = timed("claim", lambda: tuner.claim(caller, "cost", "w"))
            assert isinstance(job, Claim)
            name, token = job.training_job_name, job.lease_token
            metric = [MetricPoint("validation:accuracy", 0.5)]
            for _ in range(3):
                timed("report", lambda: tuner.report_metrics(caller, name, token, metric))
            timed("complete", lambda: tuner.complete(caller, name, token))

        for _ in range(20):
            cycle()
        spent_on.update(dict.fromkeys(spent_on, 0.0))
        # CPU time, not wall time: the wall clock would be mostly waits on PostgreSQL.
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(args.cycles):
            cycle()
        if profiler:
            profiler.disable()
        spent = time.process_time() - started
        per_op = spent * 1000 / (args.cycles * OPERATIONS_PER_CYCLE)
        print(f"application-layer CPU per operation: {per_op:.2f} ms over {args.cycles} cycles")
        counts = {"claim": args.cycles, "report": 3 * args.cycles, "complete": args.cycles}
        print(", ".join(f"{k} {spent_on[k] * 1000 / counts[k]:.2f} ms" for k in counts))
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        tuner.db.dispose()
    finally:
        databases.close()


if __name__ == "__main__":
    main()
