"""The Prometheus metrics of amtune, defined once.

Labels are bounded sets (face, operation or route template, status code, strategy, job
status), never a job or account name, so the number of series stays fixed however many jobs
run. Under several server processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory
before they start: ``prometheus_client`` then keeps each process's values in files there and
``/metrics`` sums them (see docs/operations.md).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Latency buckets from a fast worker-protocol call (~1 ms) to a slow Bayesian claim (seconds).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "amtune_requests",
    "HTTP requests answered, by face (aws, rest, console, other), operation and status code.",
    ["face", "operation", "status"],
)
REQUEST_SECONDS = Histogram(
    "amtune_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by face and operation.",
    ["face", "operation"],
    buckets=LATENCY_BUCKETS,
)
CLAIMS = Counter(
    "amtune_claims",
    "Worker claims by answer: 200 (a training job), 204 (wait), 409 (tuning job ended).",
    ["status"],
)
SUGGESTION_SECONDS = Histogram(
    "amtune_suggestion_duration_seconds",
    "Time a strategy took to suggest one training job's hyperparameters.",
    ["strategy"],
    buckets=LATENCY_BUCKETS,
)
LEASES_LAPSED = Counter(
    "amtune_lease_lapses",
    "Training jobs whose worker stopped sending heartbeats before the lease ran out.",
)
RETRIES = Counter(
    "amtune_training_job_retries",
    "Failed attempts of training jobs that were started again (RetryStrategy).",
)
EARLY_STOPS = Counter(
    "amtune_early_stops",
    "Training jobs the tuner told to stop early.",
)
TRAINING_JOB_ENDINGS = Counter(
    "amtune_training_job_endings",
    "Training jobs that ended, by final status.",
    ["status"],
)
TUNING_JOB_ENDINGS = Counter(
    "amtune_tuning_job_endings",
    "Tuning jobs that ended, by final status.",
    ["status"],
)
TRANSACTION_RETRIES = Counter(
    "amtune_db_transaction_retries",
    "Transactions run again after a serialization failure, deadlock or busy SQLite.",
)
POOL_CHECKED_OUT = Gauge(
    "amtune_db_pool_connections_in_use",
    "Database connections checked out of the pools right now (summed over processes).",
    multiprocess_mode="livesum",
)
