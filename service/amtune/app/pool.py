"""A pool worker's claim: the next training job of any tuning job of the team.

One fleet of workers serves many tuning jobs. The share is fair: the tuning job with the
fewest running training jobs goes first, then the oldest; a worker may restrict itself to
tuning jobs whose every definition's TrainingImage is one it can run (``Images``). Each
candidate is claimed through :func:`amtune.app.claims.claim`, so every rule of a single
tuning job's claim holds as it is: MaxParallelTrainingJobs, the budget, retries waiting for a
worker, the strategy's own waits. The team's quotas bound what its tuning jobs may ask for at
Create; the pool only ever sees the caller's team.

Concurrent pool claims would all read the same counts and pile onto the same tuning job. So
within a process, the choice is made under a lock per team, from a fresh read plus the claims
of this process still in flight (chosen, not yet committed): the lock covers one query, never
a claim (a Bayesian claim may fit a Gaussian process). Replicas choose independently; every
limit still holds, only the share between replicas' simultaneous claims is approximate.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from amtune.app import claims
from amtune.app.claims import Claim, Wait
from amtune.app.context import Caller, Context
from amtune.app.definitions import definitions_of
from amtune.app.errors import Conflict, ResourceNotFound, ValidationError
from amtune.store import pool as pool_queries
from amtune.store.pool import PoolCandidate

MAX_IMAGES = 50
MAX_IMAGE_LENGTH = 255
#: Seconds a pool worker waits when no tuning job of its team has work.
IDLE_RETRY_AFTER = 2


@dataclass(frozen=True)
class PoolClaim:
    tuning_job_name: str
    claim: Claim

    def render(self) -> dict[str, Any]:
        return {**self.claim.render(), "TuningJobName": self.tuning_job_name}


def parse_images(images: Any) -> frozenset[str] | None:
    if images is None:
        return None
    if not isinstance(images, list) or not 1 <= len(images) <= MAX_IMAGES:
        raise ValidationError(
            f"Value '{images}' at 'images' failed to satisfy constraint: "
            f"Member must be a list of 1 to {MAX_IMAGES} image names"
        )
    for index, image in enumerate(images, start=1):
        if not isinstance(image, str) or not 1 <= len(image) <= MAX_IMAGE_LENGTH:
            raise ValidationError(
                f"Value '{image}' at 'images.{index}.member' failed to satisfy constraint: "
                f"Member must be a string of 1 to {MAX_IMAGE_LENGTH} characters"
            )
    return frozenset(images)


def images_of(request: dict[str, Any]) -> frozenset[str]:
    """The TrainingImages a tuning job's training jobs run (AlgorithmName ones have none)."""
    return frozenset(
        image
        for definition in definitions_of(request)
        if (image := (definition.body.get("AlgorithmSpecification") or {}).get("TrainingImage"))
    )


def serving_order(
    candidates: Sequence[PoolCandidate], images: frozenset[str] | None
) -> list[PoolCandidate]:
    """Fewest running first, then the oldest; full ones and other images left out."""
    eligible = [
        c
        for c in candidates
        if c.running < c.max_parallel
        and (images is None or (bool(images_of(c.request)) and images_of(c.request) <= images))
    ]
    return sorted(eligible, key=lambda c: (c.running, c.created_at, c.name))


class _InFlight:
    """Pool claims of this process chosen but not yet committed, per (team, tuning job)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._teams: dict[str, threading.RLock] = {}
        self._counts: Counter[tuple[str, str]] = Counter()

    def team_lock(self, account_id: str) -> threading.RLock:
        with self._guard:
            return self._teams.setdefault(account_id, threading.RLock())

    def snapshot(self, account_id: str) -> dict[str, int]:
        """The team's claims in flight now, by tuning job."""
        with self._guard:
            return {name: n for (account, name), n in self._counts.items() if account == account_id}

    def add(self, account_id: str, name: str) -> None:
        with self._guard:
            self._counts[(account_id, name)] += 1

    @contextmanager
    def holding(self, account_id: str, name: str) -> Iterator[None]:
        """Until the claim has committed (or failed), it counts as running for the choice."""
        try:
            yield
        finally:
            with self._guard:
                self._counts[(account_id, name)] -= 1
                if self._counts[(account_id, name)] <= 0:
                    del self._counts[(account_id, name)]


_IN_FLIGHT = _InFlight()


def _choose(
    ctx: Context, caller: Caller, wanted: frozenset[str] | None, tried: set[str]
) -> str | None:
    """The tuning job to claim from next, already counted in flight; None when none is left."""
    account = caller.account_id
    with _IN_FLIGHT.team_lock(account):
        # Taken before the read: a claim that commits between the two is then counted twice
        # (once read, once in flight), never missed, so concurrent claims never pile up.
        in_flight = _IN_FLIGHT.snapshot(account)
        found = ctx.run(
            lambda session: pool_queries.candidates(
                session, account, with_request=wanted is not None
            ),
            readonly=True,
        )
        fresh = [
            replace(c, running=c.running + in_flight.get(c.name, 0))
            for c in found
            if c.name not in tried
        ]
        order = serving_order(fresh, wanted)
        if not order:
            return None
        _IN_FLIGHT.add(account, order[0].name)
        return order[0].name


def claim_any(ctx: Context, caller: Caller, worker_id: Any, images: Any = None) -> PoolClaim | Wait:
    claims.check_worker_id(worker_id)
    wanted = parse_images(images)
    tried: set[str] = set()
    # A team's pool claims take turns within a process, choice and claim together, so each
    # choice sees every earlier claim of this process committed (a reentrant lock: ``_choose``
    # takes it too). Concurrent choices read stale counts and piled claims on one job.
    with _IN_FLIGHT.team_lock(caller.account_id):
        while (name := _choose(ctx, caller, wanted, tried)) is not None:
            tried.add(name)
            with _IN_FLIGHT.holding(caller.account_id, name):
                try:
                    outcome = claims.claim(ctx, caller, name, worker_id)
                except (Conflict, ResourceNotFound):
                    continue  # ended or deleted since the read: the next one
            if isinstance(outcome, Claim):
                return PoolClaim(name, outcome)
    return Wait(IDLE_RETRY_AFTER, "no tuning job of the team has a training job to start now")
