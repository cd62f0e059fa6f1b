"""The demo's training script, written the way a SageMaker script is (run by ``amtune demo``).

It reads ``hyperparameters.json`` from ``SM_INPUT_CONFIG_DIR`` (``/opt/ml/input/config`` on
SageMaker), trains scikit-learn's gradient boosting on the breast-cancer data set that
scikit-learn ships, prints ``validation:accuracy=<value>`` every 10 boosting stages (the
MetricDefinitions regex picks those up; the last one is the objective) and saves the model to
``SM_MODEL_DIR``. A copy meant for reading is ``examples/sagemaker_style/train.py``.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any


def load_hyperparameters() -> dict[str, Any]:
    config_dir = Path(os.environ.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config"))
    raw = json.loads((config_dir / "hyperparameters.json").read_text())
    return {k: v for k, v in raw.items() if not k.startswith(("_", "sagemaker_"))}


def main() -> int:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    hps = load_hyperparameters()
    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)
    model = GradientBoostingClassifier(
        learning_rate=float(hps.get("learning_rate", 0.1)),
        max_depth=int(hps.get("max_depth", 3)),
        n_estimators=int(hps.get("n_estimators", 100)),
        subsample=float(hps.get("subsample", 1.0)),
        random_state=0,
    )
    model.fit(x_train, y_train)
    for stage, predicted in enumerate(model.staged_predict(x_val), start=1):
        if stage % 10 == 0 or stage == model.n_estimators_:
            accuracy = float((predicted == y_val).mean())
            print(f"stage {stage}: validation:accuracy={accuracy:.4f}")
    model_dir = Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "model.pkl").write_bytes(pickle.dumps(model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
