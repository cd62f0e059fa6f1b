"""``amtune worker``: claim training jobs and run a command for each.

With ``--tuning-job NAME`` the worker serves that tuning job: it describes it once
(MetricDefinitions, objective, the training-job definition; with ``--wait`` it waits for a job
not created yet), resends any results an earlier run left in the outbox, then claims while a
slot is free. A 204 waits ``Retry-After`` (or until a slot frees); an unreachable service is
waited out with backoff; 409 ``TuningJobNotInProgress`` ends the claiming, the running jobs
finish (the service tells them to stop if the tuning job is stopping), and the worker exits 0.

Without ``--tuning-job`` it is a pool worker: it claims from any tuning job of its team in
progress (``POST /v1/claims``; only those whose TrainingImage is one of ``--image`` when given),
describes each tuning job the first time it gets one of its training jobs, and runs until it is
stopped; while no tuning job has work it waits quietly.

SIGINT/SIGTERM: stop claiming, SIGTERM the running jobs (SIGKILL after the grace), give each back
to the service (``release``: it runs again with the same hyperparameters, using up no budget),
exit 128+signal. A second signal kills at once; unsent reports stay in the outbox for the next
run.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from amtune.sdk.client import SageMakerClient
from amtune.sdk.errors import (
    ClientError,
    EndpointConnectionError,
    NotFound,
    TuningJobEnded,
    WorkerProtocolError,
)
from amtune.sdk.protocol import Claim, Wait, WorkerProtocol, default_worker_id
from amtune.sdk.transport import Cancelled, RetryPolicy
from amtune.worker import outbox
from amtune.worker.metrics import (
    MetricDefinition,
    compile_definitions,
    definitions_of_tuning_job,
)
from amtune.worker.progress import Progress
from amtune.worker.runner import (
    JobResult,
    JobRunner,
    RunnerSettings,
    deliver_report,
    describe_tuning_job,
)
from amtune.worker.status import status_line

log = logging.getLogger("amtune.worker")

EXIT_ENDED = 0
EXIT_UNDELIVERED = 1
EXIT_USAGE = 2

PATIENT = RetryPolicy(max_attempts=None, base_delay=0.5, max_delay=15.0)


#: Seconds between looks for a tuning job that does not exist yet (``--wait``).
WAIT_FOR_JOB_SECONDS = 2.0
#: Seconds between redraws of the live progress line on a terminal (its time left moves).
PROGRESS_REFRESH_SECONDS = 10.0


@dataclass
class AgentConfig:
    endpoint_url: str
    #: None: a pool worker, serving every tuning job of its team.
    tuning_job_name: str | None
    command: Sequence[str]
    concurrency: int = 1
    workdir: Path = Path("amtune-jobs")
    worker_id: str | None = None
    add_arguments: bool = True
    channels: Mapping[str, Path] = field(default_factory=dict)
    opt_ml: Path | None = None
    stop_grace_seconds: float = 10.0
    flush_interval: float = 1.0
    quiet: bool = False
    auth: httpx.Auth | None = None
    #: Pool workers: only tuning jobs whose TrainingImage is one of these (empty: any).
    images: Sequence[str] = ()
    #: Wait for a tuning job that does not exist yet instead of exiting 2.
    wait: bool = False


class Agent:
    def __init__(self, config: AgentConfig, progress: Progress | None = None) -> None:
        if config.concurrency < 1:
            raise ValueError("--concurrency must be at least 1")
        if config.opt_ml is not None and config.concurrency != 1:
            raise ValueError("--opt-ml points one path at one job: it needs --concurrency 1")
        if not config.command:
            raise ValueError("no training command given (put it after --)")
        self.config = config
        self.worker_id = config.worker_id or default_worker_id()
        self.progress = progress or Progress(quiet=config.quiet)
        self.protocol = WorkerProtocol(config.endpoint_url, auth=config.auth)
        self.client = SageMakerClient(config.endpoint_url, auth=config.auth, max_attempts=2)
        self.shutdown = threading.Event()
        self.hard_shutdown = threading.Event()
        self.signal_received: int | None = None
        self._wake = threading.Event()
        self._lock = threading.RLock()
        self._running: dict[str, tuple[JobRunner, threading.Thread]] = {}
        self.results: list[JobResult] = []
        self._settings_of: dict[str, RunnerSettings] = {}
        self._finished = threading.Event()
        #: Bound on waiting for the progress refresher's last Describe before closing.
        self.client_timeout_seconds = 30.0

    # -- signals ------------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """SIGINT/SIGTERM only set flags; a watcher thread does the stopping.

        A signal handler runs in the main thread between two bytecodes, possibly while that
        thread holds a lock or is printing; taking locks or printing there could deadlock.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, frame: types.FrameType | None) -> None:
        if self.shutdown.is_set():
            self.hard_shutdown.set()
        else:
            self.signal_received = signum
            self.shutdown.set()
        self._wake.set()

    def request_shutdown(self, signum: int = signal.SIGTERM) -> None:
        """What a signal does, callable from code (tests, embedding)."""
        self._on_signal(signum, None)

    def _watch_shutdown(self) -> None:
        self.shutdown.wait()
        running = self._runners()
        name = signal.Signals(self.signal_received or signal.SIGTERM).name
        self.progress.line(f"{name}: stopping {len(running)} running job(s) (again to kill)")
        for runner in running:
            runner.terminate("the worker is shutting down")
        self.hard_shutdown.wait()
        self.progress.line("second signal: killing running jobs now")
        for runner in self._runners():
            runner.kill()

    def _runners(self) -> list[JobRunner]:
        with self._lock:
            return [runner for runner, _ in self._running.values()]

    # -- main loop ----------------------------------------------------------------------------

    def run(self) -> int:
        threading.Thread(target=self._watch_shutdown, name="shutdown", daemon=True).start()
        name = self.config.tuning_job_name
        try:
            settings = self._settings(name) if name is not None else self._pool_settings()
        except (ClientError, ValueError) as exc:
            self.progress.line(f"error: {exc}")
            return EXIT_USAGE
        except (Cancelled, EndpointConnectionError):
            return self._exit_code()
        serving = f"tuning job {name}" if name is not None else self._pool_text()
        self.progress.line(
            f"worker {self.worker_id}: {serving} at "
            f"{self.config.endpoint_url}, concurrency {self.config.concurrency}, "
            f"jobs in {self.config.workdir}"
        )
        self._resend_outboxes(settings)
        refresher = threading.Thread(
            target=self._refresh_progress, args=(name,), name="progress", daemon=True
        )
        if self.progress.live and name is not None:
            refresher.start()
        ended = False
        try:
            ended = self._claim_loop(settings)
        finally:
            self._wait_for_running()
            self._finished.set()
            if refresher.is_alive():
                refresher.join(timeout=self.client_timeout_seconds)
            self.protocol.close()
            self.client.close()
            self.progress.close()
        if ended and not self.shutdown.is_set():
            self.progress.line(f"tuning job {name} has ended; exiting")
        return self._exit_code()

    def _pool_text(self) -> str:
        images = ", ".join(self.config.images)
        return "every tuning job of the team" + (f" running {images}" if images else "")

    def _pool_settings(self) -> RunnerSettings:
        """What a pool worker's jobs share before it knows their tuning jobs (for resends)."""
        return self._runner_settings("", {}, [], None)

    def _exit_code(self) -> int:
        if self.signal_received is not None:
            return 128 + self.signal_received
        if any(not r.delivered for r in self.results):
            return EXIT_UNDELIVERED
        return EXIT_ENDED

    def _settings(self, name: str) -> RunnerSettings:
        """Describe the tuning job (waiting for the service if it is down) into shared settings."""
        cached = self._settings_of.get(name)
        if cached is not None:
            return cached
        warned = False

        def on_retry(attempt: int, delay: float, why: str) -> None:
            nonlocal warned
            if not warned:
                self.progress.line(f"service unreachable ({why}); retrying")
                warned = True

        described = self._describe(name, on_retry)
        config = described.get("HyperParameterTuningJobConfig") or {}
        objective = (config.get("HyperParameterTuningJobObjective") or {}).get("MetricName")
        definitions = compile_definitions(definitions_of_tuning_job(described))
        if not any(d.name == objective for d in definitions):
            self.progress.line(
                f"warning: no MetricDefinitions regex for the objective {objective!r}; "
                "jobs cannot report it"
            )
        definition = (
            described.get("TrainingJobDefinition")
            or ((described.get("TrainingJobDefinitions") or [{}])[0])
        )
        settings = self._runner_settings(name, definition, definitions, objective)
        self._settings_of[name] = settings
        return settings

    def _runner_settings(
        self,
        name: str,
        definition: Mapping[str, Any],
        definitions: Sequence[MetricDefinition],
        objective: str | None,
    ) -> RunnerSettings:
        return RunnerSettings(
            protocol=self.protocol,
            client=self.client,
            tuning_job_name=name,
            workdir=self.config.workdir.resolve(),
            command=list(self.config.command),
            definition=definition,
            metric_definitions=definitions,
            objective_name=objective,
            progress=self.progress,
            shutdown=self.shutdown,
            hard_shutdown=self.hard_shutdown,
            add_arguments=self.config.add_arguments,
            channels=self.config.channels,
            opt_ml=self.config.opt_ml,
            stop_grace_seconds=self.config.stop_grace_seconds,
            flush_interval=self.config.flush_interval,
        )

    def _describe(self, name: str, on_retry: Any) -> dict[str, Any]:
        backoff = 0.5
        waiting = False
        while True:
            try:
                return self.client.describe_hyper_parameter_tuning_job(
                    HyperParameterTuningJobName=name
                )
            except EndpointConnectionError as exc:
                on_retry(0, backoff, str(exc))
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if exc.code == "ResourceNotFound" and self.config.wait:
                    if not waiting:
                        self.progress.line(f"waiting for tuning job {name} to be created")
                        waiting = True
                    if self.shutdown.wait(WAIT_FOR_JOB_SECONDS):
                        raise Cancelled("shutting down") from exc
                    continue
                if status < 500:
                    raise
                on_retry(0, backoff, str(exc))
            if self.shutdown.wait(backoff):
                raise Cancelled("shutting down")
            backoff = min(backoff * 2, 15.0)

    def _resend_outboxes(self, settings: RunnerSettings) -> None:
        for layout, report in outbox.pending_in(settings.workdir, self.config.tuning_job_name):
            if self.shutdown.is_set():
                return
            result = deliver_report(settings, layout, report)
            self.results.append(result)
            state = "resent" if result.delivered else "still unsent"
            self.progress.line(
                f"{report.training_job_name}  {report.outcome:<10} {state} from an earlier run: "
                f"{result.answer}"
            )

    def _claim_loop(self, settings: RunnerSettings) -> bool:
        """Claim until the tuning job ends (True) or the worker shuts down (False)."""
        warned = False

        def on_retry(attempt: int, delay: float, why: str) -> None:
            nonlocal warned
            if not warned:
                self.progress.line(f"service unreachable ({why}); retrying")
                warned = True

        while not self.shutdown.is_set():
            if self._free_slots() == 0:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            warned = False
            try:
                if self.config.tuning_job_name is None:
                    result = self.protocol.claim_any(
                        self.worker_id,
                        self.config.images,
                        retry=PATIENT,
                        cancel=self.shutdown,
                        on_retry=on_retry,
                    )
                else:
                    result = self.protocol.claim(
                        self.config.tuning_job_name,
                        self.worker_id,
                        retry=PATIENT,
                        cancel=self.shutdown,
                        on_retry=on_retry,
                    )
            except (TuningJobEnded, NotFound):
                return True
            except Cancelled:
                return False
            except WorkerProtocolError as exc:
                if exc.status >= 500:
                    self.shutdown.wait(2.0)
                    continue
                self.progress.line(f"error: claim refused: {exc}")
                return False
            if isinstance(result, Wait):
                self._wake.wait(max(0.05, result.retry_after))
                self._wake.clear()
                continue
            self._start(self._settings_for(result, settings), result)
        return False

    def _settings_for(self, claim: Claim, settings: RunnerSettings) -> RunnerSettings:
        """A pool claim runs with its own tuning job's settings, described on first sight."""
        name = claim.tuning_job_name
        if self.config.tuning_job_name is not None or name is None:
            return settings
        try:
            return self._settings(name)
        except Cancelled:
            # Shutting down: the job is given back as soon as it starts (see _start).
            return self._runner_settings(name, {}, [], None)
        except (ClientError, ValueError) as exc:
            # Deleted between claim and describe, or unusable: the job runs with no metric
            # regexes and fails with a reason that says why, rather than being lost.
            self.progress.line(f"warning: cannot describe tuning job {name}: {exc}")
            return self._runner_settings(name, {}, [], None)

    def _free_slots(self) -> int:
        with self._lock:
            return self.config.concurrency - len(self._running)

    def _start(self, settings: RunnerSettings, claim: Claim) -> None:
        runner = JobRunner(settings, claim)
        thread = threading.Thread(
            target=self._run_job, args=(runner,), name=f"job-{runner.name}", daemon=True
        )
        with self._lock:
            self._running[runner.name] = (runner, thread)
        if self.shutdown.is_set():
            runner.terminate("the worker is shutting down")
        thread.start()

    def _run_job(self, runner: JobRunner) -> None:
        try:
            result = runner.run()
        except Exception as exc:  # a bug here must not take the other jobs down
            log.exception("job %s crashed the runner", runner.name)
            result = JobResult(runner.name, "Failed", None, False, f"runner error: {exc}")
        with self._lock:
            self._running.pop(runner.name, None)
            self.results.append(result)
        self._wake.set()

    def _refresh_progress(self, name: str) -> None:
        """On a terminal, redraw the status line now and then, not only when jobs end."""
        while not self._finished.is_set():
            try:
                described = describe_tuning_job(self.client, name)
            except RuntimeError:  # the client was closed under a slow Describe: the run is over
                return
            if described is not None and not self._finished.is_set():
                self.progress.status(status_line(described, time.time()), event=False)
            if self._finished.wait(PROGRESS_REFRESH_SECONDS):
                return

    def _wait_for_running(self) -> None:
        while True:
            with self._lock:
                threads = [thread for _, thread in self._running.values()]
            if not threads:
                return
            for thread in threads:
                thread.join(timeout=0.5)
