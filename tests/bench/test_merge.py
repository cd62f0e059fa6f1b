"""``python -m bench.bayes --merge``: one report from several results files.

Peers are measured once and engine changes are compared against their stored runs, so the merge
must keep every run exactly once (a later file replacing an earlier one with the same spec),
rescore from the losses, and name the files behind the table.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.bayes.__main__ import main
from bench.bayes.merge import Selection, merge
from bench.bayes.runner import RunResult, RunSpec


def _results_file(
    path: Path, command: str, runs: list[RunResult], cpu: str = "AMD EPYC (family 26, model 2)"
) -> Path:
    payload = {
        "command": command,
        "date": "2026-11-28 00:00 UTC",
        "machine": {"cpu": cpu},
        "runs": [r.to_json() for r in runs],
    }
    path.write_text(json.dumps(payload))
    return path


def _run(optimizer: str, seed: int, losses: list[float], batch: int = 1) -> RunResult:
    return RunResult(spec=RunSpec(optimizer, "branin", seed, batch, len(losses)), losses=losses)


def test_later_file_replaces_equal_runs_and_sources_are_counted(tmp_path: Path) -> None:
    old = _results_file(
        tmp_path / "old.json",
        "old command",
        [_run("amtune-bayesian", 0, [5.0, 4.0]), _run("random", 0, [9.0, 8.0])],
    )
    new = _results_file(
        tmp_path / "new.json", "new command", [_run("amtune-bayesian", 0, [1.0, 0.5])]
    )
    runs, sources = merge([old, new])
    by_opt = {r.spec.optimizer: r.losses for r in runs}
    assert by_opt == {"amtune-bayesian": [1.0, 0.5], "random": [9.0, 8.0]}
    assert [(s.command, s.runs_used, s.runs_replaced) for s in sources] == [
        ("old command", 1, 1),
        ("new command", 1, 0),
    ]


def test_selection_filters_runs(tmp_path: Path) -> None:
    f = _results_file(
        tmp_path / "a.json",
        "cmd",
        [_run("random", 0, [3.0]), _run("random", 1, [2.0]), _run("random", 1, [2.0], batch=8)],
    )
    runs, _ = merge([f], Selection(seeds=[1], batches=[8]))
    assert [(r.spec.seed, r.spec.batch) for r in runs] == [(1, 8)]


def test_cli_merge_scores_every_optimizer_and_names_its_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evals = 16
    peers = _results_file(
        tmp_path / "peers.json",
        "peer command",
        [_run("random", s, [30.0] * evals) for s in (0, 1)],
    )
    engine = _results_file(
        tmp_path / "engine.json",
        "engine command",
        [_run("amtune-bayesian", s, [0.5] * evals) for s in (0, 1)],
    )
    out = tmp_path / "merged.json"
    assert main(["--merge", str(peers), str(engine), "--out", str(out), "--no-markdown"]) == 0
    payload = json.loads(out.read_text())
    rows = {r["optimizer"]: r for r in payload["summary"]["rows"]}
    assert set(rows) == {"random", "amtune-bayesian"}
    assert rows["amtune-bayesian"]["scores"]["16"]["mean"] > rows["random"]["scores"]["16"]["mean"]
    assert [s["file"] for s in payload["merged_from"]] == [str(peers), str(engine)]
    assert len(payload["runs"]) == 4
    printed = capsys.readouterr().out
    assert "peers.json" in printed and "engine command" in printed
    (paired,) = payload["summary"]["paired"]  # amtune minus random, seed by seed
    assert paired["optimizer"] == "random" and paired["diffs"]["16"]["n_seeds"] == 2
    assert paired["diffs"]["16"]["mean"] == pytest.approx(
        rows["amtune-bayesian"]["scores"]["16"]["mean"] - rows["random"]["scores"]["16"]["mean"]
    )
    assert "amtune-bayesian minus each peer, seed by seed" in printed


def test_a_written_service_run_and_a_failed_evaluation_merge_back(tmp_path: Path) -> None:
    """Results files hold strict JSON, so a service run's unmeasured CPU time and a failed
    evaluation's infinite loss are written as null; merging such a file must still score it,
    with the failure counted as the worst loss and the missing timing shown as missing."""
    from bench.bayes.__main__ import _strict

    service = RunResult(
        spec=RunSpec("service-bayesian", "branin", 0, 8, 16),
        losses=[math.inf] + [1.0] * 15,
        wall_s=2.0,
        cpu_s=math.nan,
    )
    path = tmp_path / "service.json"
    path.write_text(
        json.dumps(
            _strict({"command": "service command", "date": "d", "runs": [service.to_json()]}),
            allow_nan=False,
        )
    )
    out = tmp_path / "merged.json"
    assert main(["--merge", str(path), "--out", str(out), "--no-markdown"]) == 0
    (row,) = json.loads(out.read_text())["summary"]["rows"]
    assert row["optimizer"] == "service-bayesian" and row["run_cpu_s_median"] is None
    (run,) = merge([path])[0]
    assert run.losses[0] == math.inf and math.isnan(run.cpu_s)


def test_an_empty_seed_selection_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """``--seeds N`` means seeds 0..N-1, so ``--seeds 0`` selects nothing: it used to run for
    nothing and crash while writing the report; it now stops at once and says how to ask for
    one seed."""
    out = tmp_path / "never.json"
    args = ["--profile", "full", "--optimizers", "random", "--problems", "branin", "--seeds", "0"]
    with pytest.raises(SystemExit, match="no seed selected"):
        main([*args, "--out", str(out), "--no-markdown"])
    assert not out.exists()


def test_sources_name_the_cpu_their_runs_came_from_through_nested_merges(tmp_path: Path) -> None:
    """Runs reproduce only on the CPU kind that made them, so a merged table must say which
    kinds are behind it, also when a merged file is merged again on yet another machine."""
    zen5, zen4 = "AMD EPYC (family 26, model 2)", "AMD EPYC (family 25, model 17)"
    a = _results_file(tmp_path / "a.json", "a", [_run("random", 0, [3.0, 2.0])], cpu=zen5)
    b = _results_file(tmp_path / "b.json", "b", [_run("random", 1, [4.0, 1.0])], cpu=zen4)
    first = tmp_path / "first.json"
    assert main(["--merge", str(a), str(b), "--out", str(first), "--no-markdown"]) == 0
    c = _results_file(tmp_path / "c.json", "c", [_run("random", 2, [5.0, 2.0])], cpu=zen4)
    _, sources = merge([first, c])
    assert [s.cpu for s in sources] == [f"{zen4}; {zen5}", zen4]


def test_compact_file_keeps_losses_exactly_and_merges_like_plain(tmp_path: Path) -> None:
    """Committed results are gzip without per-suggestion timings; merging them must give the
    same runs, to the last bit, as the plain file they were made from."""
    from bench.bayes.report import read_results_payload, write_results

    run = RunResult(
        spec=RunSpec("amtune-bayesian", "branin", 0, 1, 3),
        losses=[0.1 + 1e-17, 2.0 / 3.0, math.pi],
        ask_ms=[1.5, 2.5, 3.5],
    )
    plain = _results_file(tmp_path / "plain.json", "cmd", [run])
    compact = tmp_path / "compact.json.gz"
    write_results(compact, read_results_payload(plain))
    assert compact.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    (from_plain,), _ = merge([plain])
    (from_compact,), _ = merge([compact])
    assert from_compact.losses == from_plain.losses == run.losses
    assert from_compact.spec == run.spec
    assert from_compact.ask_ms == []
