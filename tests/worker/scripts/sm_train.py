"""A SageMaker-style training script for the worker tests; its behaviour is set by ``mode``.

It reads /opt/ml-style files and environment exactly as an unchanged SageMaker script would,
records what it saw in ``model/seen.json`` (for the tests to check the hand-off), and prints
metrics for the MetricDefinitions regexes. The objective is a known function of ``x`` and ``y``
so the tests can recompute it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path


def objective(x: float, y: int) -> float:
    return round(1.0 - (x - 0.3) ** 2 - 0.01 * y, 6)


def main() -> int:
    config_dir = Path(os.environ["SM_INPUT_CONFIG_DIR"])
    hps = json.loads((config_dir / "hyperparameters.json").read_text())
    model_dir = Path(os.environ["SM_MODEL_DIR"])
    seen = {
        "hyperparameters.json": hps,
        "argv": sys.argv[1:],
        "env": {k: v for k, v in os.environ.items() if k.startswith(("SM_", "TRAINING_JOB"))},
        "resourceconfig": json.loads((config_dir / "resourceconfig.json").read_text()),
        "cwd": os.getcwd(),
    }
    (model_dir / "seen.json").write_text(json.dumps(seen, indent=2))
    mode = hps.get("mode", "ok")
    x = float(hps.get("x", "0.5"))
    y = int(hps.get("y", "1"))

    def on_term(signum: int, frame: object) -> None:
        print("got SIGTERM, saving and exiting", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)

    if mode == "ok":
        for epoch in range(1, 4):
            print(f"epoch {epoch} train_loss={1.0 / epoch:.4f}")
            print(
                f"epoch {epoch}: validation:accuracy={objective(x, y) - 0.1 / epoch:.6f}",
                file=sys.stderr,
            )
        print(f"final validation:accuracy={objective(x, y):.6f}")
        return 0
    if mode == "fail":
        print("loading data")
        (Path(os.environ["SM_OUTPUT_DIR"]) / "failure").write_text("bad input: boom")
        print("Traceback: something went wrong", file=sys.stderr)
        return 3
    if mode == "noobjective":
        print("epoch 1 train_loss=0.5")
        return 0
    if mode in ("wait", "gate"):
        gate = Path(hps["gate"])
        step = 0
        while not gate.exists():
            step += 1
            print(f"waiting {step} train_loss={1.0 / step:.4f}", flush=True)
            time.sleep(0.2)
        print(f"final validation:accuracy={objective(x, y):.6f}", flush=True)
        return 0
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    raise SystemExit(main())
