"""The worker API for training code written in Python.

The documented way: ``with job:`` around each job's body, or :meth:`Worker.run`::

    for job in amtune.Worker(endpoint_url, "my-tuning-job").jobs():
        with job:
            for epoch in range(10):
                loss = train_one_epoch(**job.hyperparameters)
                job.report("loss", loss, step=epoch)
                if job.should_stop:
                    break

    amtune.Worker(endpoint_url, "my-tuning-job").run(train)   # train(job) per job

Each iteration is one claimed training job. Its hyperparameters come typed (the tuning job's
ParameterRanges decide, see :mod:`amtune.sdk.hyperparameters`), heartbeats and metric batches go
out from a background thread, and the job ends when the iteration does:

* the body finishes normally -> the job is completed (the service takes the last reported value of
  the objective metric; a job that was told to stop ends Stopped);
* ``with job:`` fails it with the exception's text when the body raises (the exception
  propagates, as ``with`` does); :meth:`Worker.run` does the same and goes on with the next job;
* without ``with job:``, an exception leaving the loop abandons the job: it is failed a moment
  later as abandoned, or at interpreter exit (with the text of the exception that ended the
  process, which the interpreter keeps in ``sys.last_value``). The API installs no
  ``sys.excepthook`` or ``threading.excepthook``: a library must not change how the whole
  program reports its errors, so the exception's text reaches the job only through ``with job:``.
  Call ``job.complete()`` before ``break`` to keep a result.

A lost lease (409) never raises: the job is dropped (``job.lease_lost``), reports become no-ops,
and the loop goes on with the next job. The loop ends when the tuning job is no longer in
progress (409 ``TuningJobNotInProgress`` on claim).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from amtune.sdk.client import SageMakerClient
from amtune.sdk.errors import (
    ClientError,
    EndpointConnectionError,
    LeaseLost,
    NotFound,
    TuningJobEnded,
    WorkerProtocolError,
)
from amtune.sdk.hyperparameters import (
    HyperParameterValue,
    decode,
    ranges_of_tuning_job,
)
from amtune.sdk.protocol import (
    Claim,
    Metric,
    Wait,
    WorkerProtocol,
    complete_body,
    default_worker_id,
    fail_body,
)
from amtune.sdk.session import JobSession
from amtune.sdk.transport import Cancelled, RetryPolicy

log = logging.getLogger("amtune.sdk")

#: How long an abandoned job (loop left by break or a caught exception) waits for an uncaught
#: exception's text before it is failed with a generic reason.
ABANDON_GRACE_SECONDS = 1.0


class Job:
    """One claimed training job. Not created by user code: :meth:`Worker.jobs` hands them out."""

    def __init__(
        self,
        worker: Worker,
        claim: Claim,
        types_: Mapping[str, type],
        objective_metric: str | None,
    ) -> None:
        self._worker = worker
        self.claim = claim
        self.name = claim.training_job_name
        self.arn = claim.training_job_arn
        self.raw_hyperparameters: dict[str, str] = dict(claim.hyperparameters)
        self.hyperparameters: dict[str, HyperParameterValue] = decode(claim.hyperparameters, types_)
        self.objective_metric = (
            claim.hyperparameters.get("_tuning_objective_metric") or objective_metric
        )
        self.status: str = "InProgress"  # InProgress | Completed | Failed | Released | Dropped
        self._lock = threading.Lock()
        self._session = JobSession(
            worker.protocol,
            claim,
            flush_interval=worker.flush_interval,
            max_batch=worker.max_batch,
        )

    def __repr__(self) -> str:
        return f"Job({self.name!r}, {self.hyperparameters!r}, status={self.status!r})"

    @property
    def should_stop(self) -> bool:
        """True once the service asked this job to stop, the lease was lost, or the worker closes.

        Check it between epochs and end the iteration: the job is then completed and the service
        records it as Stopped (a lost lease drops it; after :meth:`Worker.close` it is given
        back, see :meth:`release`, since a run cut short by the worker is no result).
        """
        return (
            self._session.stop_requested
            or self._session.lease_lost
            or self._worker.closing.is_set()
        )

    @property
    def lease_lost(self) -> bool:
        return self._session.lease_lost

    @property
    def finished(self) -> bool:
        return self.status != "InProgress"

    def report(
        self,
        metric_name: str,
        value: float,
        *,
        step: int | None = None,
        timestamp: dt.datetime | None = None,
    ) -> None:
        """Queue a metric value for the next batch. Non-finite values raise ValueError."""
        if self.finished:
            log.warning("%s: report(%r) after the job ended is ignored", self.name, metric_name)
            return
        moment = timestamp or dt.datetime.now(dt.UTC)
        self._session.add_metric(Metric(metric_name, float(value), moment, step))

    def complete(self, final_metrics: Mapping[str, float] | None = None) -> None:
        """End the job successfully (idempotent). ``final_metrics`` override the last reports."""
        metrics = (
            [Metric(k, float(v), dt.datetime.now(dt.UTC)) for k, v in final_metrics.items()]
            if final_metrics
            else None
        )
        self._end("Completed", lambda: self._send_complete(metrics))

    def fail(self, reason: str, *, retryable: bool = False) -> None:
        """End the job as Failed with ``reason`` as its FailureReason (idempotent)."""
        self._end(
            "Failed",
            lambda: self._worker.protocol.send_failure(
                self.name,
                fail_body(reason, retryable, self.claim.lease_token),
                retry=self._worker.completion_retry,
            ),
        )

    def release(self) -> None:
        """Give the job back (idempotent): the service runs it again, same hyperparameters, on
        a later claim, without using up the tuning job's budget or a RetryStrategy attempt."""
        self._end(
            "Released",
            lambda: self._worker.protocol.release(
                self.name, self.claim.lease_token, retry=self._worker.completion_retry
            ),
        )

    def __enter__(self) -> Job:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        if exc is None:
            self._end_normally()
        elif isinstance(exc, KeyboardInterrupt):
            self.release()  # the person stopped the worker, not the training
        else:
            self.fail(describe_exception(exc))

    # -- internals ----------------------------------------------------------------------------

    def _end_normally(self) -> None:
        """The body ended without an error: complete, unless close() cut the job short."""
        if self._worker.closing.is_set() and not self._session.stop_requested:
            # Cut short by the worker, not by the service: no result to rank; let it run again.
            self.release()
        else:
            self.complete()

    def _start(self) -> None:
        self._session.start()
        _registry.add(self)

    def _send_complete(self, metrics: list[Metric] | None) -> None:
        chosen = metrics if metrics is not None else self._session.final_metrics()
        self._worker.protocol.send_completion(
            self.name,
            complete_body(chosen, self.claim.lease_token),
            retry=self._worker.completion_retry,
        )

    def _end(self, status: str, send: Callable[[], None]) -> None:
        with self._lock:
            if self.finished:
                return
            self.status = status
        _registry.discard(self)
        self._session.close()
        if self._session.lease_lost:
            self.status = "Dropped"
            return
        try:
            send()
        except (LeaseLost, NotFound) as exc:
            log.warning("%s: lease lost before the job could end: %s", self.name, exc)
            self.status = "Dropped"
        except (ClientError, EndpointConnectionError, Cancelled) as exc:
            log.error("%s: could not report the end of the job: %s", self.name, exc)
            self.status = "Dropped"


