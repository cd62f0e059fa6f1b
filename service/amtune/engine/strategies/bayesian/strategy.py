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
   Improvement is measured from the best observed value. On a claim made while no other job
   runs, if EI's best candidate is predicted worse than the median finished trial (its EI is
   variance alone, :func:`ei_buys_only_variance`), the search is redone with improvement
   measured from the lowest posterior mean at a finished trial ("Variance-only picks" below),
   and only candidates that the mean rates no worse than that median, or that change a
   categorical value of the incumbent, may win it (:func:`follows_the_mean`).
5. Any numerical failure (Cholesky even with jitter, non-finite values, an optimiser error)
   is logged at WARNING and answered with the exploration step of (1), never an exception.

Variance-only picks (adopted 2026-11-29). When the fit explains much of the targets as noise,
the mean is flat and no point is predicted to beat the luckiest observation; EI from that value
is then earned by variance alone, at the corners of the cube (Ackley-5's outer plateau: two runs
in twenty never left it). On such a sequential claim, EI measured from the lowest posterior mean
at a finished trial (the plug-in incumbent of noisy BO) follows the mean's trend instead. A
trace of one run shows the rule firing on about half the sequential claims once trials cluster
(SVM_wine_nll seed 0 from claim 19 on, Ackley-5 seed 0 from claim 32 on). Measured with ``python
-m bench.bayes --profile full --optimizers amtune-bayesian --seeds 0,...,19``, score at 128 / 64
evaluations against the exploiting turns it replaces (below):
batch 1, 15 problems 93.97 / 92.50 -> 94.22 / 92.60 (Ackley-5 80.6 -> 83.7, DT_wine_nll 75.3
-> 77.0, Hartmann-6 98.0 -> 98.4, MLP-adam_breast_acc 76.2 -> 75.1); batch 8, 14 problems
93.99 / 91.86 -> 94.03 / 91.92 (the check runs only on the first claim of each batch there).
SVM_wine_nll of the quick profile, batch 1: 93.3 -> 94.3 (95.3 with neither rule). A claim where
the check fires searches the candidates twice, yet the median suggestion cost with 100 finished
trials in 10 dimensions stayed at about 60 ms of CPU (``bench/ENGINE_LATENCY.md``). Figures
against the peers are in ``bench/RESULTS.md``.

Picks the mean rates (adopted 2026-11-29, second session). A trace of Ackley-5 seed 0 showed
the variance-only claims still ending in corners from claim 60 on: about half of them went to a
corner at a loss of 21, while the best point was already within two ripples of the optimum. The
fits alternate between two regimes; in the low-noise one the plug-in incumbent lies only a hair
below the best observation, and a corner (mean 0.15, standard deviation 1.02 on the
standardised targets, against a bar of -1.43) still has the larger EI. So the redone search
now takes only candidates whose mean is no worse than the median finished trial. Candidates
whose categorical values differ from the incumbent's are exempt: without that exemption the
mixed problems stayed on an offset category (mixed_revlog 100 -> 95.3 and mixed_offset
99.6 -> 97.6 at 128, batch 1, seeds 0-9). Measured on one machine against this code without
the rule, ``python -m bench.bayes --profile full --optimizers amtune-bayesian --batch 1``,
score at 64 / 128 evaluations:

- the 15 problems of the full profile, seeds 0-9: 91.97 / 94.16 -> 92.28 / 94.43;
- Ackley-5, seeds 0-19: 78.0 / 84.6 -> 79.0 / 90.1; seeds 20-39: 79.2 / 84.5 -> 77.1 / 86.7;
- SVM_wine_nll of the quick profile, seeds 0-9: 91.5 / 92.3 -> 93.6 / 95.5;
- losses within the noise of 10 seeds: linear_breast_nll 93.5 -> 92.1 and DT_wine_nll
  74.1 -> 72.9 at 128;
- batch 8, 15 problems, seeds 0-9: 91.42 / 93.67 -> 91.50 / 93.70 (there the check runs only on
  the first claim of a batch; at 128 only mixed_offset, 98.8 -> 99.3, and DT_wine_nll and
  SVM_breast_nll, by 0.1, moved).

