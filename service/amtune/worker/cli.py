"""``amtune worker`` command line: ``add_arguments(parser)`` and ``run(args)`` for cli.py.

    amtune worker --endpoint http://127.0.0.1:8000 --tuning-job my-job [--wait] \\
        [--concurrency 4] [--workdir DIR] [--worker-id ID] [--opt-ml /opt/ml] \\
        -- python train.py --epochs 3
    amtune worker --endpoint http://127.0.0.1:8000 [--image IMAGE ...] -- python train.py

Without ``--tuning-job`` the worker is a pool worker: it serves every tuning job of its team in
progress, the one with the fewest running training jobs first (see docs/workers.md).

Everything after ``--`` is the training command; each job runs it with ``--name value`` for every
hyperparameter appended (``--no-hyperparameter-args`` turns that off), in the job's directory
tree, with the SageMaker toolkit's environment. Options also read ``AMTUNE_ENDPOINT``,
``AMTUNE_TUNING_JOB``, ``AMTUNE_WORKDIR`` and ``AMTUNE_OPT_ML``.

``--opt-ml PATH`` (or ``AMTUNE_OPT_ML``) is for scripts that hard-code ``/opt/ml/...``: before
each job the worker makes PATH a symlink to that job's directory (PATH must not be a real
directory; one job at a time, so it needs ``--concurrency 1``; ``/opt`` must be writable, e.g.
in a container). Scripts that read ``SM_*`` variables need nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from amtune.sdk.sigv4 import SigV4Auth
from amtune.worker.agent import Agent, AgentConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument(
        "--endpoint",
        default=env("AMTUNE_ENDPOINT"),
        required=env("AMTUNE_ENDPOINT") is None,
        help="service URL, e.g. http://127.0.0.1:8000 (env AMTUNE_ENDPOINT)",
    )
    parser.add_argument(
        "--tuning-job",
        default=env("AMTUNE_TUNING_JOB"),
        help="HyperParameterTuningJobName to work for (env AMTUNE_TUNING_JOB); without it, "
        "serve every tuning job of the team (a pool worker)",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="with --tuning-job: wait for a tuning job that does not exist yet",
    )
    parser.add_argument(
        "--image",
        nargs="+",
        action="extend",
        default=[],
        metavar="IMAGE",
        help="pool worker: only tuning jobs whose TrainingImage is one of these",
    )
    parser.add_argument(
        "--concurrency", type=int, default=1, help="training jobs run at once (default 1)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(env("AMTUNE_WORKDIR", "amtune-jobs")),
        help="where job directories go, one per training job (default ./amtune-jobs)",
    )
    parser.add_argument("--worker-id", default=None, help="name in the service (default host-pid)")
    parser.add_argument(
        "--opt-ml",
        type=Path,
        default=Path(env("AMTUNE_OPT_ML", "")) if env("AMTUNE_OPT_ML") else None,
        help="make this path (e.g. /opt/ml) a symlink to the running job's directory",
    )
    parser.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="link input/data/NAME to a local directory (repeatable)",
    )
    parser.add_argument(
        "--stop-grace",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="after SIGTERM, wait this long before SIGKILL (default 10)",
    )
    parser.add_argument(
        "--no-hyperparameter-args",
        action="store_true",
        help="do not append --name value arguments to the command",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    # Not "command": amtune's top-level parser uses that name for the subcommand.
    parser.add_argument(
        "training_command",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND ARGS...",
        help="the training command, run once per training job",
    )


def config_from(args: argparse.Namespace) -> AgentConfig:
    if args.wait and not args.tuning_job:
        raise ValueError("--wait waits for the tuning job named by --tuning-job; give one")
    if args.image and args.tuning_job:
        raise ValueError("--image chooses tuning jobs for a pool worker; drop --tuning-job")
    command = list(args.training_command)
    if command and command[0] == "--":
        command = command[1:]
    channels: dict[str, Path] = {}
    for item in args.channel:
        name, sep, path = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--channel wants NAME=PATH, got {item!r}")
        channels[name] = Path(path)
    # A closed service (teams exist) wants every request signed: the team's key from the
    # usual AWS variables, as boto3 and the AWS CLI read them.
    key_id, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    auth = (
        SigV4Auth(
            key_id,
            secret,
            region=os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1",
            session_token=os.environ.get("AWS_SESSION_TOKEN"),
        )
        if key_id and secret
        else None
    )
    return AgentConfig(
        endpoint_url=args.endpoint,
        auth=auth,
        tuning_job_name=args.tuning_job,
        command=command,
        concurrency=args.concurrency,
        workdir=args.workdir,
        worker_id=args.worker_id,
        add_arguments=not args.no_hyperparameter_args,
        channels=channels,
        opt_ml=args.opt_ml,
        stop_grace_seconds=args.stop_grace,
        quiet=args.quiet,
        images=tuple(args.image),
        wait=args.wait,
    )


def quiet_http_logs() -> None:
    """``amtune``'s main logs at INFO; one line per HTTP request would drown the progress."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run(args: argparse.Namespace) -> int:
    """Exit status: 0 the tuning job ended and every result was delivered; 1 some result is
    still in an outbox; 2 bad usage or unknown tuning job; 128+N stopped by signal N."""
    logging.basicConfig(level=logging.WARNING, format="[amtune] %(levelname)s %(message)s")
    quiet_http_logs()
    try:
        agent = Agent(config_from(args))
    except ValueError as exc:
        print(f"amtune worker: error: {exc}", file=sys.stderr)
        return 2
    agent.install_signal_handlers()
    return agent.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amtune worker", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