class Worker:
    """Claims training jobs of one tuning job and hands them to Python training code."""

    def __init__(
        self,
        endpoint_url: str,
        tuning_job: str,
        *,
        worker_id: str | None = None,
        auth: httpx.Auth | None = None,
        timeout: float = 30.0,
        flush_interval: float = 1.0,
        max_batch: int = 200,
        completion_timeout: float = 600.0,
        exact_types: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.tuning_job = tuning_job
        self.worker_id = worker_id or default_worker_id()
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.exact_types = exact_types
        self.completion_retry = RetryPolicy(
            max_attempts=None, base_delay=0.5, max_delay=15.0, deadline_seconds=completion_timeout
        )
        connection: dict[str, Any] = {"auth": auth, "timeout": timeout, "transport": transport}
        self.protocol = WorkerProtocol(endpoint_url, **connection)
        self._client = SageMakerClient(endpoint_url, **connection)
        self.closing = threading.Event()
        self.jobs_seen = 0

    def close(self) -> None:
        """Stop claiming; the job in hand sees ``should_stop`` and is given back when its
        iteration ends (unless the service had asked it to stop)."""
        self.closing.set()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self.protocol.close()
        self._client.close()

    def jobs(self, max_jobs: int | None = None) -> Iterator[Job]:
        """Claim, yield, end; until the tuning job is over, ``max_jobs`` ran, or :meth:`close`."""
        types_, objective = self._describe()
        count = 0
        while not self.closing.is_set() and (max_jobs is None or count < max_jobs):
            claim = self._claim()
            if claim is None:
                return
            count += 1
            self.jobs_seen += 1
            job = Job(self, claim, types_, objective)
            job._start()
            try:
                yield job
            except GeneratorExit:
                if not job.finished:
                    _registry.abandon(job)
                raise
            job._end_normally()

    def run(self, train: Callable[[Job], object], max_jobs: int | None = None) -> int:
        """Call ``train(job)`` for every job: completed on return, failed with the error on raise.

        One job raising does not end the run (a diverging configuration is a result, not a
        reason to stop tuning): the job is failed with the exception's text and the next one
        is claimed. KeyboardInterrupt gives the job back (:meth:`Job.release`) and propagates.
        Returns the number of jobs run.
        """
        ran = 0
        for job in self.jobs(max_jobs):
            ran += 1
            try:
                with job:
                    train(job)
            except Exception:
                log.exception("training job %s failed", job.name)
        return ran

    # -- internals ----------------------------------------------------------------------------

    def _describe(self) -> tuple[dict[str, type], str | None]:
        """Exact hyperparameter types and the objective name; guesses if Describe fails."""
        if not self.exact_types:
            return {}, None
        try:
            description = self._client.describe_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=self.tuning_job
            )
        except ClientError as exc:
            if exc.code == "ResourceNotFound":
                raise
            log.warning("describe failed, hyperparameter types will be guessed: %s", exc)
            return {}, None
        except EndpointConnectionError as exc:
            log.warning("describe failed, hyperparameter types will be guessed: %s", exc)
            return {}, None
        objective = (
            description.get("HyperParameterTuningJobConfig", {})
            .get("HyperParameterTuningJobObjective", {})
            .get("MetricName")
        )
        return ranges_of_tuning_job(description), objective

    def _claim(self) -> Claim | None:
        """The next claim, waiting through 204s and outages; None when claiming is over."""
        retry = RetryPolicy(max_attempts=None, base_delay=0.5, max_delay=15.0)
        warned = False

        def on_retry(attempt: int, delay: float, why: str) -> None:
            nonlocal warned
            if not warned:
                log.warning("service unreachable (%s); retrying", why)
                warned = True

        while not self.closing.is_set():
            try:
                result = self.protocol.claim(
                    self.tuning_job,
                    self.worker_id,
                    retry=retry,
                    cancel=self.closing,
                    on_retry=on_retry,
                )
            except TuningJobEnded:
                return None
            except Cancelled:
                return None
            except WorkerProtocolError as exc:
                if exc.status >= 500:
                    self.closing.wait(2.0)
                    continue
                raise
            if isinstance(result, Wait):
                self.closing.wait(result.retry_after)
                continue
            return result
        return None