The runs are in ``bench/bayes/results/mean-rates-b1-seeds0-9.json``, ``mean-rates-b8-seeds0-9.json``
and, for the code without the rule, ``before-mean-rates-b1-b8-seeds0-9.json``.

A tighter rule, with both the check and the filter at the 35% quantile of the fitted means in
place of the median, lifted Ackley-5 to 82.7 / 96.3 (seeds 0-19). It cost the model-tuning
problems more than that: DT_wine_nll 74.1 -> 64.0 at 128, MLP-sgd_iris_nll 90.7 -> 80.1 at 64.
Over the other 12 problems it scored 93.85 / 95.79 -> 93.00 / 94.72. Looser filters, at the 60%
and 75% quantiles with the check at the median, left Ackley-5 where it was (84.6 and 84.5 at
128). Claims where the check does not fire still reach corners: about 10 of the 32 in the
second half of one seed's run. Those corner picks have a mean just under the median and nearly
the prior's variance. So the check was also made to fire when the pick's posterior standard
deviation is at least a fraction of the prior's. On Ackley-5, seeds 0-19, score at 128, this
code scores 90.1; fractions of 0.97, 0.9 and 0.8 scored 86.4, 86.2 and 81.9.

The rule can trap a run (found 2026-11-29, third session; not fixed). linear_breast_nll seed 9,
batch 1, put 115 of its 128 trials in one box at intercept_scaling 0.01 (its lower bound), C 3 to
4.5, with losses of 0.1108 to 0.1129; the optimum, 0.1075, lies near intercept_scaling 6.5. From
claim 13 on the check fired on every claim, and the fit put 0.6 of the target variance into
noise. The median fitted mean was then the box's own level, so the filter excluded every
unexplored point (its mean at the prior, above that level), and each trial in the box tightened
the next claim's box. The fitted means there spread below their median by 0.01 to 0.27 noise
standard deviations, against 6 to 27 on Ackley-5's firing claims. So the filter was skipped when
that spread is under one noise standard deviation. Measured with ``python -m bench.bayes
--profile full --optimizers amtune-bayesian``, one machine, this code -> the guard, at 64 / 128
evaluations:

- batch 1, the 15 problems, seeds 0-19: 92.69 / 94.51 -> 92.59 / 94.76 (paired differences
  -0.10 +- 0.10 and +0.26 +- 0.12). At 128: DT_wine_nll 75.3 -> 77.6, MLP-adam_breast_acc
  75.1 -> 76.7, ada_wine_acc 95.3 -> 94.9, the rest within 0.3 (Ackley-5 run for run the same);
- SVM_wine_nll, seeds 0-19: 94.2 -> 93.2 at 128. Its spread is as small (0.01 to 0.9 on seed 5),
  and there keeping the claims on the noisy basin pays;
- batch 8, seeds 0-9: 91.50 / 93.70 -> 91.43 / 93.69;
- the trapped run left the box only for the opposite bound (intercept_scaling 100) and ended at
  0.1100 instead of 0.1108.

Not kept: the gain is two standard errors at 128 and none at 64, it comes from DT's plateau
lottery, and it costs SVM_wine_nll. A fix would have to tell a box on a bound from a noisy basin.

Measured and not adopted (11 problems of the full profile, seeds 0-4, batches 1 and 8; score at
128 evaluations, batch 1 / batch 8, against 93.8 / 94.8 for this code):

- *Corners.* This code sends many trials to the corners of the cube, where the posterior
  variance is largest: in 128 evaluations, 25-48 trials with half their coordinates on a bound
  on Branin and Hartmann-6 and 66-74 on Ackley-5, nearly all bad there. A pessimistic constant
  prior mean (targets shifted so that the unexplored cube predicts 1 standard deviation worse
  than the average trial) cut that to 1-18 and lifted Ackley-5 from 72.7 to 86.5, but the
  Bayesmark tree problems have their optimum on several bounds at once: RF_diabetes_mae lost
  7.5 points at batch 8 and MLP-sgd_iris_nll 4.4 at batch 1, from single runs stuck far off.
  Net 94.3 / 95.3, with batch 1 at 64 evaluations 1 point lower; half that shift gave
  94.3 / 94.7. A constant mean estimated from the data (generalised least squares under the
  fitted kernel) gave 93.7 / 94.4.
