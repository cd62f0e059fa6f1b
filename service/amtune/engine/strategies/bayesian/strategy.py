"""BayesianStrategy: GP + log-EI suggestions for AMT's ``Strategy=Bayesian``.

One suggestion, start to finish (all pure, deterministic for ``(space, history, seed, index)``):

1. Fewer than ``initial_design_size(dim)`` finished trials with an objective: a Sobol point
   (:mod:`.design`).
2. Otherwise encode finished trials (:mod:`.encoding`), warp their objectives
   (:mod:`.transforms`; failed trials get the worst warped value), fit MAP hyperparameters
   (:mod:`.gp`) on at most ``MAX_FIT`` trials and condition on at most ``MAX_MODEL``.
3. Pending trials (running on other workers) are added as *kriging believers* (:mod:`.batch`):
   the GP treats them as observed at their predicted mean and the EI incumbent includes those
   beliefs, so their neighbourhood loses its expected improvement.
4. Maximise log-EI (:mod:`.optimize`) and return the best candidate whose config is neither
   finished nor pending; ``None`` only when a discrete space has no unused config left.
   Improvement is measured from the best observed value (or believed value, under pending
   jobs). If EI's best candidate is predicted worse than the median finished trial (its EI is
   variance alone, :func:`ei_buys_only_variance`), only candidates that the mean rates no worse
   than that median, or that change a categorical value of the incumbent, may win the claim
   (:func:`follows_the_mean`), and the search is first redone with improvement measured from
   the lowest posterior mean at a finished or pending trial (:func:`plug_in_incumbent`; why:
   below).
5. Any numerical failure (Cholesky even with jitter, non-finite values, an optimiser error)
   is logged at WARNING and answered with the exploration step of (1), never an exception.

Why variance-only claims are redone. When the fit explains much of the targets as noise, the
posterior mean is flat and no point is predicted to beat the luckiest observation; EI measured
from that value is then earned by variance alone, which sits at the corners of the cube (on
Ackley-5's outer plateau whole runs never left the corners). Measuring improvement from the
lowest posterior mean at a finished trial (the plug-in incumbent of noisy Bayesian optimisation)
follows the mean's trend instead. In the low-noise regime the plug-in incumbent lies only a hair
below the best observation and a corner can still win, so the redone search admits only
candidates the mean rates no worse than the median finished trial. Candidates that change a
categorical value of the incumbent are exempt, or mixed spaces stay on an offset category.

Under pending trials the check matters more: the kriging believers collapse the variance around
every pending point, so EI left over elsewhere is mostly variance, whose maximum is on the bounds
and corners of the cube. Without the check, 8 workers claiming one at a time on a 4-D bowl whose
minimum is inside the box put 25 % of their claims on a bound (one worker: 11 %); with it, 9 %.
The redone search keeps the believers in the posterior and counts their believed values in the
plug-in incumbent (:func:`plug_in_incumbent` says why), so it still spreads the workers. Claims
made under pending jobs need the redo as much as any: without it, 8 workers claiming one at a
time on Ackley-5 chase variance and end several points below the same workers asking in batches
(``bench/RESULTS.md``).

Known trap: when nearly all the signal is explained as noise and the trials cluster in a box on a
bound, the median fitted mean is the box's own level and the filter keeps the search in it
(``bench/RESULTS.md`` lists the guard that was measured against this and why it was not kept).

Variants that were measured and not kept (a pessimistic prior mean, Optuna-style priors,
hyperparameters integrated out by slice sampling, a trust region from the start and one once the
search stalls, exploiting turns, an LCB on variance-only claims) are listed with their figures
in ``bench/RESULTS.md``, "Tried and not kept".
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies.base import History, Suggestion, Trial, used_ranks

from .batch import condition_on_pending
from .design import exploration_step
from .encoding import Encoder
from .gp import ModelError, Posterior, fit_hyper
from .kernel import FloatArray
from .optimize import N_CENTRES, Acquisition, candidates
from .threads import single_threaded_blas
from .transforms import warp_targets

IntArray = NDArray[np.intp]

logger = logging.getLogger(__name__)

MAX_FIT = 150
"""Hyperparameters are fitted on at most this many trials (cost O(n^3) per iteration)."""
MAX_MODEL = 400
"""The posterior conditions on at most this many trials; beyond, a subsample (below)."""
MAX_ENUMERATE = 8192
"""Fully discrete spaces up to this size are scored exhaustively instead of searched."""


def initial_design_size(dim: int) -> int:
    """Quasi-random trials before the GP takes over: ``min(10, max(5, dim + 2))``, i.e. 5 in
    1-3 dims, up to 10 in 8+ dims (between pip-HEBO's ``1 + dim`` and Optuna's 10; the priors
    keep a GP on 5 points sane). Counted in finished trials with an objective, so a batch of 8
    parallel workers gets 8 Sobol points first and failures do not shorten the design.

    A wider ``min(16, max(5, 2 * dim + 2))`` was measured (batch 1, seeds 0-9): Hartmann-6 fell
    into its -3.20 local optimum on 2 seeds instead of 4, but SVM_wine_nll lost about 3 points
    (mean best 0.6168 instead of 0.6154), so the narrower design stays."""
    return int(min(10, max(5, dim + 2)))


def transfer_horizon(dim: int) -> int:
    """Own observations after which TransferLearning parents no longer inform the model:
    ``initial_design_size(dim)``.

    A parent's values, warped on their own, tell the GP where the related function was good,
    and lead the child's first suggestions there instead of to a quasi-random design. Kept
    beyond that, they contradict the child's own values wherever the functions differ: on
    Branin shifted by 5 % of its ranges the parents' optimum sits beside the child's, the GP
    explains the clash as noise, and the transfer child ended 20 jobs worse than a cold one on
    every seed (bench/WARM_START.md). Once the child has as many observations as a cold job's
    initial design, its own data model its own function, within :data:`TRANSFER_TRUST_RADIUS`
    of its best trial."""
    return initial_design_size(dim)


TRANSFER_TRUST_RADIUS = 0.05
"""Half-width, in the unit cube, of the box around its best own trial within which a
TransferLearning child claims once its parents have left the model (numeric coordinates;
categoricals are free).

