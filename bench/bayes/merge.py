"""Building one report from several results files (``python -m bench.bayes --merge A B ...``).

A run's losses are a deterministic function of (optimizer, problem, seed, batch, evals) and of
the code that produced them, so peers measured once need not be re-run for every engine change:
their runs are read back from the file they were written to and scored together with new runs.
Scores are recomputed from the losses (references from ``baselines.json`` and every merged run),
never copied from a file's summary, so all rows of a merged table share one normalisation.

When two files hold a run with the same spec, the file given *later* wins (pass the newest engine
results last); the report lists every source file with its command, date, CPU and how many of its
runs were used or replaced, so a table can always be traced to the runs behind it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .report import read_results_payload
from .runner import RunResult, RunSpec


@dataclass(frozen=True)
class Source:
    """One merged file and what it contributed."""

    file: str
    command: str
    date: str
    cpu: str  # the CPU kind its runs came from: a run reproduces only on the same kind
    runs_read: int
    runs_used: int
    runs_replaced: int  # runs of this file overridden by a later file


@dataclass(frozen=True)
class Selection:
    """Optional filters; an empty collection keeps everything."""

    optimizers: Collection[str] = ()
    problems: Collection[str] = ()
    seeds: Collection[int] = ()
    batches: Collection[int] = ()
    n_evals: int | None = None

    def keeps(self, spec: RunSpec) -> bool:
        return (
            (not self.optimizers or spec.optimizer in self.optimizers)
            and (not self.problems or spec.problem in self.problems)
            and (not self.seeds or spec.seed in self.seeds)
            and (not self.batches or spec.batch in self.batches)
            and (self.n_evals is None or spec.n_evals == self.n_evals)
        )


def read_results(path: Path) -> tuple[dict[str, Any], list[RunResult]]:
    """The payload of a results file and its runs."""
    payload = read_results_payload(Path(path))
    return payload, [RunResult.from_json(r) for r in payload.get("runs", [])]


def merge(
    paths: Sequence[Path], selection: Selection = Selection()
) -> tuple[list[RunResult], list[Source]]:
    """The selected runs of every file (later files win on equal specs), and the sources."""
    chosen: dict[RunSpec, tuple[int, RunResult]] = {}
    read: list[tuple[dict[str, Any], int]] = []
    for i, path in enumerate(paths):
        payload, runs = read_results(path)
        kept = [r for r in runs if selection.keeps(r.spec)]
        read.append((payload, len(kept)))
        for run in kept:
            chosen[run.spec] = (i, run)
    used = [0] * len(paths)
    for i, _ in chosen.values():
        used[i] += 1
    sources = [
        Source(
            file=str(path),
            command=str(payload.get("command", "?")),
            date=str(payload.get("date", "?")),
            cpu=_cpu_of(payload),
            runs_read=n_read,
            runs_used=used[i],
            runs_replaced=n_read - used[i],
        )
        for i, (path, (payload, n_read)) in enumerate(zip(paths, read, strict=True))
    ]
    order = sorted(chosen, key=lambda s: (s.optimizer, s.problem, s.batch, s.seed, s.n_evals))
    return [chosen[s][1] for s in order], sources


def _cpu_of(payload: dict[str, Any]) -> str:
    """Where a file's runs were measured. A merged file's own ``machine`` is where the merge ran,
    so its runs' CPUs are those its sources recorded ("?" for files older than this field)."""
    merged = payload.get("merged_from")
    if merged is not None:
        return "; ".join(sorted({str(s.get("cpu", "?")) for s in merged}))
    return str(payload.get("machine", {}).get("cpu", "?"))


def sources_note(sources: Sequence[Source]) -> str:
    """Markdown lines naming every merged file (for the report's notes)."""
    lines = [f"Merged from {len(sources)} results files (later files win on equal runs):"]
    for s in sources:
        replaced = f", {s.runs_replaced} replaced by later files" if s.runs_replaced else ""
        lines.append(
            f"- `{s.file}` ({s.date}, {s.cpu}; `{s.command}`): {s.runs_used} runs used{replaced}"
        )
    return "\n".join(lines)


def sources_json(sources: Sequence[Source]) -> list[dict[str, Any]]:
    return [asdict(s) for s in sources]