- *Plateaus.* DT_wine_nll's loss is a step function: half of a run's trials can repeat the
  incumbent's exact value. Raising the bar of EI by a margin once the best value repeats, an
  exploration step every second or third trial while it does, and candidates that redraw one or
  two coordinates of the best points uniformly all stayed within the noise of 20 seeds on it
  (79.4 for this code, 79.9-81.5 for the variants, standard errors about 1.5). Why it is hard:
  DT's best plateau that random search reaches in 8 of 10 seeds (loss 0.285) is a band about
  0.03 wide in ``max_features`` (it fixes how many of wine's 13 features a split may draw), so
  its value is unrelated to that of the neighbouring bands that a smooth kernel interpolates.
- *Optuna GPSampler's priors* (measured in the afternoon of 2026-11-28; batch 1, seeds 0-4
  unless stated). Its lengthscale penalty ``0.1 l^2 + 0.1 / l^2`` in place of the log-normal
  prior (far harsher on lengthscales under 0.3): DT_wine_nll 76.6 -> 78.7 and MLP-sgd_iris_nll
  93.5 -> 96.1 at 128 (DT on seeds 0-9), but Ackley-5 72.7 -> 53.3 and linear_breast_nll 93.8 ->
  92.0; over the ten problems that run covered, 95.5 -> 93.6. Its noise prior (Gamma(1.1, 30),
  no Jacobian) lost on DT (75.9 -> 72.8), MLP-sgd (93.5 -> 91.5) and Ackley-5 (72.7 -> 67.0).
- *Hartmann-6's local optimum.* Seeds 1, 2, 3 and 5 end at the -3.203 local optimum at batch 1
  and at batch 8 alike (GPSampler: one seed of ten at batch 1), so the initial design and the
  first fits decide it. Once trials cluster there the fit gives two coordinates lengthscales of
  5-7 (flat), and the global optimum, 0.55 from every trial, predicts worse than average.
  Capping lengthscales at 2 left the same seeds stuck (98.3 against 98.5).
