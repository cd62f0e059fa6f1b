"""Leases: which worker may act on a training job, until when, and with how many metric points.

A claim hands the worker a random ``LeaseToken`` and stores only its SHA-256 digest, so reading
the database does not let anyone act as the worker. Heartbeats, metric reports, completions and
failures must carry the token: once a job's lease lapsed and the job was handed out again, the
new holder has a new token and the old worker's calls answer 409, whatever else they say.

:func:`held` and :func:`has_room` are the rules. The worker path's one-statement writes
(:mod:`amtune.store.guarded_writes`) restate them as WHERE clauses; a property test checks that
the two agree on generated job states.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from amtune.app.domain import ACTIVE_TRAINING
from amtune.app.errors import ResourceLimitExceeded, ValidationError
from amtune.store.models import TrainingJobRow

#: Random bytes in a token: 256 bits, unguessable.
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128


def new_token() -> tuple[str, str]:
    """A fresh token for a worker, and the digest to store."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_digest(token: Any) -> str:
    """The digest of the token a worker sent; ValidationException naming it when it is
    missing or is not a plausible token."""
    if token is None:
        raise ValidationError(
            "1 validation error detected: Value null at 'leaseToken' failed to satisfy "
            "constraint: Member must not be null"
        )
    if not isinstance(token, str) or not 1 <= len(token) <= MAX_TOKEN_LENGTH:
        raise ValidationError(
            f"1 validation error detected: Value '{token}' at 'leaseToken' failed to satisfy "
            f"constraint: Member must be a string of 1 to {MAX_TOKEN_LENGTH} characters"
        )
    return digest(token)


def held(job: TrainingJobRow, token_hash: str, now: float) -> bool:
    """The worker with this token holds the job now: it is in progress or stopping, handed
    to a worker, under this token, and its lease has not lapsed."""
    return (
        job.status in ACTIVE_TRAINING
        and job.worker_id is not None
        and job.lease_token_hash is not None
        and hmac.compare_digest(job.lease_token_hash, token_hash)
        and job.lease_expires_at is not None
        and job.lease_expires_at >= now
    )


def has_room(job: TrainingJobRow, points: int, max_points: int) -> bool:
    """The job may store ``points`` more metric points under the cap of ``max_points``
    (a report of none, a sign of life only, always may)."""
    return points == 0 or job.metric_count + points <= max_points


def check_room(job: TrainingJobRow, points: int, max_points: int) -> None:
    if not has_room(job, points, max_points):
        raise ResourceLimitExceeded(
            f"Training job {job.name} has {job.metric_count} metric points stored; "
            f"{points} more would pass the limit of {max_points} per training job "
            "(AMTUNE_MAX_METRIC_POINTS_PER_JOB). Report fewer points, or only the final "
            "metrics when completing."
        )
