"""``python -m bench.load``: drive a service with simulated workers and report the figures.

Against a running service::

    python -m bench.load --url http://127.0.0.1:8000 --workers 64 --duration 60

Or let it start the service the way the target is defined (PostgreSQL, ``uvicorn --workers 2``)
on a fresh database of the given cluster, and drop that database afterwards::

    python -m bench.load --serve-postgres postgresql://postgres@127.0.0.1:5432/test

Exit status 0 when the run passed (no errors, no duplicate claims, server counts match).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvloop
from bench.load.generator import (
    LoadResult,
    Target,
    aws_call,
    random_tuning_job,
    run_load,
    training_jobs_of,
)
from bench.processes import cpu_seconds, wait_ready

from amtune.cli import HEADER_DEADLINE_PROTOCOL

# Random allows up to 10,000 training jobs per tuning job; more than a minute of load needs.
MAX_JOBS = 10_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running service (comma-separate several replicas)")
    where.add_argument(
        "--serve-postgres",
        metavar="ADMIN_URL",
        help="start uvicorn --workers N on a fresh database of this PostgreSQL cluster",
    )
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn workers (2)")
    parser.add_argument("--workers", type=int, default=64, help="simulated workers (64)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=10.0,
        help="seconds of load before the measured duration, not measured (10)",
    )
    parser.add_argument("--tuning-jobs", type=int, default=8, help="tuning jobs to spread over")
    parser.add_argument("--reports", type=int, default=3, help="metric reports per job (3)")
    parser.add_argument(
        "--rate",
        type=float,
        default=500.0,
        help="operations/s offered over all workers (500, the target); 0: as fast as answered",
    )
    parser.add_argument("--max-parallel", type=int, default=10, help="per tuning job (10)")
    parser.add_argument("--out", type=Path, help="write the summary JSON here too")
    return parser.parse_args(argv)


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


def database_cpu(admin_url: str, database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``database`` (same machine, as root)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        pids = [
            row[0]
            for row in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
            )
        ]
    return cpu_seconds(pids)


@contextmanager
def served(admin_url: str, server_workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    import psycopg

    name = f"amtune_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    env = {**os.environ, "AMTUNE_DATABASE_URL": f"{base}/{name}", "AMTUNE_LOG_LEVEL": "WARNING"}
    port = 18000 + os.getpid() % 1000
    process: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([sys.executable, "-m", "amtune", "migrate"], env=env, check=True)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "amtune.api.app:create_app",
                "--workers",
                str(server_workers),
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
                # As `amtune serve` runs it: longer than any client idles between calls, and
                # with its deadline on request headers.
                "--timeout-keep-alive",
                "75",
                "--http",
                HEADER_DEADLINE_PROTOCOL,
            ],
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        wait_ready(process, url + "/readyz", deadline_s=60)
        served.database = name  # type: ignore[attr-defined]
        yield url, process
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_jobs(urls: list[str], count: int, max_parallel: int) -> list[Target]:
    stamp = uuid.uuid4().hex[:6]
    targets = []
    for index in range(count):
        name = f"load-{stamp}-{index}"
        url = urls[index % len(urls)]
        aws_call(
            url, "CreateHyperParameterTuningJob", random_tuning_job(name, MAX_JOBS, max_parallel)
        )
        targets.append(Target(url, name))
    return targets


def verify(targets: list[Target], result: LoadResult) -> list[str]:
    """The service's own records must match what the workers were told, job for job."""
    problems = []
    completed = set(result.completed)
    on_server: set[str] = set()
    for target in targets:
        aws_call(
            target.url,
            "StopHyperParameterTuningJob",
            {"HyperParameterTuningJobName": target.tuning_job},
        )
        summaries = training_jobs_of(target.url, target.tuning_job)
        names = [s["TrainingJobName"] for s in summaries]
        if len(names) != len(set(names)):
            problems.append(f"{target.tuning_job}: a training job name is listed twice")
        on_server |= {
            s["TrainingJobName"] for s in summaries if s["TrainingJobStatus"] == "Completed"
        }
    if on_server != completed:
        problems.append(
            f"completed on the server {len(on_server)} != acknowledged {len(completed)}"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with _service(args) as (urls, server_pids):
        targets = create_jobs(urls, args.tuning_jobs, args.max_parallel)
        busy0, total0 = machine_busy()
        server0 = cpu_seconds(server_pids, children=True) if server_pids else 0.0
        # uvloop, as the server uses: the generator shares the two cores with what it measures.
        result = uvloop.run(
            run_load(
                targets,
                args.workers,
                duration=args.duration,
                reports=args.reports,
                rate=args.rate or None,
                warmup=args.warmup,
            )
        )
        busy1, total1 = machine_busy()
        server_cpu = (cpu_seconds(server_pids, children=True) - server0) if server_pids else None
        database = getattr(served, "database", None)
        db_cpu = database_cpu(args.serve_postgres, database) if server_pids and database else None
        problems = verify(targets, result)
    summary: dict[str, Any] = {
        "command": "python -m bench.load " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(result.started)),
        "workers": args.workers,
        "tuning_jobs": args.tuning_jobs,
        "reports_per_job": args.reports,
        **result.summary(),
        "machine_cpu_busy_share": round((busy1 - busy0) / (total1 - total0), 2),
        "machine_cores": os.cpu_count(),
        "server_cpu_s": round(server_cpu, 1) if server_cpu is not None else None,
        "server_cpu_ms_per_operation": round(server_cpu * 1000 / result.answered_total, 2)
        if server_cpu is not None and result.answered_total
        else None,
        "postgres_backend_cpu_s": round(db_cpu, 1) if db_cpu is not None else None,
        "verification_problems": problems,
    }
    summary["passed"] = result.passed and not problems
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0 if summary["passed"] else 1


@contextmanager
def _service(args: argparse.Namespace) -> Iterator[tuple[list[str], list[int]]]:
    if args.url:
        yield args.url.split(","), []
        return
    with served(args.serve_postgres, args.server_workers) as (url, process):
        yield [url], [process.pid]


if __name__ == "__main__":
    raise SystemExit(main())
