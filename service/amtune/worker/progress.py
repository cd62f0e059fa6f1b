"""What ``amtune worker`` prints: a line per training job, and where the tuning job stands.

A line per training job when it starts and when it ends; the end line carries the job's outcome
and latest objective, and the tuning job's best so far (from Describe). Where the tuning job
stands (:func:`amtune.worker.status.status_line`) is shown two ways:

* on a terminal, as one live line at the bottom, redrawn in place (carriage return and "erase
  to end of line") whenever something happens, with the job lines scrolling above it;
* in a log (not a terminal), as one plain ``progress:`` line per training job that ends.

The standard library's ``\r`` does the live line: the light client install (httpx and the
standard library) stays light, and one line needs neither rich's layout engine nor tqdm's
rate meters (the time left comes from the service's counts, not from a local rate).
"""

from __future__ import annotations

import shutil
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


CLEAR_LINE = "\r\x1b[K"


class Progress:
    def __init__(
        self, stream: TextIO | None = None, *, quiet: bool = False, live: bool | None = None
    ) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._quiet = quiet
        self._live = live if live is not None else _is_terminal(self._stream)
        self._lock = threading.Lock()
        self._status = ""

    @property
    def live(self) -> bool:
        return self._live

    def line(self, text: str) -> None:
        if self._quiet:
            return
        with self._lock:
            if self._live and self._status:
                self._stream.write(CLEAR_LINE)
            self._stream.write(f"[amtune] {text}\n")
            if self._live and self._status:
                self._stream.write(self._fitted(self._status))
            self._stream.flush()

    def status(self, text: str, *, event: bool) -> None:
        """Where the tuning job stands: redrawn in place on a terminal; in a log, printed as a
        line only for an ``event`` (a training job ended)."""
        if self._quiet:
            return
        if not self._live:
            if event:
                self.line(f"progress: {text}")
            return
        with self._lock:
            self._status = text
            self._stream.write(CLEAR_LINE + self._fitted(text))
            self._stream.flush()

    def close(self) -> None:
        """End the live line so that whatever prints next starts on a line of its own."""
        with self._lock:
            if self._live and self._status and not self._quiet:
                self._stream.write("\n")
                self._stream.flush()
            self._status = ""

    @staticmethod
    def _fitted(text: str) -> str:
        width = shutil.get_terminal_size((120, 24)).columns - 1
        return text if len(text) <= width else text[: max(0, width - 3)] + "..."

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


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
