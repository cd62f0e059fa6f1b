"""Running one claimed training job as a subprocess, from its directory to its reported end.

The script runs in its own process group (so a stop reaches whatever it spawned) and, on Linux,
dies with the thread that watches it (so a killed worker leaves no orphan training). Its merged
stdout/stderr goes line by line to ``training.log`` and through the MetricDefinitions regexes;
values are queued on the job's session, which batches them out and heartbeats.

How the job ends (AMT's rules where they exist):

=================================  ==================================================
the service asked it to stop       SIGTERM, SIGKILL after the grace; reported as
                                   *complete* (the service records Stopped)
the worker is shutting down        same signals; *released*: the service runs the same
                                   training job again on a later claim (no budget used)
exit 0 with the objective printed  complete, FinalMetricDataList = last value of each
exit 0 without the objective       fail: the objective metric was never printed
non-zero exit, or cannot start     fail: exit status, ``output/failure``, log tail
lease lost (409)                   process stopped, nothing reported (job is gone)
=================================  ==================================================
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from amtune.sdk.client import SageMakerClient
from amtune.sdk.errors import ClientError, EndpointConnectionError
from amtune.sdk.protocol import Claim, WorkerProtocol, complete_body, fail_body
from amtune.sdk.session import JobSession
from amtune.sdk.transport import Cancelled, RetryPolicy
from amtune.worker import jobdir, outbox
from amtune.worker.metrics import MetricDefinition, MetricParser
from amtune.worker.progress import Progress
from amtune.worker.status import status_line

LOG_TAIL_LINES = 40
FAILURE_REASON_LIMIT = 1024

_PR_SET_PDEATHSIG = 1
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None) if sys.platform == "linux" else None
except OSError:  # pragma: no cover
    _LIBC = None


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it when the watching thread goes away."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class RunnerSettings:
    """Everything every job of one worker shares."""

    protocol: WorkerProtocol
    client: SageMakerClient
    tuning_job_name: str
    workdir: Path
    command: Sequence[str]
    definition: Mapping[str, Any]
    metric_definitions: Sequence[MetricDefinition]
    objective_name: str | None
    progress: Progress
    shutdown: threading.Event
    hard_shutdown: threading.Event
    add_arguments: bool = True
    channels: Mapping[str, Path] = field(default_factory=dict)
    opt_ml: Path | None = None
    stop_grace_seconds: float = 10.0
    flush_interval: float = 1.0
    report_retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=None, base_delay=0.5, max_delay=15.0)
    )
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass
class JobResult:
    training_job_name: str
    outcome: str  # Completed | Stopped | Failed | Released | Dropped
    objective: float | None
    delivered: bool
    answer: str = ""


class JobRunner:
    def __init__(self, settings: RunnerSettings, claim: Claim) -> None:
        self.settings = settings
        self.claim = claim
        self.name = claim.training_job_name
        self.layout = jobdir.layout_for(settings.workdir, self.name)
        self.objective_name = (
            claim.hyperparameters.get("_tuning_objective_metric") or settings.objective_name
        )
        self.parser = MetricParser(settings.metric_definitions)
        self.tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        self.session = JobSession(
            settings.protocol,
            claim,
            flush_interval=settings.flush_interval,
            on_stop=lambda: self.terminate("the service asked the job to stop"),
            on_lease_lost=lambda: self.terminate("the lease was lost"),
        )
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._termination: str | None = None
        self._kill_timer: threading.Timer | None = None
        self.started_at = time.monotonic()

    # -- control from other threads -----------------------------------------------------------

    def terminate(self, why: str) -> None:
        """SIGTERM the job's process group now, SIGKILL after the grace period."""
        with self._lock:
            if self._termination is None:
                self._termination = why
            process = self._process
            if process is None or process.poll() is not None or self._kill_timer is not None:
                return
            _signal_group(process, signal.SIGTERM)
            grace = (
                0.0 if self.settings.hard_shutdown.is_set() else self.settings.stop_grace_seconds
            )
            self._kill_timer = threading.Timer(grace, self.kill)
            self._kill_timer.daemon = True
            self._kill_timer.start()

    def kill(self) -> None:
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGKILL)

    # -- the job ------------------------------------------------------------------------------

    def run(self) -> JobResult:
        settings = self.settings
        settings.progress.started(self.name, self.claim.hyperparameters)
        if settings.progress.live:
            described = describe_tuning_job(settings.client, settings.tuning_job_name)
            if described is not None:
                settings.progress.status(status_line(described, time.time()), event=False)
        self.session.start()
        returncode: int | None = None
        start_error: str | None = None
        try:
            argv, extra = jobdir.command_line(
                settings.command,
                self.claim.hyperparameters,
                add_arguments=settings.add_arguments,
            )
            jobdir.prepare(
                self.layout, self.claim.hyperparameters, settings.definition, settings.channels
            )
            env = jobdir.environment(
                self.layout,
                training_job_name=self.name,
                training_job_arn=self.claim.training_job_arn,
                hyperparameters=self.claim.hyperparameters,
                definition=settings.definition,
                command_args=extra,
                base=settings.base_env,
            )
            if settings.opt_ml is not None:
                point_symlink(settings.opt_ml, self.layout.root)
            returncode = self._execute(argv, env)
        except (OSError, ValueError) as exc:
            start_error = f"{type(exc).__name__}: {exc}"
            self._log_line(f"[amtune] could not run the training command: {start_error}\n")
        except BaseException:
            self.session.close(flush_timeout=0)
            raise
        return self._finish(returncode, start_error)

    def _execute(self, argv: list[str], env: dict[str, str]) -> int:
        with self.layout.log_file.open("ab") as log:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent if _LIBC is not None else None,  # noqa: PLW1509
            )
            with self._lock:
                self._process = process
                pending_stop = self._termination
            if pending_stop is not None:  # asked to stop before the process existed
                self._termination = None
                self.terminate(pending_stop)
            assert process.stdout is not None
            reader = threading.Thread(
                target=self._read, args=(process.stdout, log), name=f"log-{self.name}", daemon=True
            )
            reader.start()
            returncode = process.wait()
            reader.join(timeout=5.0)
            if reader.is_alive():  # a grandchild holds the pipe open: end it
                _signal_group(process, signal.SIGKILL)
                reader.join(timeout=5.0)
            with self._lock:
                if self._kill_timer is not None:
                    self._kill_timer.cancel()
        return returncode

    def _read(self, stream: IO[bytes], log: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            log.write(raw)
            log.flush()
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            self.tail.append(line)
            for metric in self.parser.feed(line):
                self.session.add_metric(metric)
        stream.close()

    def _log_line(self, text: str) -> None:
        self.layout.root.mkdir(parents=True, exist_ok=True)
        with self.layout.log_file.open("a") as log:
            log.write(text)
        self.tail.append(text.rstrip("\n"))

    # -- the end ------------------------------------------------------------------------------

    def _finish(self, returncode: int | None, start_error: str | None) -> JobResult:
        """Decide the end, write it to the outbox, *then* flush metrics and deliver it.

        The outbox comes first so that nothing after the training ended (a slow flush to an
        unreachable service, the worker being killed) can lose the result.
        """
        settings = self.settings
        objective_metric = self.parser.last.get(self.objective_name or "")
        objective = objective_metric.value if objective_metric is not None else None
        if self.session.lease_lost:
            self.session.close()
            return self._report_progress(
                JobResult(self.name, "Dropped", objective, True, "lease lost")
            )
        final = self.parser.final()
        lease_token = self.claim.lease_token
        action: outbox.Action = "fail"
        if self.session.stop_requested:
            action, outcome = "complete", "Stopped"
        elif settings.shutdown.is_set() and self._termination is not None:
            action, outcome = "release", "Released"
        elif start_error is not None:
            outcome = "Failed"
            reason = f"AlgorithmError: could not start the training command: {start_error}"
        elif returncode == 0 and objective is not None:
            action, outcome = "complete", "Completed"
        else:
            outcome = "Failed"
            reason = self._failure_reason(returncode, missing_objective=returncode == 0)
        if action == "complete":
            body = complete_body(final, lease_token)
        elif action == "release":
            body = {"LeaseToken": lease_token}
        else:
            body = fail_body(reason, False, lease_token)
        report = outbox.PendingReport(
            training_job_name=self.name,
            tuning_job_name=settings.tuning_job_name,
            action=action,
            body=body,
            outcome=outcome,
            objective=objective,
        )
        outbox.save(self.layout, report)
        self.session.close()
        if self.session.lease_lost:  # the flush learnt that the job is gone: nothing to send
            outbox.retire(self.layout, report, "not sent: the lease was lost")
            return self._report_progress(JobResult(self.name, "Dropped", objective, True))
        result = deliver_report(settings, self.layout, report)
        reason = str(body.get("FailureReason", ""))
        return self._report_progress(result, reason.split("\n", 1)[0][:100])

    def _failure_reason(self, returncode: int | None, *, missing_objective: bool) -> str:
        if missing_objective:
            names = (
                ", ".join(
                    repr(d.pattern.pattern)
                    for d in self.settings.metric_definitions
                    if d.name == self.objective_name
                )
                or "none defined"
            )
            head = (
                f"AlgorithmError: the training command exited 0 but never printed the objective "
                f"metric {self.objective_name!r} (MetricDefinitions regex: {names})."
            )
        elif returncode is not None and returncode < 0:
            head = (
                f"AlgorithmError: the training command was killed by {_signal_name(-returncode)}."
            )
        else:
            head = f"AlgorithmError: the training command exited with code {returncode}."
        failure = ""
        with contextlib.suppress(OSError):
            failure = self.layout.failure_file.read_text(errors="replace").strip()
        if failure:
            head += f"\n{failure[:400]}"
        tail = "\n".join(self.tail)
        room = FAILURE_REASON_LIMIT - len(head) - len("\nLog tail:\n")
        if tail and room > 40:
            head += "\nLog tail:\n" + tail[-room:]
        return head[:FAILURE_REASON_LIMIT]

    def _report_progress(self, result: JobResult, reason: str = "") -> JobResult:
        described = describe_tuning_job(self.settings.client, self.settings.tuning_job_name)
        best = (described or {}).get("BestTrainingJob")
        detail = reason
        if not result.delivered:
            detail = f"{detail} (result kept in the outbox; will be resent)".strip()
        if result.outcome == "Dropped":
            detail = "lease lost: dropped"
        self.settings.progress.ended(
            self.name,
            result.outcome,
            objective_name=self.objective_name,
            objective=result.objective,
            best=best,
            seconds=time.monotonic() - self.started_at,
            detail=detail,
        )
        if described is not None:
            self.settings.progress.status(status_line(described, time.time()), event=True)
        return result


def deliver_report(
    settings: RunnerSettings, layout: jobdir.JobLayout, report: outbox.PendingReport
) -> JobResult:
    """Send a saved report, patiently; while the worker shuts down, for a bounded time only."""
    retry = settings.report_retry
    if settings.shutdown.is_set():
        retry = RetryPolicy(max_attempts=None, base_delay=0.5, max_delay=5.0, deadline_seconds=30)
    try:
        answer = outbox.deliver(
            settings.protocol, layout, report, retry=retry, cancel=settings.hard_shutdown
        )
    except (EndpointConnectionError, Cancelled, ClientError) as exc:
        return JobResult(
            report.training_job_name, report.outcome, report.objective, False, str(exc)
        )
    return JobResult(report.training_job_name, report.outcome, report.objective, True, answer)


def describe_tuning_job(client: SageMakerClient, tuning_job_name: str) -> dict[str, Any] | None:
    """Describe for the progress lines; None when it cannot be had (progress is not worth a
    retry or an error)."""
    try:
        return client.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=tuning_job_name
        )
    except (ClientError, EndpointConnectionError):
        return None


def point_symlink(link: Path, target: Path) -> None:
    """Make ``link`` (e.g. /opt/ml) a symlink to ``target``, replacing an older link atomically."""
    if link.exists() and not link.is_symlink():
        raise ValueError(f"--opt-ml {link} exists and is not a symlink; refusing to replace it")
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.amtune-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.resolve(), target_is_directory=True)
    os.replace(temporary, link)


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
