"""Named benchmark configurations.

``quick`` runs every peer and amtune's Bayesian strategy at the evaluation counts the targets
are stated at (64 and 128) on few problems and seeds, so its standard errors are wide. Its first
run used about 2,500 CPU-seconds (about 21 minutes on an idle 2-core machine, the GP peers on
``mixed_revlog`` being the largest share). ``full`` is the one to quote: every synthetic problem,
one Bayesmark problem per model (data sets and metrics rotated), 10 seeds; it takes hours.
``extended`` holds the kinds of problem the other two lack: 4-5-D multimodal functions, a
20-D one, and tree models tuned over integer depth, leaf size, split size and feature count;
64 evaluations, 10 seeds (``bench/RESULTS.md``, "The extended profile").
"""

from __future__ import annotations

from dataclasses import dataclass

from .problems.multimodal import MULTIMODAL
from .problems.synthetic import SYNTHETIC
from .problems.trees import tree_problem_names


@dataclass(frozen=True)
class Profile:
    name: str
    problems: tuple[str, ...]
    seeds: tuple[int, ...]
    batches: tuple[int, ...] = (1, 8)
    n_evals: int = 128
    optimizers: tuple[str, ...] = ()


FULL_MODEL_PROBLEMS = (
    "kNN_iris_acc",
    "SVM_breast_nll",
    "SVM_diabetes_mse",
    "DT_wine_nll",
    "RF_diabetes_mae",
    "MLP-adam_breast_acc",
    "MLP-sgd_iris_nll",
    "ada_wine_acc",
    "lasso_diabetes_mse",
    "linear_breast_nll",
)

PROFILES = {
    "quick": Profile(
        name="quick",
        problems=("hartmann6", "mixed_revlog", "SVM_wine_nll"),
        seeds=(0, 1),
    ),
    "full": Profile(
        name="full",
        problems=(*SYNTHETIC, *FULL_MODEL_PROBLEMS),
        seeds=tuple(range(10)),
    ),
    "extended": Profile(
        name="extended",
        problems=(*MULTIMODAL, *tree_problem_names()),
        seeds=tuple(range(10)),
        n_evals=64,
    ),
}
