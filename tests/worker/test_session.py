"""Heartbeats and metric batching for a claimed job, against a scripted worker protocol.

The service side is a small in-memory stand-in for the /v1 worker endpoints (an HTTP transport,
not a database): it records what arrives and answers as the contract says.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from amtune.sdk.protocol import Claim, Metric, WorkerProtocol
from amtune.sdk.session import JobSession


class FakeEndpoints:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.metric_batches: list[list[dict[str, Any]]] = []
        self.heartbeats = 0
        self.down = False
        self.stop = False
        self.gone = False
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            if self.down:
                raise httpx.ConnectError("connection refused")
            body = json.loads(request.content or b"{}")
            self.bodies.append(body)
            if self.gone:
                return httpx.Response(
                    409, json={"__type": "TrainingJobNotInProgress", "message": "drop it"}
                )
            if request.url.path.endswith("/metrics"):
                self.metric_batches.append(body["Metrics"])
                return httpx.Response(200, json={"StopRequested": self.stop})
            if request.url.path.endswith("/heartbeat"):
                self.heartbeats += 1
                return httpx.Response(200, json={"StopRequested": self.stop, "LeaseExpiresAt": 1})
            return httpx.Response(200, json={"TrainingJobStatus": "Completed"})

    def sent(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m for batch in self.metric_batches for m in batch]


def session(fake: FakeEndpoints, heartbeat: float = 3600, **kwargs: Any) -> JobSession:
    protocol = WorkerProtocol("http://amtune.test", transport=httpx.MockTransport(fake))
    claim = Claim("tj-001-00000000", "arn", {}, None, heartbeat, worker_id="w1", lease_token="t1")
    return JobSession(protocol, claim, **kwargs)


def eventually(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


def test_metrics_go_out_in_batches_while_the_job_runs() -> None:
    fake = FakeEndpoints()
    s = session(fake, flush_interval=0.05, max_batch=50)
    s.start()
    for i in range(500):
        s.add_metric(Metric("loss", float(i), step=i))
    # Sent while the job is still running, long before any heartbeat is due.
    assert eventually(lambda: len(fake.sent()) == 500)
    s.close()
    assert len(fake.metric_batches) < 500 / 10  # batched, not one request per value
    assert [m["Value"] for m in fake.sent()] == [float(i) for i in range(500)]
    assert all(len(batch) <= 50 for batch in fake.metric_batches)
    assert all(body.get("LeaseToken") == "t1" for body in fake.bodies)


def test_a_single_value_is_sent_without_waiting_for_a_heartbeat() -> None:
    fake = FakeEndpoints()
    s = session(fake, heartbeat=3600, flush_interval=0.05)
    s.start()
    time.sleep(0.1)  # the loop is asleep until the (distant) heartbeat
    s.add_metric(Metric("acc", 0.5))
    assert eventually(lambda: len(fake.sent()) == 1)
    s.close()


def test_close_flushes_what_is_left() -> None:
    fake = FakeEndpoints()
    s = session(fake, flush_interval=3600)
    s.start()
    s.add_metric(Metric("acc", 0.9))
    s.close()
    assert [m["Value"] for m in fake.sent()] == [0.9]
    assert [m.value for m in s.final_metrics()] == [0.9]


def test_heartbeats_carry_the_stop_request() -> None:
    fake = FakeEndpoints()
    fake.stop = True
    stopped = threading.Event()
    s = session(fake, heartbeat=0.2, on_stop=stopped.set)
    s.start()
    assert stopped.wait(10)
    assert s.stop_requested and fake.heartbeats >= 1
    s.close()


def test_an_outage_keeps_the_metrics_and_sends_them_later() -> None:
    fake = FakeEndpoints()
    fake.down = True
    s = session(fake, heartbeat=0.2, flush_interval=0.05)
    s.start()
    for i in range(5):
        s.add_metric(Metric("loss", float(i)))
    time.sleep(0.3)  # let a few attempts fail
    assert fake.sent() == []
    fake.down = False
    assert eventually(lambda: len(fake.sent()) == 5)
    s.close()
    assert [m["Value"] for m in fake.sent()] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_409_means_lease_lost_and_nothing_more_is_sent() -> None:
    fake = FakeEndpoints()
    fake.gone = True
    lost = threading.Event()
    s = session(fake, heartbeat=0.1, on_lease_lost=lost.set)
    s.start()
    assert lost.wait(10)
    assert s.lease_lost
    requests_before = len(fake.bodies)
    s.add_metric(Metric("loss", 1.0))  # no exception, no request
    s.close()
    assert len(fake.bodies) == requests_before


def test_non_finite_values_are_refused_at_once() -> None:
    s = session(FakeEndpoints())
    for bad in (float("nan"), float("inf")):
        try:
            s.add_metric(Metric("loss", bad))
        except ValueError:
            continue
        raise AssertionError("accepted a non-finite value")
