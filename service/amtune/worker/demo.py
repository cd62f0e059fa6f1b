"""``amtune demo``: a whole tuning run on this machine, in about a minute.

It starts the service on a temporary SQLite file, creates a Bayesian-search tuning job for
scikit-learn gradient boosting (the request is exactly what boto3 would send to SageMaker),
starts 4 ``amtune worker`` processes that run :mod:`amtune.worker.demo_train` the SageMaker way,
shows their progress lines, and prints the leaderboard and the best training job's
hyperparameters. Everything is removed afterwards unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from amtune.extras import DEMO_MODULES, missing
from amtune.sdk import client as make_client
from amtune.sdk.client import SageMakerClient
from amtune.worker.cli import quiet_http_logs
from amtune.worker.local_service import LocalService

OBJECTIVE = "validation:accuracy"
METRIC_REGEX = r"validation:accuracy=([0-9.]+)"


def tuning_job_request(name: str, *, max_jobs: int, max_parallel: int) -> dict[str, Any]:
    """A CreateHyperParameterTuningJob request for the demo model, as SageMaker accepts it."""
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "RandomSeed": 7,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": OBJECTIVE},
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": max_jobs,
                "MaxParallelTrainingJobs": max_parallel,
            },
            "ParameterRanges": {
                "IntegerParameterRanges": [
                    {"Name": "max_depth", "MinValue": "1", "MaxValue": "6", "ScalingType": "Auto"},
                    {
                        "Name": "n_estimators",
                        "MinValue": "20",
                        "MaxValue": "150",
                        "ScalingType": "Linear",
                    },
                ],
                "ContinuousParameterRanges": [
                    {
                        "Name": "learning_rate",
                        "MinValue": "0.005",
                        "MaxValue": "0.5",
                        "ScalingType": "Logarithmic",
                    },
                    {
                        "Name": "subsample",
                        "MinValue": "0.5",
                        "MaxValue": "1.0",
                        "ScalingType": "Linear",
                    },
                ],
            },
            "TrainingJobEarlyStoppingType": "Off",
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"dataset": "breast_cancer"},
            "AlgorithmSpecification": {
                "TrainingImage": "amtune/sklearn-demo:latest",
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": OBJECTIVE, "Regex": METRIC_REGEX}],
            },
            "RoleArn": "arn:aws:iam::123456789012:role/amtune-demo",
            "OutputDataConfig": {"S3OutputPath": "s3://amtune-demo/output"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 1,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=int, default=12, help="training jobs in all (default 12)")
    parser.add_argument("--workers", type=int, default=4, help="worker processes (default 4)")
    parser.add_argument(
        "--timeout", type=float, default=110.0, help="stop the tuning job after this many seconds"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")


def run(args: argparse.Namespace) -> int:
    quiet_http_logs()
    absent = missing(DEMO_MODULES)
    if absent:
        print(
            "amtune demo runs a temporary service and tunes a scikit-learn model "
            f"(missing: {', '.join(absent)}): pip install 'amtune[demo]'",
            file=sys.stderr,
        )
        return 2
    root = Path(tempfile.mkdtemp(prefix="amtune-demo-"))
    name = f"demo-{time.strftime('%H%M%S')}"
    started = time.monotonic()
    try:
        print(f"[demo] starting the amtune service on a temporary SQLite file in {root}")
        with LocalService(root / "amtune.db") as service:
            sm = make_client(endpoint_url=service.url)
            sm.create_hyper_parameter_tuning_job(
                **tuning_job_request(name, max_jobs=args.jobs, max_parallel=args.workers)
            )
            print(
                f"[demo] tuning job {name}: Bayesian search, {args.jobs} training jobs, "
                f"{args.workers} workers, objective {OBJECTIVE} (Maximize)"
            )
            code = _run_workers(service.url, name, root, args, sm)
            status, best = _report(sm, name)
            sm.close()
        if best is not None:
            _how_to_look(root, best, kept=args.keep)
        print(f"[demo] finished in {time.monotonic() - started:.0f}s")
        return 0 if code == 0 and status == "Completed" else 1
    except KeyboardInterrupt:
        print("[demo] interrupted")
        return 130
    finally:
        if args.keep:
            print(f"[demo] kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def _run_workers(
    url: str, name: str, root: Path, args: argparse.Namespace, sm: SageMakerClient
) -> int:
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "amtune.worker",
                "--endpoint",
                url,
                "--tuning-job",
                name,
                "--workdir",
                str(root / "jobs"),
                "--worker-id",
                f"demo-worker-{i + 1}",
                "--",
                sys.executable,
                "-m",
                "amtune.worker.demo_train",
            ]
        )
        for i in range(args.workers)
    ]
    deadline = time.monotonic() + args.timeout
    stopped = False
    try:
        while any(w.poll() is None for w in workers):
            if not stopped and time.monotonic() > deadline:
                print(f"[demo] {args.timeout:.0f}s passed: stopping the tuning job")
                sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
                stopped = True
            time.sleep(0.2)
    except KeyboardInterrupt:
        # The workers got the same Ctrl-C: let them report their jobs before the service goes.
        print("[demo] interrupted: waiting for the workers to report their jobs")
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        raise
    codes = [w.returncode for w in workers]
    return 0 if all(c == 0 for c in codes) else 1


def _how_to_look(root: Path, best: str, *, kept: bool) -> None:
    """The commands that show the best training job again, after the demo has ended."""
    if not kept:
        print("\n[demo] run `amtune demo --keep` to keep the database and the job directories")
        return
    print(
        "\n[demo] look at the best training job again:\n"
        f"  cat {root}/jobs/{best}/training.log\n"
        f"  AMTUNE_DATABASE_URL=sqlite:///{root}/amtune.db amtune serve &\n"
        "  python -c \"import amtune; print(amtune.client(endpoint_url='http://127.0.0.1:8000')"
        f".describe_training_job(TrainingJobName='{best}'))\""
    )


def _report(sm: SageMakerClient, name: str) -> tuple[str, str | None]:
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    status = str(described["HyperParameterTuningJobStatus"])
    counters = described.get("TrainingJobStatusCounters", {})
    print(f"\n[demo] tuning job {name}: {status}; training jobs {counters}")
    pages = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=name,
        SortBy="FinalObjectiveMetricValue",
        SortOrder="Descending",
    )
    rows = [row for page in pages for row in page["TrainingJobSummaries"]]
    print(f"\n  {'training job':<36} {'status':<10} {OBJECTIVE:>20}  hyperparameters")
    for row in rows[:5]:
        value = (row.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
        shown = " ".join(f"{k}={v}" for k, v in sorted(row["TunedHyperParameters"].items()))
        value_text = f"{value:.4f}" if value is not None else "-"
        print(
            f"  {row['TrainingJobName']:<36} {row['TrainingJobStatus']:<10}"
            f" {value_text:>20}  {shown}"
        )
    best = described.get("BestTrainingJob")
    if best:
        value = best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        print(f"\n[demo] best training job: {best['TrainingJobName']}  {OBJECTIVE}={value:.4f}")
        for key, val in sorted(best["TunedHyperParameters"].items()):
            print(f"         {key} = {val}")
        return status, str(best["TrainingJobName"])
    print("\n[demo] no training job reported the objective")
    return status, None
