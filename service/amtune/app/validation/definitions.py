"""Training-job definitions: which objective and ranges apply to each, and their own rules.

A request carries either one ``TrainingJobDefinition`` (objective and ranges live in
``HyperParameterTuningJobConfig``) or a list ``TrainingJobDefinitions`` (each definition
carries its own ``DefinitionName``, ``TuningObjective`` and ``HyperParameterRanges``, as the
SageMaker SDK sends them). Mixing the two placements is refused rather than guessed at, so
the service can read objective and ranges from exactly one place per definition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from amtune.app.domain import OBJECTIVE_METRIC_KEY
from amtune.app.validation.ranges import tuned_names
from amtune.app.validation.semantic import as_list, as_map, given, reject
from amtune.app.validation.shapes import element_path

MAX_METRIC_DEFINITIONS = 20
"""Quota on metrics per tuning job (the model allows 40 entries)."""
MAX_HYPERPARAMETERS = 100
"""Static + tuned hyperparameters + ``_tuning_objective_metric``."""
MAX_TRAINING_RUNTIME_SECONDS = 28 * 24 * 3600
MAX_ENVIRONMENT_VARIABLES = 48
"""Summed over all definitions of a tuning job (model documentation)."""

METRIC_REQUIRED_TEXT = (
    "A metric is required for this hyperparameter tuning job objective. "
    "Provide a metric in the metric definitions."
)


@dataclass(frozen=True)
class Definition:
    """One training-job definition with the objective and ranges that apply to it."""

    body: Mapping[str, Any]
    path: str
    objective: Mapping[str, Any] | None
    objective_path: str
    ranges: Mapping[str, Any]
    ranges_path: str


def collect_definitions(request: Mapping[str, Any], *, autotune: bool) -> list[Definition]:
    """The definitions of a request, each paired with its objective and ranges."""
    config = as_map(request, "HyperParameterTuningJobConfig")
    has_single = given(request, "TrainingJobDefinition")
    has_multi = given(request, "TrainingJobDefinitions")
    if has_single and has_multi:
        reject(
            "Both 'trainingJobDefinition' and 'trainingJobDefinitions' are specified. "
            "Provide exactly one of TrainingJobDefinition or TrainingJobDefinitions."
        )
    if not has_single and not has_multi:
        reject(
            "Neither 'trainingJobDefinition' nor 'trainingJobDefinitions' is specified. "
            "Provide exactly one of TrainingJobDefinition or TrainingJobDefinitions."
        )
    if has_single:
        return [_single(request["TrainingJobDefinition"], config, autotune=autotune)]
    return _multiple(request["TrainingJobDefinitions"], config, autotune=autotune)


def _single(body: Mapping[str, Any], config: Mapping[str, Any], *, autotune: bool) -> Definition:
    path = "trainingJobDefinition"
    for member in ("TuningObjective", "HyperParameterRanges"):
        if given(body, member):
            camel = member[:1].lower() + member[1:]
            reject(
                f"'{path}.{camel}' is only used with TrainingJobDefinitions. With a single "
                "TrainingJobDefinition, put the objective and ranges in "
                "HyperParameterTuningJobConfig."
            )
    objective_path = "hyperParameterTuningJobConfig.hyperParameterTuningJobObjective"
    objective = config.get("HyperParameterTuningJobObjective")
    if objective is None and not autotune:
        reject(
            f"No objective is specified at '{objective_path}'. Provide a "
            "HyperParameterTuningJobObjective with a Type and a MetricName."
        )
    return Definition(
        body=body,
        path=path,
        objective=objective,
        objective_path=objective_path,
        ranges=as_map(config, "ParameterRanges"),
        ranges_path="hyperParameterTuningJobConfig.parameterRanges",
    )


def _multiple(
    bodies: Sequence[Mapping[str, Any]], config: Mapping[str, Any], *, autotune: bool
) -> list[Definition]:
    for member in ("HyperParameterTuningJobObjective", "ParameterRanges"):
        if given(config, member):
            camel = member[:1].lower() + member[1:]
            reject(
                f"'hyperParameterTuningJobConfig.{camel}' cannot be used with "
                "TrainingJobDefinitions. Put a TuningObjective and HyperParameterRanges in each "
                "training job definition instead."
            )
    definitions: list[Definition] = []
    names: dict[str, str] = {}
    for index, body in enumerate(bodies):
        path = element_path("trainingJobDefinitions", index)
        name = body.get("DefinitionName")
        if name is None:
            reject(
                f"No DefinitionName is specified at '{path}.definitionName'. Every definition "
                "in TrainingJobDefinitions needs a unique DefinitionName."
            )
        if name in names:
            reject(
                f"The DefinitionName '{name}' at '{path}.definitionName' is already used at "
                f"'{names[name]}.definitionName'. Provide unique definition names."
            )
        names[name] = path
        objective = body.get("TuningObjective")
        if objective is None and not autotune:
            reject(
                f"No objective is specified at '{path}.tuningObjective'. Provide a "
                "TuningObjective with a Type and a MetricName for every training job definition."
            )
        definitions.append(
            Definition(
                body=body,
                path=path,
                objective=objective,
                objective_path=f"{path}.tuningObjective",
                ranges=as_map(body, "HyperParameterRanges"),
                ranges_path=f"{path}.hyperParameterRanges",
            )
        )
    _check_objective_types(definitions)
    return definitions


def _check_objective_types(definitions: Sequence[Definition]) -> None:
    """Jobs of all definitions are ranked together, so they must agree on the direction."""
    first: Definition | None = None
    for definition in definitions:
        if definition.objective is None:
            continue
        if first is None or first.objective is None:
            first = definition
        elif definition.objective["Type"] != first.objective["Type"]:
            reject(
                f"The objective Type '{definition.objective['Type']}' at "
                f"'{definition.objective_path}.type' differs from '{first.objective['Type']}' at "
                f"'{first.objective_path}.type'. All training job definitions must use the same "
                "objective Type."
            )


def check_definition(definition: Definition) -> None:
    """Rules local to one definition (ranges are checked separately, before this)."""
    _check_algorithm(definition)
    _check_resources(definition)
    _check_stopping_condition(definition)
    _check_hyperparameters(definition)
    _check_channels(definition)


def _check_algorithm(definition: Definition) -> None:
    spec = as_map(definition.body, "AlgorithmSpecification")
    path = f"{definition.path}.algorithmSpecification"
    has_image = given(spec, "TrainingImage")
    has_algorithm = given(spec, "AlgorithmName")
    if has_image and not spec["TrainingImage"]:
        reject(
            f"The TrainingImage at '{path}.trainingImage' is empty. Provide the image URI of "
            "the training container, or use AlgorithmName instead."
        )
    if has_image == has_algorithm:
        which = "both" if has_image else "neither"
        reject(
            f"The AlgorithmSpecification at '{path}' specifies {which} of TrainingImage and "
            "AlgorithmName. Provide exactly one of TrainingImage or AlgorithmName."
        )
    metrics = as_list(spec, "MetricDefinitions")
    if len(metrics) > MAX_METRIC_DEFINITIONS:
        reject(
            f"The {len(metrics)} MetricDefinitions at '{path}.metricDefinitions' exceed the "
            f"limit of {MAX_METRIC_DEFINITIONS} metrics per tuning job. Remove metric definitions."
        )
    seen: set[str] = set()
    for index, metric in enumerate(metrics):
        if metric["Name"] in seen:
            reject(
                f"The metric name '{metric['Name']}' at "
                f"'{element_path(path + '.metricDefinitions', index)}.name' is defined more than "
                "once. Provide unique metric names."
            )
        seen.add(metric["Name"])
        _check_metric_regex(metric, f"{element_path(path + '.metricDefinitions', index)}.regex")
    objective = definition.objective
    if has_image and objective is not None and objective["MetricName"] not in seen:
        reject(
            f"{METRIC_REQUIRED_TEXT} The objective metric '{objective['MetricName']}' at "
            f"'{definition.objective_path}.metricName' is not defined in "
            f"'{path}.metricDefinitions'."
        )


def _check_metric_regex(metric: dict[str, Any], path: str) -> None:
    """Refuse at Create a regex the workers could never apply, instead of a tuning job whose
    every training job fails to report. Compiled as the workers compile it (Python's ``re``,
    the value taken from the first capture group)."""
    try:
        groups = re.compile(metric["Regex"]).groups
    except re.error as exc:
        reject(
            f"The Regex '{metric['Regex']}' of the metric definition '{metric['Name']}' at "
            f"'{path}' is not a valid regular expression ({exc}). Provide a regular "
            "expression whose first capture group matches the metric value."
        )
    if groups == 0:
        reject(
            f"The Regex '{metric['Regex']}' of the metric definition '{metric['Name']}' at "
            f"'{path}' has no capture group. Put the metric value in a capture group, "
            "for example 'loss=([0-9\\.]+)'."
        )


def _check_resources(definition: Definition) -> None:
    body = definition.body
    has_plain = given(body, "ResourceConfig")
    has_tuning = given(body, "HyperParameterTuningResourceConfig")
    if has_plain == has_tuning:
        which = "both" if has_plain else "neither"
        reject(
            f"The training job definition at '{definition.path}' specifies {which} of "
            "ResourceConfig and HyperParameterTuningResourceConfig. Provide exactly one of "
            "'resourceConfig' or 'hyperParameterTuningResourceConfig'."
        )
    if has_plain:
        config = as_map(body, "ResourceConfig")
        if not given(config, "InstanceType") and not given(config, "InstanceGroups"):
            reject(
                f"No InstanceType is specified at '{definition.path}.resourceConfig."
                "instanceType'. Provide an InstanceType such as 'ml.m5.large'."
            )
        return
    path = f"{definition.path}.hyperParameterTuningResourceConfig"
    config = as_map(body, "HyperParameterTuningResourceConfig")
    has_type = given(config, "InstanceType")
    has_configs = given(config, "InstanceConfigs")
    if has_type == has_configs:
        which = "both" if has_type else "neither"
        reject(
            f"The HyperParameterTuningResourceConfig at '{path}' specifies {which} of "
            "InstanceType and InstanceConfigs. Provide exactly one of 'instanceType' or "
            "'instanceConfigs'."
        )


def _check_stopping_condition(definition: Definition) -> None:
    runtime = as_map(definition.body, "StoppingCondition").get("MaxRuntimeInSeconds")
    if runtime is not None and runtime > MAX_TRAINING_RUNTIME_SECONDS:
        reject(
            f"The MaxRuntimeInSeconds {runtime} at '{definition.path}.stoppingCondition."
            f"maxRuntimeInSeconds' exceeds 28 days. Provide at most "
            f"{MAX_TRAINING_RUNTIME_SECONDS} seconds."
        )


def _check_hyperparameters(definition: Definition) -> None:
    static = as_map(definition.body, "StaticHyperParameters")
    static_path = f"{definition.path}.staticHyperParameters"
    tuned = tuned_names(definition.ranges)
    for name in tuned:
        if name in static:
            reject(
                f"The hyperparameter '{name}' is both tuned in '{definition.ranges_path}' and "
                f"static in '{static_path}'. Remove it from StaticHyperParameters or from the "
                "ranges."
            )
    _check_objective_key(definition, static, static_path)
    total = len(static) + len(tuned) + (0 if OBJECTIVE_METRIC_KEY in static else 1)
    if total > MAX_HYPERPARAMETERS:
        reject(
            f"The training job definition at '{definition.path}' has {total} hyperparameters "
            f"(StaticHyperParameters at '{static_path}', tuned ranges at "
            f"'{definition.ranges_path}' and {OBJECTIVE_METRIC_KEY}); at most "
            f"{MAX_HYPERPARAMETERS} are allowed. Remove hyperparameters."
        )


def _check_objective_key(
    definition: Definition, static: Mapping[str, Any], static_path: str
) -> None:
    """A static ``_tuning_objective_metric`` may only repeat the objective's metric name (as
    Describe echoes it back, and the SageMaker SDK's ``attach`` resubmits it): the service
    sets that key in every training job, and a different value would be silently replaced."""
    if OBJECTIVE_METRIC_KEY not in static or definition.objective is None:
        return
    metric = definition.objective.get("MetricName")
    value = static[OBJECTIVE_METRIC_KEY]
    if value != metric:
        reject(
            f"The static hyperparameter '{OBJECTIVE_METRIC_KEY}' at '{static_path}' is "
            f"'{value}', but the objective metric at '{definition.objective_path}.metricName' "
            f"is '{metric}'. The service sets {OBJECTIVE_METRIC_KEY} to the objective metric "
            "name; remove it from StaticHyperParameters or make the two agree."
        )


def _check_channels(definition: Definition) -> None:
    path = f"{definition.path}.inputDataConfig"
    seen: set[str] = set()
    for index, channel in enumerate(as_list(definition.body, "InputDataConfig")):
        name = channel["ChannelName"]
        if name in seen:
            reject(
                f"The channel name '{name}' at '{element_path(path, index)}.channelName' is used "
                "more than once. Provide unique channel names."
            )
        seen.add(name)


def check_environment_total(definitions: Sequence[Definition]) -> None:
    total = sum(len(as_map(d.body, "Environment")) for d in definitions)
    if len(definitions) > 1 and total > MAX_ENVIRONMENT_VARIABLES:
        reject(
            f"The training job definitions at 'trainingJobDefinitions' set {total} Environment "
            f"variables in total; at most {MAX_ENVIRONMENT_VARIABLES} are allowed across all "
            "definitions. Remove environment variables."
        )
