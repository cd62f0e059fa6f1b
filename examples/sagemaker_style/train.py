"""A SageMaker training script, unchanged: it runs on SageMaker and under ``amtune worker``.

Like most SageMaker scripts it takes its hyperparameters as ``--name value`` arguments (the
SageMaker training toolkit passes them, and so does ``amtune worker``), falls back to
``hyperparameters.json`` in ``SM_INPUT_CONFIG_DIR`` (``/opt/ml/input/config``), prints its metric
where the tuning job's MetricDefinitions regex finds it::

    validation:accuracy=0.9833

and saves the model to ``SM_MODEL_DIR`` (``/opt/ml/model``). The data is scikit-learn's bundled
handwritten-digits set, so nothing has to be downloaded. On failure it writes the reason to
``/opt/ml/output/failure``, which becomes the training job's FailureReason.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from pathlib import Path

OPT_ML = Path("/opt/ml")


def hyperparameters_file() -> dict[str, str]:
    config_dir = Path(os.environ.get("SM_INPUT_CONFIG_DIR", OPT_ML / "input" / "config"))
    path = config_dir / "hyperparameters.json"
    return json.loads(path.read_text()) if path.exists() else {}


def parse_args() -> argparse.Namespace:
    defaults = hyperparameters_file()
    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, default=float(defaults.get("C", 1.0)))
    parser.add_argument("--gamma", type=float, default=float(defaults.get("gamma", 0.001)))
    parser.add_argument("--kernel", default=defaults.get("kernel", "rbf"))
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", OPT_ML / "model"))
    args, _unknown = parser.parse_known_args()  # SageMaker may pass more than we use
    return args


def main() -> int:
    args = parse_args()
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.25, random_state=0)
    print(f"training SVC(C={args.C}, gamma={args.gamma}, kernel={args.kernel})")
    model = SVC(C=args.C, gamma=args.gamma, kernel=args.kernel).fit(x_train, y_train)
    accuracy = model.score(x_val, y_val)
    print(f"validation:accuracy={accuracy:.4f}")
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "model.pkl").write_bytes(pickle.dumps(model))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:
        output = Path(os.environ.get("SM_OUTPUT_DIR", OPT_ML / "output"))
        output.mkdir(parents=True, exist_ok=True)
        (output / "failure").write_text(f"{type(exc).__name__}: {exc}")
        raise
