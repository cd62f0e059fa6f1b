"""Tables. Timestamps are epoch seconds (double precision): the API speaks epoch seconds and
no time zone of the server, client or database can shift them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class TuningJobRow(Base):
    __tablename__ = "tuning_jobs"
    __table_args__ = (
        # AMT names are unique per account case-insensitively: the key is the lower-cased name.
        UniqueConstraint("account_id", "name_key", name="uq_tuning_jobs_account_name"),
        Index("ix_tuning_jobs_account_created", "account_id", "created_at"),
        Index("ix_tuning_jobs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(32))
    name_key: Mapped[str] = mapped_column(String(32))
    arn: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(16))
    objective_type: Mapped[str | None] = mapped_column(String(16))
    objective_metric: Mapped[str | None] = mapped_column(String(255))
    max_jobs: Mapped[int] = mapped_column(Integer)
    max_parallel: Mapped[int] = mapped_column(Integer)
    max_runtime_seconds: Mapped[int | None] = mapped_column(Integer)
    max_retry_attempts: Mapped[int] = mapped_column(Integer, default=0)
    random_seed: Mapped[int] = mapped_column(Integer)
    # The request as stored (with service-filled defaults), echoed by Describe.
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    last_modified_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float)
    # TuningJobCompletionCriteria as given (NULL: none), read by every settle of the job.
    completion_criteria: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When the engine judged the search converged (ConvergenceDetectedTime).
    converged_at: Mapped[float | None] = mapped_column(Float)
    # The warm-start parents' observations, snapshot at creation (app/warm_start.py).
    warm_start: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)


class TrainingJobRow(Base):
    __tablename__ = "training_jobs"
    __table_args__ = (
        UniqueConstraint("account_id", "name", name="uq_training_jobs_account_name"),
        # One sequence number per tuning job: the database, not the code, forbids twins.
        UniqueConstraint("tuning_job_id", "seq", name="uq_training_jobs_tuning_seq"),
        Index("ix_training_jobs_tuning_status", "tuning_job_id", "status"),
        Index("ix_training_jobs_account_created", "account_id", "created_at"),
        # The reaper's lapsed-lease search scans the jobs in progress. The lease itself is in
        # no index, so the heartbeats and reports that move it update the row in place
        # (migration 0003).
        Index(
            "ix_training_jobs_active",
            "tuning_job_id",
            postgresql_where=text("status IN ('InProgress', 'Stopping')"),
            sqlite_where=text("status IN ('InProgress', 'Stopping')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(12))
    # Deleting a tuning job keeps its training jobs (as AMT does): the link becomes NULL and
    # the name and ARN copied here keep DescribeTrainingJob whole.
    tuning_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("tuning_jobs.id", ondelete="SET NULL")
    )
    tuning_job_name: Mapped[str] = mapped_column(String(32))
    tuning_job_arn: Mapped[str] = mapped_column(String(256))
    # The TrainingJobDefinition this job ran with (RoleArn, AlgorithmSpecification, ...).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    definition_name: Mapped[str | None] = mapped_column(String(64))
    objective_metric: Mapped[str | None] = mapped_column(String(255))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(63))
    arn: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    secondary_status: Mapped[str] = mapped_column(String(32))
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    tuned_hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    worker_id: Mapped[str | None] = mapped_column(String(256))
    # SHA-256 (hex) of the lease token the holding worker was given; never the token itself.
    lease_token_hash: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[float | None] = mapped_column(Float)
    # Metric points stored for this job, kept by the statements that store them (the cap).
    metric_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # The rule that may stop the job early ("Median", "Hyperband"; NULL: none), on the row the
    # worker path's report updates, so it knows without reading the tuning job (migration 0006).
    stopping_rule: Mapped[str | None] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    retryable: Mapped[bool | None] = mapped_column(Boolean)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    objective_value: Mapped[float | None] = mapped_column(Float)
    final_metrics: Mapped[list[Any] | None] = mapped_column(JSON)
    # [{Status, StartTime, EndTime?, StatusMessage}], as DescribeTrainingJob shows them.
    transitions: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float)
    last_modified_at: Mapped[float] = mapped_column(Float)
    # The engine's expected improvement for this job's config, as a fraction of the observed
    # range of the objective; NULL for an exploration step or a strategy without a model.
    expected_improvement: Mapped[float | None] = mapped_column(Float)


class MetricRow(Base):
    __tablename__ = "metrics"
    __table_args__ = (Index("ix_metrics_job_name", "training_job_id", "metric_name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    training_job_id: Mapped[int] = mapped_column(ForeignKey("training_jobs.id", ondelete="CASCADE"))
    metric_name: Mapped[str] = mapped_column(String(255))
    value: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[float] = mapped_column(Float)
    step: Mapped[int | None] = mapped_column(Integer)


class AccountRow(Base):
    """A team: the account its jobs belong to (the 12 digits in their ARNs) and its quotas.

    A NULL quota means "the service-wide default" (``AMTUNE_MAX_*``), so changing a default
    reaches every team that never chose its own.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("account_id", name="uq_accounts_account_id"),
        # Team names are unique case-insensitively: "ML" and "ml" would only confuse.
        UniqueConstraint("name_key", name="uq_accounts_name_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    max_concurrent_tuning_jobs: Mapped[int | None] = mapped_column(Integer)
    max_parallel_training_jobs: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)


class AccessKeyRow(Base):
    """An access key of a team. SigV4 needs the secret itself (not a hash) to recompute a
    signature, so it is stored encrypted with the server key, never in the clear."""

    __tablename__ = "access_keys"
    __table_args__ = (
        UniqueConstraint("access_key_id", name="uq_access_keys_access_key_id"),
        Index("ix_access_keys_account", "account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    access_key_id: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id", ondelete="CASCADE"))
    encrypted_secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float)
