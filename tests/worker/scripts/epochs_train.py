"""A training script that prints its objective once per epoch, for the early-stopping tests.

Its accuracy per epoch comes from the static hyperparameter ``curves``: ``;``-separated
comma lists, the n-th for the tuning job's n-th training job (read from TRAINING_JOB_NAME,
``<tuning-job>-NNN-<hex>``), the last list for every later job. A job whose list ends with
``+`` keeps training after it, printing its last value every ``pause`` seconds, until it is
stopped (a bounded number of epochs, so a test that fails does not hang). ``on_sigterm``:
``exit`` (save and exit 0, as SageMaker scripts should) or ``ignore`` (the worker must kill it).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

MAX_EPOCHS = 3000


def main() -> int:
    config_dir = Path(os.environ["SM_INPUT_CONFIG_DIR"])
    hps = json.loads((config_dir / "hyperparameters.json").read_text())
    seq = int(os.environ["TRAINING_JOB_NAME"].rsplit("-", 2)[1])
    curves = hps["curves"].split(";")
    spec = curves[min(seq, len(curves)) - 1]
    keep_training = spec.endswith("+")
    curve = [float(v) for v in spec.rstrip("+").split(",")]
    pause = float(hps.get("pause", "0.1"))

    def on_term(signum: int, frame: object) -> None:
        print("got SIGTERM", flush=True)
        if hps.get("on_sigterm", "exit") == "exit":
            sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    epochs = MAX_EPOCHS if keep_training else len(curve)
    for epoch in range(1, epochs + 1):
        value = curve[min(epoch, len(curve)) - 1]
        print(f"epoch {epoch}: validation:accuracy={value:.6f}", flush=True)
        if epoch >= len(curve):
            time.sleep(pause)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
