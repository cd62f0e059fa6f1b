"""What every strategy sees and returns.

A strategy is a pure function of (search space, history, job seed, training-job index): the app
owns persistence and concurrency, so the same inputs must always give the same suggestion and
a retried or replayed creation never yields a different config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast, runtime_checkable

from amtune.engine.spaces import Config, SearchSpace

__all__ = [
    "Config",
    "History",
    "ScoresSuggestions",
    "Strategy",
    "Suggestion",
    "Trial",
    "suggest_scored",
    "used_ranks",
]


@dataclass(frozen=True)
class Trial:
    """An ended training job."""

    config: Config
    objective: float | None
    """Value to MINIMISE (the app negates Maximize objectives); None = failed / no objective."""
    curve: tuple[tuple[float, float], ...] = ()
    """The objective as the job reported it along the way: ``(step, value to MINIMISE)`` pairs
    in step order (steps are epochs or any resource used so far). Empty when the job reported no
    step. ``objective`` stays the job's final value; multi-fidelity strategies read the curve."""


@dataclass(frozen=True)
class History:
    """Everything a tuning job has launched so far."""

    finished: tuple[Trial, ...] = ()
    """Ended training jobs, in creation order."""
    pending: tuple[Config, ...] = ()
    """Training jobs in progress (claimed, not ended)."""
    pending_curves: tuple[tuple[tuple[float, float], ...], ...] = ()
    """The curves reported so far by the pending jobs, parallel to ``pending`` (same shape as
    :attr:`Trial.curve`). Empty (the default) when the caller has none; a strategy must then
    treat every pending job as having reported nothing."""

    transfer: tuple[tuple[Trial, ...], ...] = ()
    """Observations of *related* functions (TransferLearning warm-start parents), one group per
    parent. A model may learn the shape of the function from them, but each group's objective
    is on its own scale and must be rescaled on its own; strategies without a model ignore them.
    Observations of the *same* function (IdenticalDataAndAlgorithm parents) are not here: the
    app hands those over as ``finished`` trials, ahead of the job's own."""

    def pending_curve(self, i: int) -> tuple[tuple[float, float], ...]:
        """The curve of ``pending[i]``; empty when ``pending_curves`` does not cover it."""
        return self.pending_curves[i] if i < len(self.pending_curves) else ()

    def configs(self) -> tuple[Config, ...]:
        """Every config already used: finished first, then pending, then the transfer parents'.

        A warm child never evaluates a parent's configuration again, whichever kind of warm
        start it is (``amtune.app.warm_start``), so the parents' configurations count as used."""
        related = tuple(t.config for group in self.transfer for t in group)
        return tuple(t.config for t in self.finished) + self.pending + related


class Strategy(Protocol):
    """A search strategy (``Random``, ``Grid``, ``Bayesian`` ...)."""

    def suggest(
        self, space: SearchSpace, history: History, *, seed: int, index: int
    ) -> Config | None:
        """The config for training job number ``index`` (0-based) of a job seeded with ``seed``.

        Deterministic for (space, history, seed, index). ``None`` means nothing is left to
        suggest (grid or discrete space exhausted)."""
        ...

    def needs_history(self, space: SearchSpace) -> bool:
        """Whether ``suggest`` reads the history for this space at all.

        The service skips loading a big tuning job's history when the answer is no.
        """
        ...


@dataclass(frozen=True)
class Suggestion:
    """A suggested config and what the strategy's model expects of it."""

    config: Config | None
    expected_improvement: float | None = None
    """The model's expected improvement of this config over the best observation, as a
    fraction of the objective's scale (see the Bayesian strategy; None: no model was used,
    e.g. an exploration step or a strategy without a model). The convergence rule of the
    completion criteria (``amtune.app.completion``) reads it."""


@runtime_checkable
class ScoresSuggestions(Protocol):
    """A strategy that can say how much its model expects a suggestion to improve."""

    def suggest_scored(
        self, space: SearchSpace, history: History, *, seed: int, index: int
    ) -> Suggestion: ...


def suggest_scored(
    strategy: Strategy, space: SearchSpace, history: History, *, seed: int, index: int
) -> Suggestion:
    """``strategy.suggest`` with its expected improvement when the strategy has a model.

    Asked with ``getattr``, not ``isinstance`` against the protocol: a runtime protocol check
    walks the protocol's members on every call, and this runs on every claim."""
    scored = getattr(strategy, "suggest_scored", None)
    if scored is not None:
        return cast(Suggestion, scored(space, history, seed=seed, index=index))
    return Suggestion(strategy.suggest(space, history, seed=seed, index=index))


def used_ranks(space: SearchSpace, history: History) -> set[int]:
    """Grid positions (:meth:`SearchSpace.rank`) of every used config of a discrete space.

    Configs the space does not contain (e.g. inherited from a job with other ranges) are
    skipped: they cannot collide with anything this space can produce."""
    used: set[int] = set()
    for config in history.configs():
        try:
            used.add(space.rank(config))
        except ValueError:
            continue
    return used