Why. The parents led the child's first trials to where the related function was good, so its
own observations sit in one basin. A GP fitted on such a cluster takes the basin's short
lengthscales, its variance returns to the prior a short way off, and expected improvement sends
the child to far corners that a cold job's spread design had already shown to be bad. Holding
the claims near the child's best trial spends those jobs on refining instead; the box moves with
the best trial. The cost: the box holds for the whole job, so a child whose parents' basin lies
on a bound of the cube (the related optimum moved outside it) stays there. The radius, the
measurements on long children and the bounded boxes that were not kept are on
``bench/WARM_START.md``."""


def ei_buys_only_variance(
    posterior: Posterior,
    encoder: Encoder,
    u: FloatArray,
    scores: FloatArray,
    fitted: FloatArray,
) -> bool:
    """Whether EI's best candidate is predicted worse than the median finished trial.

    EI measured from the best observation rewards a point either for a mean below that value or
    for variance. When the fit explains much of the targets as noise (Ackley's outer plateau,
    cross-validated losses), the mean is flat, no point is predicted to beat the luckiest
    observation, and the winner is a point of large variance and middling mean: in practice a
    corner of the cube. Such a claim is better spent following the mean's trend (module
    docstring, "Variance-only picks")."""
    if len(u) == 0:
        return False
    pick = u[int(np.argmax(np.nan_to_num(scores, nan=-np.inf)))]
    pick_mean = posterior.mean(encoder.features(pick[None, :]))
    return float(pick_mean[0]) > float(np.median(fitted))


def plug_in_incumbent(fitted: FloatArray, believed: FloatArray) -> float:
    """The bar a variance-only claim's search is redone from: the lowest posterior mean at a
    finished trial or at a pending one (whose believed value is its posterior mean).

    Counting the pending trials matters to parallel workers: a pending job claimed where the
    mean is lowest already stands for that spot, so measured from its believed value the redone
    search rates its neighbourhood, where the believers have taken the variance away, at nearly
    nothing and sends the next worker to the next-best place on the mean's trend. Measured from
    the finished trials alone, the workers of one batch gather on one spot (module docstring)."""
    return float(np.min(np.concatenate([fitted, believed])))


def follows_the_mean(
    posterior: Posterior,
    encoder: Encoder,
    u: FloatArray,
    fitted: FloatArray,
    incumbent: FloatArray,
) -> NDArray[np.bool_]:
    """Which candidates a variance-only claim may take: those predicted no worse than the
    median finished trial, and any whose categorical values differ from the incumbent's.

    Redoing the search from the plug-in incumbent is not enough on its own: when the fit's
    noise is low, that incumbent sits a hair below the best observation and a far corner, its
    mean at the prior and its variance at the prior's, still wins EI (Ackley-5 at 60-128 trials:
    about half the claims went to corners of the cube at a loss of 21). Holding the claim to
    candidates the mean itself rates keeps it on the trend the check wants followed. Another
    categorical value is exempt: the mean cannot rate a category it has seen little of, and
    switching one is how the mixed problems escape an offset category (module docstring)."""
    if len(u) == 0:
        return np.zeros(0, dtype=bool)
    features = encoder.features(u)
    allowed = posterior.mean(features) <= float(np.median(fitted))
    n_numeric = len(encoder.numeric)
    incumbent_categories = encoder.features(incumbent[None, :])[:, n_numeric:]
    other_category = np.any(features[:, n_numeric:] != incumbent_categories, axis=1)
    return np.asarray(allowed | other_category)


def near_the_best(encoder: Encoder, u: FloatArray, best: FloatArray) -> NDArray[np.bool_]:
    """Which candidates lie within :data:`TRANSFER_TRUST_RADIUS` of the best trial in every
    numeric coordinate of the unit cube."""
    num = encoder.numeric
    if not num:
        return np.ones(len(u), dtype=bool)
    gap = np.abs(u[:, num] - best[num])
    return np.asarray(np.all(gap <= TRANSFER_TRUST_RADIUS, axis=1))


def _subsample(objectives: FloatArray, cap: int, rng: np.random.Generator) -> IntArray:
    """Indices of at most ``cap`` trials: the best third, the most recent sixth, random rest.

    The best trials shape the region EI cares about; recent ones keep the model current for
    the running search; a uniform rest keeps the global picture."""
    n = len(objectives)
    if n <= cap:
        return np.arange(n, dtype=np.intp)
    score = np.where(np.isfinite(objectives), objectives, np.inf)
    best = np.argsort(score, kind="stable")[: cap // 3]
    keep = set(best.tolist())
    keep.update(range(n - cap // 6, n))
    rest = np.array([i for i in range(n) if i not in keep])
    extra = rng.choice(rest, size=cap - len(keep), replace=False)
    keep.update(extra.tolist())
    return np.array(sorted(keep), dtype=np.intp)


class BayesianStrategy:
    """Gaussian-process Bayesian optimisation (see the module docstring)."""

    def needs_history(self, space: SearchSpace) -> bool:
        return True

    def suggest(
        self, space: SearchSpace, history: History, *, seed: int, index: int
    ) -> Config | None:
        return self.suggest_scored(space, history, seed=seed, index=index).config

    def suggest_scored(
        self, space: SearchSpace, history: History, *, seed: int, index: int
    ) -> Suggestion:
        """The suggestion and, when the GP chose it, its expected improvement (see
        :func:`relative_expected_improvement`).

        Warm start: ``history.finished`` may begin with a parent's trials (the same function);
        ``history.transfer`` holds related functions' trials, each group warped on its own
        (:func:`_targets`). Neither is suggested again, and both count toward the initial
        design, so a warm child starts from the model. Transfer groups inform the model until
        :func:`transfer_horizon`; from then on the child claims within
        :data:`TRANSFER_TRUST_RADIUS` of its best own trial."""
        seed = int(seed) % (2**63)
        index = int(index)
        encoder = Encoder(space)
        related = [t for group in history.transfer for t in group]
        used = {encoder.key(c) for c in history.configs()}
        card = space.cardinality()
        if card is not None and len(used_ranks(space, history)) >= card:
            return Suggestion(None)
        n_ok = sum(
            1
            for t in (*history.finished, *related)
            if t.objective is not None and np.isfinite(t.objective)
        )
        if n_ok < initial_design_size(space.dim) or encoder.n_features == 0:
            return Suggestion(exploration_step(space, used, seed=seed, index=index))
        own_ok = sum(
            1 for t in history.finished if t.objective is not None and np.isfinite(t.objective)
        )
        local = bool(history.transfer) and own_ok >= transfer_horizon(space.dim)
        if local:
            # The job knows its own function well enough now: the parents' configs stay in
            # `used`, their values leave the model, and the claims stay near the job's best
            # trial (see transfer_horizon and TRANSFER_TRUST_RADIUS).
            history = History(finished=history.finished, pending=history.pending)
        try:
            with np.errstate(all="ignore"), single_threaded_blas():
                return self._model_step(
                    space, encoder, history, used, seed=seed, index=index, local=local
                )
        except (ModelError, np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
            logger.warning(
                "Bayesian model step failed (%s: %s); falling back to a quasi-random "
                "exploration step (seed=%d, index=%d)",
                type(exc).__name__,
                exc,
                seed,
                index,
            )
            return Suggestion(exploration_step(space, used, seed=seed, index=index))

    def _model_step(
        self,
        space: SearchSpace,
        encoder: Encoder,
        history: History,
        used: set[tuple[str, ...]],
        *,
        seed: int,
        index: int,
        local: bool = False,
    ) -> Suggestion:
        rng = np.random.default_rng([seed, index, len(history.finished)])
        u_obs, y, ok, fit_idx, scale = _targets(encoder, history, rng)
        x = encoder.features(u_obs)
        hyper = fit_hyper(x[fit_idx], y[fit_idx], rng)
        posterior = Posterior(x, y, hyper)
        best = float(np.min(y[ok]))
        observed_best = best
        posterior, best, believed = condition_on_pending(posterior, encoder, history.pending, best)
        centres = u_obs[ok][np.argsort(y[ok], kind="stable")[:N_CENTRES]]
        grid = _unused_grid(space, encoder, history)

        def search(bar: float) -> tuple[FloatArray, FloatArray]:
            """Candidates and their log-EI measured from ``bar``: the whole unused grid of a
            small discrete space, else quasi-random points refined around ``centres``."""
            acq = Acquisition(encoder, posterior, bar)
            return (grid, acq(grid)) if grid is not None else candidates(acq, centres, rng)

        u, scores = search(best)
        fitted = posterior.mean(x[ok])
        if ei_buys_only_variance(posterior, encoder, u, scores, fitted):
            u, scores = search(plug_in_incumbent(fitted, believed))
            allowed = follows_the_mean(posterior, encoder, u, fitted, centres[0])
            if allowed.any():
                scores = np.where(allowed, scores, -np.inf)
        if local:
            near = near_the_best(encoder, u, centres[0])
            if near.any():
                scores = np.where(near, scores, -np.inf)
        config = _best_unused(space, encoder, u, scores, used)
        if config is None or scale is None:
            return Suggestion(config)
        pick = Acquisition(encoder, posterior, observed_best)(space.to_unit(config)[None, :])
        return Suggestion(config, relative_expected_improvement(float(pick[0]), scale))


def relative_expected_improvement(log_ei: float, scale: float) -> float | None:
    """The expected improvement of the suggested config over the best observation, as a
    fraction of the objective's scale (:func:`_range_in_target_units`; both in target units).

    Measured from the best observation (whatever bar picked the config), so it says what the
    model itself still hopes the pick will gain; the completion criteria's convergence rule
    (``amtune.app.completion``) reads a run of these."""
    if not np.isfinite(log_ei) or not scale > 0.0:
        return None
    return float(np.exp(log_ei) / scale)


FLOOR_OF_RANGE = 0.1
"""The convergence yardstick is at least this fraction of the whole observed range."""


def _range_in_target_units(raw: FloatArray, warped: FloatArray) -> float | None:
    """The yardstick of "a small fraction" for the convergence rule, in target units: the
    spread of the job's better half of observations (best to median), but at least
    :data:`FLOOR_OF_RANGE` of the whole observed range.

    The whole range alone is too coarse where bad corners dwarf the basin (Branin spans 0.4 to
    300): measured on 100-job runs, seeds 0-9 (bench/WARM_START.md), it stopped Branin after 14
    jobs at a regret cost of 0.44 (mean). The better half alone shrinks towards nothing once a
    smooth function is solved, and then any variance-driven pick looks like a large hope: a
    solved 2-D bowl never stopped within 40 jobs. :func:`warp_targets` is affine on the better
    half (only worse-than-median values are rank-warped), so the slope there converts raw units
    into target units. None with fewer than three observations or no spread."""
    finite = np.isfinite(raw)
    if finite.sum() < 3:
        return None
    good = finite & (raw <= np.median(raw[finite]))
    raw_spread = float(np.ptp(raw[good])) if good.sum() >= 2 else 0.0
    if not raw_spread > 0.0:
        return None
    half = float(np.ptp(warped[good]))
    whole = float(np.ptp(raw[finite])) * half / raw_spread
    return max(half, FLOOR_OF_RANGE * whole)


def _targets(
    encoder: Encoder, history: History, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_], IntArray, float | None]:
    """Unit points, GP targets, which targets are real observations, the fit subset, and the
    job's own observed range in target units (:func:`_range_in_target_units`).

    Without transfer groups: the finished trials, warped together. With them (TransferLearning
    parents), each parent's trials and then the job's own are warped on their own (ranks made
    Gaussian and standardised, :func:`warp_targets`): a parent measured on another scale, or
    whose function is shifted by a constant, then lends the model its *shape*, not its level.
    Trials outside this space (a parent with other ranges) are dropped, never clipped: a value
    observed outside the child's box says nothing certain about its boundary. Failures take
    their group's worst warped value."""
    if not history.transfer:
        u_all, kept = encoder.configs_to_unit([t.config for t in history.finished])
        objectives = _objectives([history.finished[i] for i in kept])
        if not np.isfinite(objectives).any():
            raise ModelError("no finished trial in this space has an objective")
        keep = _subsample(objectives, MAX_MODEL, rng)
        y = warp_targets(objectives[keep])
        fit_idx = _subsample(objectives[keep], MAX_FIT, rng)
        return (
            u_all[keep],
            y,
            np.isfinite(objectives[keep]),
            fit_idx,
            _range_in_target_units(objectives[keep], y),
        )
    units: list[FloatArray] = []
    warped: list[FloatArray] = []
    ranking: list[FloatArray] = []
    own_range: float | None = None
    for group in (*history.transfer, history.finished):
        u_group, kept = encoder.configs_to_unit([t.config for t in group])
        objectives = _objectives([group[i] for i in kept])
        if not np.isfinite(objectives).any():
            continue
        y_group = warp_targets(objectives)
        if group is history.finished:
            own_range = _range_in_target_units(objectives, y_group)
        units.append(u_group)
        warped.append(y_group)
        ranking.append(np.where(np.isfinite(objectives), y_group, np.nan))
    if not units:
        raise ModelError("no trial in this space has an objective")
    u_all, y_all, rank = np.vstack(units), np.concatenate(warped), np.concatenate(ranking)
    keep = _subsample(rank, MAX_MODEL, rng)
    fit_idx = _subsample(rank[keep], MAX_FIT, rng)
    return u_all[keep], y_all[keep], np.isfinite(rank[keep]), fit_idx, own_range


def _objectives(trials: list[Trial]) -> FloatArray:
    values = np.array([np.nan if t.objective is None else float(t.objective) for t in trials])
    values[~np.isfinite(values)] = np.nan
    return values


def _unused_grid(space: SearchSpace, encoder: Encoder, history: History) -> FloatArray | None:
    """Every unused point of a discrete space small enough to score exhaustively, else None."""
    card = space.cardinality()
    if card is None or card > MAX_ENUMERATE:
        return None
    u = encoder.discrete_grid()
    free = np.ones(len(u), dtype=bool)
    free[list(used_ranks(space, history))] = False
    return u[free]


def _best_unused(
    space: SearchSpace,
    encoder: Encoder,
    u: FloatArray,
    scores: FloatArray,
    used: set[tuple[str, ...]],
) -> Config | None:
    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
    seen: set[tuple[str, ...]] = set()
    for i in order:
        config = space.from_unit(u[i])
        key = encoder.key(config)
        if key in used or key in seen:
            seen.add(key)
            continue
        return config
    raise ModelError("every candidate decodes to a finished or pending config")