- *Hyperparameters integrated out.* A probe (the MAP fit plus 4 draws of hit-and-run slice
  sampling started at it, thinning 3, step width 1 in log space; the log of the mean EI over the
  5 posteriors; refinement on the MAP posterior) lifted DT_wine_nll from 76.6 to 81.6 at batch 1
  and lost at batch 8 (over 8 problems 92.5 -> 91.2). Rebuilt cleanly on 2026-11-28 evening and
  used only for claims with no pending trial (every claim at batch 1), it did not hold up on
  seeds 0-9 at batch 1, 128 evaluations (this code -> ensemble): DT_wine_nll 76.6 -> 75.2,
  MLP-sgd_iris_nll 93.9 -> 96.3, RF_diabetes_mae 97.0 -> 97.3, SVM_breast_nll 98.9 -> 98.6,
  Ackley-5 73.2 -> 74.6, linear_breast_nll 94.1 -> 92.6, mixed_offset 99.7 -> 99.4, Hartmann-6
  98.5 (same four seeds stuck); mean of the 8 problems 91.50 -> 91.56, and at 64 evaluations
  88.70 -> 88.20. The probe's DT figure was seed luck on a step function. The suggestion cost
  rose to 82 ms of CPU with 100 trials in 10 dimensions on a quiet host (44 ms for this code in
  the morning's run of the same command), for nothing.
- *Plug-in incumbent* (2026-11-28 night). Ackley-5 seeds 12 and 16 at batch 1 never leave the
  outer plateau (best 19.9 and 19.3 after 128 trials) because from about 40 trials on the fit
  puts half the target variance into noise (0.4-0.6), the mean goes flat and EI, still measured
  from the luckiest observation, is driven by variance alone, i.e. by the bounds. Measuring EI
  from the lowest posterior mean at a finished trial instead (the usual choice for noisy
  objectives) found the basin on both (3.5 and 4.8). Over 14 problems of the full profile,
  batch 1, seeds 0-9, it lost all the same: 93.48 -> 92.39 at 128 evaluations and 91.56 ->
  90.04 at 64; DT_wine_nll 76.6 -> 70.6 (two seeds stuck at 0.636), MLP-adam_breast_acc 77.3 ->
  72.4, MLP-sgd_iris_nll 93.3 -> 90.9, and Ackley-5 only level (73.2 -> 73.5: closer to the
  optimum on eight seeds, two others newly stuck on the plateau).
- *Vizier's trust region* (same night, same 14 problems and seeds): candidates admissible only
  within an L-infinity distance ``0.2 + 0.3 n / (5 (dim + 1))`` of a finished or pending
  trial, no restriction once that exceeds 0.5, gradient refinement boxed to the region. It does
  not touch the corner pathology (in 5 dimensions the region is lifted after 30 trials, and
  before that the corners EI picks are already within reach of some trial) and it slowed the
  Bayesmark problems' early phase: 93.46 -> 92.47 at 128 evaluations, 91.55 -> 89.74 at 64
  (Ackley-5 73.2 -> 65.9, DT_wine_nll 76.6 -> 72.3, MLP-adam_breast_acc 77.3 -> 74.2;
  MLP-sgd_iris_nll 93.3 -> 94.6 and RF_diabetes_mae 97.0 -> 97.7).

- *Exploiting turns* (adopted 2026-11-28 night, replaced 2026-11-29 by the rule above): the
  plug-in incumbent on one sequential claim in four (jobs 3, 7, 11, ...). Over the 14 problems
  without ada_wine_acc, batch 1, 128 / 64 evaluations: seeds 0-9 93.46 / 91.55 -> 93.76 / 92.27,
  seeds 10-19 92.65 / 91.30 -> 94.10 / 92.50, all of it Ackley-5 (66.4 -> 80.6 at 128 over 20
  seeds); they cost DT_wine_nll about 4 points (79.4 -> 75.3) and SVM_wine_nll of the quick
  profile 2 (95.3 -> 93.3). Taken on parallel claims too they lost at batch 8 (seeds 0-9:
  94.37 / 92.13 -> 94.10 / 91.38). Gentler schedules (four problems, batch 1, seeds 0-19, score
  at 128 for Ackley-5 / DT_wine_nll / SVM_wine_nll / Hartmann-6, then their mean at 128 and 64):
  one in four 80.6 / 75.3 / 93.3 / 98.0, 86.8 and 84.7; no turns 66.4 / 79.4 / 95.3 / 98.4, 84.9
  and 82.0; only when the fit puts more than 0.2 of the signal variance into noise
  72.4 / 76.5 / 94.3 / 98.4, 85.4 and 82.5; one in eight 75.9 / 78.0 / 93.7 / 97.9, 86.4 and
  84.0; only from the 32nd finished trial on 75.9 / 74.6 / 93.3 / 98.4, 85.6 and 84.1. The
  variance-only check on the turns alone (one claim in four, and only when its pick buys
  variance): 78.5 / 78.8 / 93.6 / 98.4, 87.3 and 84.6; it fires early on SVM_wine_nll too (from
  claim 19), so gating the turns did not spare it.

- *A lower confidence bound on variance-only claims* (2026-11-29 morning, Ackley-5 only, batch
  1): scikit-optimize refines Ackley-5's basin further than this code (best 2.1 against 3.3 on
  seeds 0-9) with a portfolio that includes PI and LCB, so the variance-only claims above were
  answered by the candidate maximising ``kappa sigma - mu`` instead of plug-in EI. Score at 64 /
  128 evaluations, seeds 0-19: this code 72.1 / 83.6; kappa 0 (the posterior mean's minimum)
  72.7 / 83.2, 0.5 73.1 / 84.0, 1 75.2 / 87.0, 2 74.2 / 83.2. Kappa 1 on seeds 20-39: 77.7 / 83.6
  against 73.2 / 84.7: the gain on the first 20 seeds was luck, and no kappa refines like
  scikit-optimize.

These variants were one-off patches, measured with ``python -m bench.bayes`` and not kept.
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
INPUT_WARPING = False
"""Kumaraswamy-warp numeric inputs (see :mod:`.warping`) once ``WARP_MIN_TRIALS`` exist.

Off by default: on the quick benchmark (4 synthetic, 5 Bayesmark problems, 5 seeds) it won
nothing measurable, lost on the mixed problem, and doubles the hyperparameters to fit."""
WARP_MIN_TRIALS = 10
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
    initial design, its own data model its own function."""
    return initial_design_size(dim)


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
        design, so a warm child starts from the model."""
        seed = int(seed) % (2**63)
        index = int(index)
        encoder = Encoder(space)
        related = [t for group in history.transfer for t in group]
        used = {encoder.key(t.config) for t in history.finished}
        used.update(encoder.key(c) for c in history.pending)
        used.update(encoder.key(t.config) for t in related)
        card = space.cardinality()
        if card is not None and len(_used_ranks(space, history)) >= card:
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
        if history.transfer and own_ok >= transfer_horizon(space.dim):
            # The job knows its own function well enough now: the parents' configs stay in
            # `used`, their values leave the model (see transfer_horizon).
            history = History(finished=history.finished, pending=history.pending)
        try:
            with np.errstate(all="ignore"), single_threaded_blas():
                return self._model_step(space, encoder, history, used, seed=seed, index=index)
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
    ) -> Suggestion:
        rng = np.random.default_rng([seed, index, len(history.finished)])
        u_obs, y, ok, fit_idx, scale = _targets(encoder, history, rng)
        x = encoder.features(u_obs)
        n_warp = len(encoder.numeric) if INPUT_WARPING and len(y) >= WARP_MIN_TRIALS else 0
        hyper = fit_hyper(x[fit_idx], y[fit_idx], rng, n_warp=n_warp)
        posterior = Posterior(x, y, hyper)
        best = float(np.min(y[ok]))
        observed_best = best
        posterior, best = condition_on_pending(posterior, encoder, history.pending, best)
        centres = u_obs[ok][np.argsort(y[ok], kind="stable")[:N_CENTRES]]
        grid = _unused_grid(space, encoder, history)

        def search(bar: float) -> tuple[FloatArray, FloatArray]:
            """Candidates and their log-EI measured from ``bar``: the whole unused grid of a
            small discrete space, else quasi-random points refined around ``centres``."""
            acq = Acquisition(encoder, posterior, bar)
            return (grid, acq(grid)) if grid is not None else candidates(acq, centres, rng)

        u, scores = search(best)
        if not history.pending:
            fitted = posterior.mean(x[ok])
            if ei_buys_only_variance(posterior, encoder, u, scores, fitted):
                u, scores = search(float(np.min(fitted)))
                allowed = follows_the_mean(posterior, encoder, u, fitted, centres[0])
                if allowed.any():
                    scores = np.where(allowed, scores, -np.inf)
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


def _used_ranks(space: SearchSpace, history: History) -> set[int]:
    """Grid positions taken by the job's own trials and by its transfer parents' trials."""
    related = History(finished=tuple(t for group in history.transfer for t in group))
    return used_ranks(space, history) | used_ranks(space, related)


def _unused_grid(space: SearchSpace, encoder: Encoder, history: History) -> FloatArray | None:
    """Every unused point of a discrete space small enough to score exhaustively, else None."""
    card = space.cardinality()
    if card is None or card > MAX_ENUMERATE:
        return None
    u = encoder.discrete_grid()
    free = np.ones(len(u), dtype=bool)
    free[list(_used_ranks(space, history))] = False
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
