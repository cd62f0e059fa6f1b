"""The committed OpenAPI document is the contract workers and the SDK are built against."""

from __future__ import annotations

import json
from pathlib import Path

from amtune.cli import openapi_document


def test_committed_openapi_matches_the_app(repo_root: Path) -> None:
    committed = json.loads((repo_root / "openapi" / "openapi.json").read_text())
    assert committed == json.loads(json.dumps(openapi_document())), (
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    )


def test_worker_protocol_paths_are_documented(repo_root: Path) -> None:
    paths = json.loads((repo_root / "openapi" / "openapi.json").read_text())["paths"]
    for path in (
        "/v1/tuning-jobs/{TuningJobName}/claims",
        "/v1/training-jobs/{TrainingJobName}/heartbeat",
        "/v1/training-jobs/{TrainingJobName}/metrics",
        "/v1/training-jobs/{TrainingJobName}/complete",
        "/v1/training-jobs/{TrainingJobName}/fail",
    ):
        assert "post" in paths[path], path
    claim = paths["/v1/tuning-jobs/{TuningJobName}/claims"]["post"]["responses"]
    assert {"200", "204", "404", "409"} <= set(claim)
