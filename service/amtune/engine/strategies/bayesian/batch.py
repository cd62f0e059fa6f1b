"""Pending trials: how running jobs shape the next suggestion.

Kriging believer: each pending config is added to the GP as if observed at its posterior mean
(hyperparameters unchanged), and the incumbent of EI becomes the best of the observed and the
believed values. The mean surface is unchanged (a believed value carries no surprise), but the
variance around every pending point collapses and, where the model predicted an improvement, the
bar rises to that prediction, so EI near a pending point drops to nearly zero and the next
worker is sent somewhere else, yet still somewhere promising. (Without raising the incumbent, a
point whose mean alone beats the best keeps its EI and the workers pile up on it.) Exact
duplicates are excluded separately (the strategy never returns a finished or pending config).
This costs one extra Cholesky of size n + pending, no refit.

Measured alternatives (batches of 8): keeping the incumbent at the best observed value lets the
workers gather near the best points; that won about 1 point of normalised score on SVM_wine_nll
(seeds 0-9), lost 0.3 on Hartmann-6 (seeds 0-7) and put two workers of one batch within 0.01 of
each other. Believing pending points at the best observed value (a constant liar) gained less than
0.5 point on SVM_wine_nll and was not pursued.

Fantasies (EI averaged over joint draws of the pending outcomes) tied the believer over 20
seeds at batch 8 and cost 25 % more time; see ``bench/RESULTS.md``, "Tried and not kept".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from amtune.engine.spaces import Config

from .encoding import Encoder
from .gp import Posterior
from .kernel import FloatArray


def condition_on_pending(
    posterior: Posterior, encoder: Encoder, pending: Sequence[Config], best: float
) -> tuple[Posterior, float, FloatArray]:
    """The posterior with pending points believed, the incumbent including the beliefs, and the
    believed values themselves (empty with nothing pending; the plug-in incumbent of a redone
    variance-only claim counts them)."""
    believed = np.empty(0)
    if not pending:
        return posterior, best, believed
    u, _ = encoder.configs_to_unit(list(pending))
    if len(u) == 0:
        return posterior, best, believed
    extended = posterior.with_inputs(encoder.features(u))
    believed = extended.y[len(posterior.y) :]
    return extended, min(best, float(np.min(believed))), believed
