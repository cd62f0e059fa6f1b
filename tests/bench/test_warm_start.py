"""The warm-start benchmark on a model-tuning pair: the same model on two data sets.

The pair is the benchmark's out-of-sample check of TransferLearning; this runs it tiny (one
seed, a few jobs of each run) so that the pair, its references and the report keep working.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.warm_start import Budget, make_pair, one_seed, references, regrets, report

PAIR = "linear_wine_nll:linear_breast_nll"
TINY = Budget(full=12, parent=8, child=6, transfer=10)


def test_a_model_pair_runs_and_scores_regret_from_the_best_loss_seen() -> None:
    pair = make_pair(PAIR)
    raw = one_seed(pair, 0, budget=TINY)
    parent_reference, child_reference = references(pair, [raw])
    row = regrets(raw, parent_reference, child_reference)

    # no known optimum: the references are the best losses seen (recorded or by these runs),
    # so no regret is negative
    assert parent_reference <= raw["parent_seen"] and child_reference <= raw["child_seen"]
    scores = [v for k, v in row.items() if isinstance(v, float) and not k.endswith("reference")]
    assert len(scores) == 7 and all(v >= 0.0 for v in scores)
    # the runs' shapes: the 12-job run holds the 8-job parent and the 6-job cold job
    assert row["full100"] <= row["parent50"] <= row["cold20"]
    assert row["identical20_overall"] == min(row["identical20"], row["parent50"])
    assert {"transfer10", "cold_related10"} <= row.keys()
    assert "transfer20" not in row
    for stop in row["stops"].values():
        assert 1 <= stop["jobs"] <= TINY.full and stop["regret"] >= row["full100"]

    text = report([row])
    assert f"## {PAIR} (1 seeds" in text
    assert "transfer child vs cold at 10" in text


def test_a_pair_must_tune_one_space() -> None:
    with pytest.raises(ValueError, match="different spaces"):
        make_pair("linear_wine_nll:SVM_breast_nll")
