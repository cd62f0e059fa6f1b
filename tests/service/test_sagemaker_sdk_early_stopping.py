"""The SageMaker Python SDK v2 with ``early_stopping_type="Auto"`` and ``strategy="Hyperband"``:
fit, the workers reporting per epoch over the REST protocol, wait, analytics() and attach()."""

from __future__ import annotations

from typing import Any

from tests.service.protocol import RestWorker
from tests.service.test_sagemaker_sdk import (  # noqa: F401 (sdk is a fixture)
    METRIC_DEFINITIONS,
    OBJECTIVE,
    Sdk,
    estimator,
    sdk,
)


def ranges(tuner_module: Any) -> dict[str, Any]:
    # All three kinds: attach() rebuilds the ranges and needs every kind in Describe.
    return {
        "eta": tuner_module.ContinuousParameter(0.01, 0.3),
        "max_depth": tuner_module.IntegerParameter(3, 9),
        "booster": tuner_module.CategoricalParameter(["gbtree", "dart"]),
    }


def train(worker: RestWorker, tuning_job: str, curve: list[float]) -> tuple[str, int, bool]:
    """One training job reporting ``curve`` an epoch at a time until told to stop, then ending
    as a SageMaker container does (it exits; the worker completes it). (name, epochs, stopped)"""
    name = worker.claim_job(tuning_job)["TrainingJobName"]
    stopped = False
    epochs = 0
    for epoch, value in enumerate(curve, start=1):
        response = worker.metrics(name, OBJECTIVE, value, step=epoch)
        assert response.status_code == 200, response.text
        epochs = epoch
        if response.json()["StopRequested"]:
            stopped = True
            break
    assert worker.complete(name).status_code == 200
    return name, epochs, stopped


def test_early_stopping_auto_through_the_sdk(sdk: Sdk) -> None:  # noqa: F811
    tuner_module = sdk.sagemaker.tuner
    tuner = tuner_module.HyperparameterTuner(
        estimator(sdk),
        objective_metric_name=OBJECTIVE,
        hyperparameter_ranges=ranges(tuner_module),
        metric_definitions=METRIC_DEFINITIONS,
        strategy="Bayesian",
        early_stopping_type="Auto",
        max_jobs=5,
        max_parallel_jobs=1,
    )
    tuner.fit(inputs="s3://bucket/train", job_name="sdk-auto", wait=False)
    assert tuner.describe()["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] == (
        "Auto"
    )
    worker = RestWorker(sdk.url)
    runs = [train(worker, "sdk-auto", [0.7, 0.8, 0.9]) for _ in range(3)]
    runs.append(train(worker, "sdk-auto", [0.2, 0.3, 0.4]))  # below the median at epoch 1
    runs.append(train(worker, "sdk-auto", [0.8, 0.85, 0.95]))
    assert [(epochs, stopped) for _, epochs, stopped in runs] == [
        (3, False),
        (3, False),
        (3, False),
        (1, True),
        (3, False),
    ]
    tuner.wait()
    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Completed"
    counters = tuner.describe()["TrainingJobStatusCounters"]
    assert (counters["Completed"], counters["Stopped"]) == (4, 1)

    frame = tuner.analytics().dataframe()
    rows = {row["TrainingJobName"]: row for row in frame.to_dict("records")}
    stopped_name = runs[3][0]
    assert rows[stopped_name]["TrainingJobStatus"] == "Stopped"
    assert rows[stopped_name]["FinalObjectiveValue"] == 0.2
    assert tuner.best_training_job() == runs[4][0]

    attached = tuner_module.HyperparameterTuner.attach("sdk-auto", sagemaker_session=sdk.session)
    assert attached.early_stopping_type == "Auto"
    assert attached.strategy == "Bayesian"
    assert attached.best_training_job() == runs[4][0]
    assert sdk.network_attempts == []


def test_hyperband_through_the_sdk(sdk: Sdk) -> None:  # noqa: F811
    tuner_module = sdk.sagemaker.tuner
    config = tuner_module.StrategyConfig(
        hyperband_strategy_config=tuner_module.HyperbandStrategyConfig(
            max_resource=9, min_resource=1
        )
    )
    tuner = tuner_module.HyperparameterTuner(
        estimator(sdk),
        objective_metric_name=OBJECTIVE,
        hyperparameter_ranges=ranges(tuner_module),
        metric_definitions=METRIC_DEFINITIONS,
        strategy="Hyperband",
        strategy_config=config,
        max_jobs=4,
        max_parallel_jobs=1,
    )
    tuner.fit(inputs="s3://bucket/train", job_name="sdk-hyperband", wait=False)
    described = tuner.describe()["HyperParameterTuningJobConfig"]
    assert described["Strategy"] == "Hyperband"
    assert described["StrategyConfig"] == {
        "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}
    }
    worker = RestWorker(sdk.url)
    long = [0.5 + epoch / 100 for epoch in range(1, 30)]  # would train past MaxResource
    runs = [
        train(worker, "sdk-hyperband", long),
        train(worker, "sdk-hyperband", [v + 0.1 for v in long]),
        train(worker, "sdk-hyperband", [0.1] * 29),  # third at rung 1 and the worst: stopped
        train(worker, "sdk-hyperband", [v + 0.2 for v in long]),
    ]
    assert [(epochs, stopped) for _, epochs, stopped in runs] == [
        (9, True),
        (9, True),
        (1, True),
        (9, True),
    ]
    tuner.wait()
    counters = tuner.describe()["TrainingJobStatusCounters"]
    assert (counters["Completed"], counters["Stopped"]) == (3, 1)
    frame = tuner.analytics().dataframe()
    rows = {row["TrainingJobName"]: row for row in frame.to_dict("records")}
    assert rows[runs[2][0]]["TrainingJobStatus"] == "Stopped"
    assert rows[runs[3][0]]["FinalObjectiveValue"] == round(0.7 + 9 / 100, 6)
    assert tuner.best_training_job() == runs[3][0]

    attached = tuner_module.HyperparameterTuner.attach(
        "sdk-hyperband", sagemaker_session=sdk.session
    )
    assert attached.strategy == "Hyperband"
    assert attached.early_stopping_type == "Off"
    assert attached.best_training_job() == runs[3][0]
    assert sdk.network_attempts == []
