"""Pending trials: how running jobs shape the next suggestion.

Kriging believer: each pending config is added to the GP as if observed at its posterior mean
(hyperparameters unchanged). The mean surface is unchanged (a believed value carries no
surprise), but the variance around every pending point collapses, so EI there drops to nearly
zero and the next worker is sent somewhere else, yet still somewhere promising. Exact
duplicates are excluded separately (the strategy never returns a finished or pending config).
This costs one extra Cholesky of size n + pending, no refit.
"""

from __future__ import annotations

from collections.abc import Sequence

from amtune.engine.spaces import Config

from .encoding import Encoder
from .gp import Posterior


def condition_on_pending(
    posterior: Posterior, encoder: Encoder, pending: Sequence[Config]
) -> Posterior:
    if not pending:
        return posterior
    u = encoder.configs_to_unit(list(pending))
    return posterior.with_inputs(encoder.features(u))
