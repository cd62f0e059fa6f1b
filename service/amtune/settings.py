"""Settings from the environment (``AMTUNE_*``), read once and passed down explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The server key a fresh checkout runs with. Fine for signing paging tokens on a laptop; not
#: for encrypting access-key secrets, so amtune refuses to create keys while it is in force.
DEVELOPMENT_SECRET_KEY = "amtune-development-key"


class Settings(BaseSettings):
    """One object, injected; nothing deeper in the code reads ``os.environ``."""

    model_config = SettingsConfigDict(env_prefix="AMTUNE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./amtune.db",
        description="SQLAlchemy URL: sqlite:///file.db or postgresql+psycopg://user@host/db",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="serving processes of `amtune serve`, sharing its port (`--workers`)",
    )
    region: str = "us-east-1"
    account_id: str = Field(default="123456789012", pattern=r"^\d{12}$")
    lease_seconds: float = Field(default=60.0, gt=0)
    max_parallel_training_jobs: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Default MaxParallelTrainingJobs quota of a team that has not set its own.",
    )
    max_concurrent_tuning_jobs: int = Field(
        default=100,
        ge=1,
        description="Default quota of live tuning jobs of a team that has not set its own.",
    )
    secret_key: str = Field(
        default=DEVELOPMENT_SECRET_KEY,
        description=(
            "Signs pagination tokens and encrypts access-key secrets at rest; the same value on "
            "every replica. Changing it makes every stored access key unusable."
        ),
    )
    sweep_interval_seconds: float | None = Field(
        default=None,
        gt=0,
        description="How often the lease reaper runs; default a quarter of the lease, 0.25-5 s.",
    )
    request_threads: int = Field(
        # On 2 cores, 4 per process gave the lowest p99 under bench/load (3, 4, 6, 8, 12, 24
        # tried): more threads fight over the GIL while they hold row locks.
        default=4,
        ge=1,
        le=256,
        description=(
            "threads per process running the worker routes, and as many for the other routes"
        ),
    )
    max_metric_points_per_job: int = Field(
        default=100_000,
        ge=1,
        description=(
            "Metric points one training job may store; a report past it answers "
            "ResourceLimitExceeded and stores nothing."
        ),
    )
    db_statement_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description=(
            "PostgreSQL statement_timeout; a statement still running a second later (a frozen "
            "database) has its connection cut. Either way the request answers 503."
        ),
    )
    db_lock_timeout_seconds: float = Field(
        default=2.0, gt=0, description="PostgreSQL lock_timeout: the longest wait for a row lock."
    )
    db_pool_timeout_seconds: float = Field(
        default=3.0, gt=0, description="The longest wait for a free pooled connection."
    )
    ssl_certfile: Path | None = Field(
        default=None,
        description="PEM certificate (chain) to serve HTTPS with; needs ssl_keyfile too.",
    )
    ssl_keyfile: Path | None = Field(default=None, description="PEM private key of ssl_certfile.")
    body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A request body must have arrived this long after its headers (else 408).",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "A request's headers must have arrived this long after its connection opened or "
            "its first byte (else 408 and the connection is closed; amtune serve only)."
        ),
    )
    max_pending_bodies: int = Field(
        default=256,
        ge=1,
        description=(
            "Request bodies being received at once per process; more answer 503 at once, and "
            "requests without a body (/healthz) never wait behind them."
        ),
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Open connections per process (uvicorn's limit_concurrency); more get 503.",
    )
    keep_alive_seconds: int = Field(
        # Longer than clients idle between calls, so a reused connection is rarely cut.
        default=75,
        ge=1,
        description="An idle kept-alive connection is closed after this long.",
    )
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: one readable line per event; json: one JSON object per line.",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, url: str) -> str:
        """Let users write the URL their other tools use; we always talk psycopg 3."""
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @property
    def sweep_interval(self) -> float:
        if self.sweep_interval_seconds is not None:
            return self.sweep_interval_seconds
        return min(5.0, max(0.25, self.lease_seconds / 4))

    @property
    def heartbeat_interval_seconds(self) -> int:
        """Three heartbeats fit in a lease, so one lost request never costs a job."""
        return max(1, int(self.lease_seconds // 3))

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url.removeprefix(prefix))
        return None
