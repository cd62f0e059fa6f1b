"""The same tuning, with the training code in Python and amtune's worker API instead of a script.

    python examples/boto3_tune.py --endpoint http://127.0.0.1:8000 --name digits-py
    python examples/python_worker.py --endpoint http://127.0.0.1:8000 --name digits-py

Start as many of these as you like, on any machines that reach the service. Each takes training
jobs until the tuning job is over: the hyperparameters arrive typed (C and gamma as floats,
kernel as a string), heartbeats run in the background, and the job is completed when the loop
body ends (or failed with the exception, if it raises).
"""

from __future__ import annotations

import argparse
import sys

import amtune

OBJECTIVE = "validation:accuracy"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:8000")
    parser.add_argument("--name", default="digits-py")
    args = parser.parse_args()

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.25, random_state=0)

    for job in amtune.Worker(args.endpoint, args.name).jobs():
        with job:
            hps = job.hyperparameters
            model = SVC(C=hps["C"], gamma=hps["gamma"], kernel=hps["kernel"])
            accuracy = model.fit(x_train, y_train).score(x_val, y_val)
            job.report(OBJECTIVE, accuracy)
            print(f"{job.name}: {hps} -> {OBJECTIVE}={accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
