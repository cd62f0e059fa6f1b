"""Workers that keep going through a service outage and remember every write acknowledged.

A write is acknowledged when the worker saw a 200. Anything else (a refused connection, a
request cut off by a killed server, a 503) has an unknown outcome and is retried or dropped,
never counted. After the fault, every acknowledged write must be in the database.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests.reliability.support import describe_tuning_job

STATUS_COUNTER = {
    "Completed": "Completed",
    "InProgress": "InProgress",
    "Stopping": "InProgress",
    "Stopped": "Stopped",
}


@dataclass
class Acks:
    lock: threading.Lock = field(default_factory=threading.Lock)
    # (training job, step, value) of every metric report answered 200.
    metrics: list[tuple[str, int, float]] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    claimed: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    outages: int = 0


class AckingWorker(threading.Thread):
    """Claim, report five metrics, complete; retry through outages on any of ``urls``."""

    def __init__(
        self, urls: list[str], tuning_job: str, worker_id: str, acks: Acks, stop: threading.Event
    ) -> None:
        super().__init__(daemon=True, name=worker_id)
        self.urls = urls
        self.tuning_job = tuning_job
        self.worker_id = worker_id
        self.acks = acks
        self.stop = stop
        self.rng = random.Random(worker_id)
        self.clients = [httpx.Client(base_url=u, timeout=20) for u in urls]

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response | None:
        """One attempt on a random replica; None when the outcome is unknown (outage)."""
        client = self.rng.choice(self.clients)
        try:
            response = client.post(path, json={"WorkerId": self.worker_id, **body})
        except httpx.TransportError:
            with self.acks.lock:
                self.acks.outages += 1
            time.sleep(0.1)
            return None
        if response.status_code == 503:
            with self.acks.lock:
                self.acks.outages += 1
            time.sleep(0.1)
            return None
        return response

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                if not self.one_job():
                    return
        finally:
            for client in self.clients:
                client.close()

    def one_job(self) -> bool:
        response = self.post(f"/v1/tuning-jobs/{self.tuning_job}/claims", {})
        if response is None:
            return True
        if response.status_code == 204:
            time.sleep(0.2)
            return True
        if response.status_code != 200:
            self.unexpected(f"claim {response.status_code} {response.text}")
            return False
        name, token = response.json()["TrainingJobName"], response.json()["LeaseToken"]
        with self.acks.lock:
            self.acks.claimed.append(name)
        step = 0
        while step < 5:
            value = self.rng.random()
            metric = {"MetricName": "loss", "Value": value, "Step": step}
            answer = self.post(
                f"/v1/training-jobs/{name}/metrics", {"LeaseToken": token, "Metrics": [metric]}
            )
            if answer is None:
                continue  # unknown outcome: send the next value for the same step again
            if answer.status_code == 409:
                return True  # the lease lapsed during a long outage: drop the job
            if answer.status_code != 200:
                self.unexpected(f"metrics {answer.status_code} {answer.text}")
                return False
            with self.acks.lock:
                self.acks.metrics.append((name, step, value))
            step += 1
        while True:
            answer = self.post(f"/v1/training-jobs/{name}/complete", {"LeaseToken": token})
            if answer is None:
                continue
            if answer.status_code == 200:
                with self.acks.lock:
                    self.acks.completed.append(name)
            elif answer.status_code != 409:
                # 409 after an unknown outcome: the earlier attempt committed.
                self.unexpected(f"complete {answer.status_code} {answer.text}")
                return False
            return True

    def unexpected(self, what: str) -> None:
        with self.acks.lock:
            self.acks.unexpected.append(f"{self.worker_id}: {what}")


def run_workers(
    urls: list[str], tuning_job: str, count: int
) -> tuple[Acks, threading.Event, list[AckingWorker]]:
    acks = Acks()
    stop = threading.Event()
    workers = [AckingWorker(urls, tuning_job, f"w{i}", acks, stop) for i in range(count)]
    for worker in workers:
        worker.start()
    return acks, stop, workers


def stop_workers(stop: threading.Event, workers: list[AckingWorker]) -> None:
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
        assert not worker.is_alive(), f"{worker.name} hangs"


def assert_nothing_lost(database_url: str, url: str, account: str, name: str, acks: Acks) -> None:
    assert acks.unexpected == []
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            jobs = conn.execute(
                text(
                    "SELECT t.name, t.status, t.retryable, t.ended_at, t.final_metrics"
                    " FROM training_jobs t WHERE t.account_id = :a AND t.tuning_job_name = :n"
                ),
                {"a": account, "n": name},
            ).all()
            stored = set(
                conn.execute(
                    text(
                        "SELECT t.name, m.step, m.value FROM metrics m"
                        " JOIN training_jobs t ON t.id = m.training_job_id"
                        " WHERE t.account_id = :a"
                    ),
                    {"a": account},
                ).all()
            )
            created = conn.execute(
                text("SELECT created_count FROM tuning_jobs WHERE account_id = :a"),
                {"a": account},
            ).scalar_one()
    finally:
        engine.dispose()

    missing = [m for m in acks.metrics if m not in stored]
    assert missing == [], f"{len(missing)} acknowledged metric reports were lost"
    status = {row.name: row.status for row in jobs}
    assert [n for n in acks.completed if status.get(n) != "Completed"] == []
    assert set(acks.claimed) <= set(status)
    # Nothing half-written: an ended job has its end time and, if completed, its final metrics.
    for row in jobs:
        if row.status == "Completed":
            assert row.ended_at is not None and row.final_metrics is not None, row.name
    # The counters agree with the rows, and the job numbering has no hole and no twin.
    assert created == len(jobs) == len(status)
    counters = describe_tuning_job(url, name)["TrainingJobStatusCounters"]
    expected = dict.fromkeys(counters, 0)
    for row in jobs:
        if row.status == "Failed":
            expected["RetryableError" if row.retryable else "NonRetryableError"] += 1
        else:
            expected[STATUS_COUNTER[row.status]] += 1
    assert counters == expected
