"""The console in a real browser against a live ``amtune serve``, on SQLite and PostgreSQL.

Open mode (one account, loopback): the list, a running tuning job whose page follows new
training jobs without a reload, plots drawn from the jobs' real data, a training job stopped
from the page, the CSV download against the API, and an accessibility check of every page.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.app.requests import random_request
from tests.console.browser import REPO, accessibility_problems, browser, drawn
from tests.service.processes import ServerProcess
from tests.service.protocol import RestWorker

__all__ = ["browser"]
METRIC = "validation:accuracy"
JOB = "console-live"


def objective(eta: str) -> float:
    """The objective depends on eta alone, so importance has something to find."""
    return round(0.5 + float(eta), 6)


@pytest.fixture
def server(database_url: str, settings: Any) -> Iterator[ServerProcess]:
    with ServerProcess(database_url, settings.account_id) as live:
        yield live


def run_jobs(worker: RestWorker, count: int) -> dict[str, float]:
    """Claim, report five steps of two metrics, complete: the objective of each job."""
    values = {}
    for _ in range(count):
        claim = worker.claim_job(JOB)
        job, value = claim["TrainingJobName"], objective(claim["HyperParameters"]["eta"])
        for step in range(1, 6):
            worker.metrics(job, METRIC, value * step / 5, step=step)
            worker.metrics(job, "train:loss", 1 / step, step=step)
        assert worker.complete(job).status_code == 200
        values[job] = value
    return values


def all_training_jobs(url: str) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    params: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Ascending"}
    while True:
        page = httpx.get(f"{url}/v1/tuning-jobs/{JOB}/training-jobs", params=params).json()
        jobs += page["TrainingJobSummaries"]
        if not page.get("NextToken"):
            return jobs
        params["NextToken"] = page["NextToken"]


FIRST_COLOUR = "#5070dd"  # ECharts' first series colour: the dots, the bars


def shapes_filled(page: Page, selector: str, colour: str) -> int:
    """Shapes of one colour, with an area, that ECharts drew in ``selector``'s SVG."""
    count: int = page.evaluate(
        "([s, c]) => [...document.querySelectorAll(s + ' svg path')]"
        ".filter((p) => p.getAttribute('fill') === c)"
        ".filter((p) => { const b = p.getBBox(); return b.width > 0 && b.height > 0; }).length",
        [selector, colour],
    )
    return count


def shoot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def test_a_running_tuning_job_seen_live_in_the_browser(
    browser: Browser, server: ServerProcess, tmp_path: Path
) -> None:
    created = httpx.post(f"{server.url}/v1/tuning-jobs", json=random_request(JOB, 40, 3))
    assert created.status_code == 201, created.text
    worker = RestWorker(server.url, "worker-a")
    done = run_jobs(worker, 8)
    failing = worker.claim_job(JOB)["TrainingJobName"]
    worker.metrics(failing, METRIC, 0.1, step=1)
    assert worker.fail(failing, "CUDA out of memory").status_code == 200

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{server.url}/console/")
    row = page.locator("#tuning-jobs tbody tr", has_text=JOB)
    expect(row).to_contain_text("InProgress")
    expect(row).to_contain_text("Random")
    expect(row).to_contain_text(str(max(done.values())))  # Maximize: the highest is the best
    assert accessibility_problems(page) == []
    shoot(page, tmp_path, "tuning-jobs")

    page.locator("#tuning-jobs a", has_text=JOB).click()
    expect(page.locator("body")).to_have_attribute("data-rendered", "9")
    expect(page.locator("#summary")).to_contain_text("9 training jobs")
    expect(page.locator("#best")).to_contain_text(METRIC)
    # Every plot is drawn from the jobs' data: at least one shape per completed job.
    assert drawn(page, "#history") >= len(done)
    assert drawn(page, "#parallel") >= len(done)
    hyperparameters = 4  # eta, subsample, booster, max_depth
    expect(page.locator("#slices .chart")).to_have_count(hyperparameters)
    assert drawn(page, "#slices .chart:first-child") >= len(done)
    assert shapes_filled(page, "#importance", FIRST_COLOUR) >= 1  # eta's bar at least
    assert shapes_filled(page, "#history", FIRST_COLOUR) >= len(done)  # one dot per job
    assert drawn(page, "#contour") >= 2
    assert drawn(page, "#timeline") >= len(done) + 1
    expect(page.locator("#curve-metric option")).to_have_count(2)
    assert page.locator("#curves svg path").count() >= len(done)
    expect(page.locator("#boto3")).to_contain_text("create_hyper_parameter_tuning_job")
    expect(page.locator("#training-jobs tbody tr")).to_have_count(9)
    assert accessibility_problems(page) == []
    shoot(page, tmp_path, "tuning-job")
    if os.environ.get("AMTUNE_CONSOLE_SCREENSHOT"):  # refreshes the README's picture
        page.locator("section[aria-labelledby=charts-h]").screenshot(
            path=str(REPO / "docs/console.png")
        )

    # A worker takes a new job: the page shows it without a reload.
    running = worker.claim_job(JOB)["TrainingJobName"]
    new_row = page.locator(f'#training-jobs tr[data-job="{running}"]')
    expect(new_row).to_contain_text("InProgress")
    expect(page.locator("body")).to_have_attribute("data-rendered", "10")

    # Stopped from the page: the worker hears it on its next heartbeat and ends the job.
    new_row.get_by_role("button", name=f"Stop {running}").click()
    beat = worker.heartbeat(running)
    while not beat.json()["StopRequested"]:
        page.wait_for_timeout(100)
        beat = worker.heartbeat(running)
    assert worker.complete(running).status_code == 200
    expect(new_row).to_contain_text("Stopped")

    # The CSV download says what the API says.
    with page.expect_download() as download:
        page.locator("#csv").click()
    text = Path(download.value.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    api = all_training_jobs(server.url)
    assert [r["TrainingJobName"] for r in rows] == [j["TrainingJobName"] for j in api]
    assert [r["TrainingJobStatus"] for r in rows] == [j["TrainingJobStatus"] for j in api]
    for row_, job in zip(rows, api, strict=True):
        value = job.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value")
        assert (
            float(row_["FinalObjectiveValue"]) if row_["FinalObjectiveValue"] else None
        ) == value
        assert row_["eta"] == job["TunedHyperParameters"]["eta"]

    # One training job: its hyperparameters, metrics by step, status history, worker.
    page.goto(f"{server.url}/console/training-jobs/{failing}")
    expect(page.locator("#summary")).to_contain_text("Failed")
    expect(page.locator("#summary")).to_contain_text("CUDA out of memory")
    expect(page.locator("#lease")).to_contain_text("worker-a")
    expect(page.locator("#transitions tbody tr")).to_have_count(3)
    assert drawn(page, "#metrics") >= 1
    assert accessibility_problems(page) == []
    shoot(page, tmp_path, "training-job")

    page.goto(f"{server.url}/console/new?from={JOB}")
    expect(page.locator("#request")).not_to_have_value("")
    request_text = page.locator("#request").input_value()
    assert f'"{JOB}-again"' in request_text
    page.get_by_role("button", name="Create tuning job").click()
    expect(page.locator("#result")).to_contain_text(f"{JOB}-again")
    described = httpx.get(f"{server.url}/v1/tuning-jobs/{JOB}-again").json()
    assert described["HyperParameterTuningJobStatus"] == "InProgress"
    assert accessibility_problems(page) == []
    shoot(page, tmp_path, "new-job")
    context.close()
