"""One line per training job on the terminal: when it starts and when it ends.

The end line carries the job's outcome and latest objective, and the tuning job's best so far
(from Describe), which is what someone watching a tuning run wants to see scroll by.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO


def format_hyperparameters(hyperparameters: Mapping[str, str], width: int = 120) -> str:
    shown = " ".join(
        f"{k}={v}" for k, v in sorted(hyperparameters.items()) if not k.startswith("_")
    )
    return shown if len(shown) <= width else shown[: width - 3] + "..."


def format_value(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


class Progress:
    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._quiet = quiet
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        if self._quiet:
            return
        with self._lock:
            print(f"[amtune] {text}", file=self._stream, flush=True)

    def started(self, name: str, hyperparameters: Mapping[str, str]) -> None:
        self.line(f"{name}  started    {format_hyperparameters(hyperparameters)}")

    def ended(
        self,
        name: str,
        outcome: str,
        *,
        objective_name: str | None,
        objective: float | None,
        best: Mapping[str, Any] | None,
        seconds: float,
        detail: str = "",
    ) -> None:
        metric = objective_name or "objective"
        best_text = "best -"
        if best:
            value = (best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
            best_text = f"best {format_value(value)} ({best.get('TrainingJobName', '?')})"
        text = (
            f"{name}  {outcome:<10} {metric}={format_value(objective)}  {best_text}  {seconds:.1f}s"
        )
        if detail:
            text += f"  {detail}"
        self.line(text)