def describe_exception(exc: BaseException) -> str:
    """The FailureReason for an exception: its type and message, then the innermost frames."""
    head = f"{type(exc).__name__}: {exc}"
    frames = traceback.format_exception(type(exc), exc, exc.__traceback__)
    tail = "".join(frames)[-700:]
    return f"{head}\n{tail}"[:1024]


class _Registry:
    """Jobs in progress in this process, so that none is left running when the loop is left.

    A generator cannot see the exception that leaves the caller's ``for`` loop. Abandoned jobs
    (the loop left while a job was open) are failed after a short grace; at interpreter exit
    every job still open is failed, with the text of the uncaught exception that ended the
    process when there is one. Nothing process-wide is replaced: the only registration is one
    ``atexit`` callback, added beside whatever the program registered.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: set[Job] = set()
        self._at_exit_registered = False

    def add(self, job: Job) -> None:
        with self._lock:
            self._active.add(job)
            if not self._at_exit_registered:
                self._at_exit_registered = True
                atexit.register(self._fail_all_at_exit)

    def discard(self, job: Job) -> None:
        with self._lock:
            self._active.discard(job)

    def abandon(self, job: Job) -> None:
        timer = threading.Timer(
            ABANDON_GRACE_SECONDS,
            job.fail,
            args=("The training loop was left before this job finished (break or exception).",),
        )
        timer.daemon = True
        timer.start()

    def _fail_all_at_exit(self) -> None:
        with self._lock:
            jobs = list(self._active)
        # Set by the interpreter when an uncaught exception ends the program; read, not hooked.
        uncaught = getattr(sys, "last_value", None)
        if isinstance(uncaught, KeyboardInterrupt):
            for job in jobs:
                job.release()  # the person stopped the program, not the training
            return
        if isinstance(uncaught, BaseException):
            reason = describe_exception(uncaught)
        else:
            reason = "The Python process exited before this training job finished."
        for job in jobs:
            job.fail(reason)


_registry = _Registry()
