"""A real browser for the console tests: Playwright driving Debian's Chromium by path.

No browser is downloaded: ``CHROMIUM`` (default /usr/bin/chromium, ``apt-get install
chromium``) is launched as it is installed. axe-core, the accessibility checker, comes from
the console front end's npm lock file (``npm ci`` in service/amtune/api/console/frontend).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = REPO / "service/amtune/api/console/frontend/node_modules/axe-core/axe.min.js"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def accessibility_problems(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in {AXE.parents[2]}")
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def drawn(page: Page, selector: str) -> int:
    """How many SVG shapes ECharts drew inside ``selector`` (its SVG renderer's elements)."""
    count: int = page.locator(f"{selector} svg path, {selector} svg rect").count()
    return count
