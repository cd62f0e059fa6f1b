"""A finished job's result, written to disk before it is sent, so that nothing loses it.

Training may take hours; the service may be restarting at the moment it ends, and the worker may
be killed while it waits. So the end of a job (complete with its final metrics, or fail with its
reason) is first written to ``<job dir>/amtune-outbox.json``, then sent with retries. Once the
service has answered, the file becomes ``amtune-report.json`` (with the answer), and a worker
starting on the same ``--workdir`` resends every outbox it finds for its tuning job first.

The service answers a repeated report for an ended job with 409; that counts as delivered (the
first copy got through, or the lease had lapsed and the job is Failed either way).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from amtune.sdk.errors import LeaseLost, NotFound, WorkerProtocolError
from amtune.sdk.protocol import WorkerProtocol
from amtune.sdk.transport import RetryPolicy
from amtune.worker.jobdir import JobLayout

Action = Literal["complete", "fail", "release"]


@dataclass
class PendingReport:
    training_job_name: str
    tuning_job_name: str
    action: Action
    body: dict[str, Any]
    #: For the progress line only: what the worker concluded (Completed/Failed/Stopped/...).
    outcome: str = ""
    objective: float | None = None
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())


def save(layout: JobLayout, report: PendingReport) -> None:
    """Write atomically and durably: a crash leaves either no file or the whole file.

    Readable by its owner only: the report carries the job's lease token."""
    temporary = layout.outbox_file.with_suffix(".json.tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump(asdict(report), handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, layout.outbox_file)


def load(path: Path) -> PendingReport | None:
    try:
        data = json.loads(path.read_text())
        return PendingReport(**data)
    except (OSError, ValueError, TypeError):
        return None


def pending_in(workdir: Path, tuning_job_name: str | None) -> list[tuple[JobLayout, PendingReport]]:
    """Outboxes of ``tuning_job_name`` (of any tuning job: None) left in ``workdir`` by an
    earlier run."""
    found: list[tuple[JobLayout, PendingReport]] = []
    if not workdir.is_dir():
        return found
    for path in sorted(workdir.glob("*/amtune-outbox.json")):
        report = load(path)
        if report is not None and tuning_job_name in (None, report.tuning_job_name):
            found.append((JobLayout(path.parent), report))
    return found


def deliver(
    protocol: WorkerProtocol,
    layout: JobLayout,
    report: PendingReport,
    *,
    retry: RetryPolicy,
    cancel: threading.Event | None,
) -> str:
    """Send until the service answers; returns the answer in words and retires the outbox.

    Raises what the transport raises when it gives up (EndpointConnectionError, Cancelled); the
    outbox then stays for the next attempt or the next worker.
    """
    try:
        if report.action == "complete":
            protocol.send_completion(
                report.training_job_name, report.body, retry=retry, cancel=cancel
            )
        elif report.action == "release":
            protocol.release(
                report.training_job_name,
                str(report.body.get("LeaseToken", "")),
                retry=retry,
                cancel=cancel,
            )
        else:
            protocol.send_failure(report.training_job_name, report.body, retry=retry, cancel=cancel)
        answer = "accepted"
    except (LeaseLost, NotFound) as exc:
        answer = f"refused ({exc.code}): {exc.error_message}"
    except WorkerProtocolError as exc:
        if exc.status >= 500:
            raise
        answer = f"refused ({exc.code}): {exc.error_message}"
    retire(layout, report, answer)
    return answer


def retire(layout: JobLayout, report: PendingReport, answer: str) -> None:
    record = {**asdict(report), "answer": answer, "sent_at": dt.datetime.now(dt.UTC).isoformat()}
    temporary = layout.report_file.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, layout.report_file)
    layout.outbox_file.unlink(missing_ok=True)
