"""The console of a server with teams: sign in with an access key, see only your team's jobs,
actions refused without the session's CSRF token, sign out. A real browser, a live server."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

from amtune.app.context import Context
from amtune.app.teams import NewKey
from amtune.store.database import Database
from tests.app.requests import random_request
from tests.console.browser import accessibility_problems, browser
from tests.service.processes import ServerProcess
from tests.teams.conftest import SERVER_KEY, closed_settings, new_team
from tests.teams.signing import bearer

__all__ = ["browser"]


@pytest.fixture(scope="module")
def teams(own_database: str) -> tuple[NewKey, NewKey]:
    settings = closed_settings(own_database)
    ctx = Context(db=Database(settings.database_url), settings=settings)
    try:
        return new_team(ctx), new_team(ctx)
    finally:
        ctx.db.dispose()


def test_a_team_signs_in_and_sees_only_its_own_jobs(
    browser: Browser, own_database: str, teams: tuple[NewKey, NewKey]
) -> None:
    mine, theirs = teams
    with ServerProcess(own_database, "123456789012", AMTUNE_SECRET_KEY=SERVER_KEY) as server:
        for key, name in ((mine, "ours"), (theirs, "theirs")):
            created = httpx.post(
                f"{server.url}/v1/tuning-jobs", json=random_request(name), headers=bearer(key)
            )
            assert created.status_code == 201, created.text

        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/console/")
        expect(page).to_have_url(f"{server.url}/console/sign-in")
        assert accessibility_problems(page) == []
        page.get_by_label("Access key id").fill(mine.access_key_id)
        page.get_by_label("Secret access key").fill("wrong-secret-0123456789012345678901234")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("do not match")

        page.get_by_label("Access key id").fill(mine.access_key_id)
        page.get_by_label("Secret access key").fill(mine.secret_access_key)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{server.url}/console/")
        expect(page.locator("#tuning-jobs tbody tr", has_text="ours")).to_have_count(1)
        expect(page.locator("#tuning-jobs tbody tr")).to_have_count(1)
        expect(page.locator(".account")).to_contain_text(mine.account_id)

        (cookie,) = context.cookies()
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        assert mine.secret_access_key not in cookie["value"]

        # Another team's job does not exist for this session, in the page or its API.
        page.goto(f"{server.url}/console/tuning-jobs/theirs")
        expect(page.get_by_role("alert")).to_contain_text("can't find a tuning job")
        assert page.request.get(f"{server.url}/console/api/tuning-jobs/theirs").status == 404

        # An action without the page's CSRF token is refused, and nothing stops.
        refused = page.request.post(f"{server.url}/console/api/tuning-jobs/ours/stop")
        assert refused.status == 403
        foreign = page.request.post(
            f"{server.url}/console/api/tuning-jobs/ours/stop",
            headers={"Origin": "https://evil.example", "X-CSRF-Token": "x"},
        )
        assert foreign.status == 403
        described = httpx.get(f"{server.url}/v1/tuning-jobs/ours", headers=bearer(mine)).json()
        assert described["HyperParameterTuningJobStatus"] == "InProgress"

        page.goto(f"{server.url}/console/")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{server.url}/console/sign-in")
        assert page.request.get(f"{server.url}/console/api/tuning-jobs").status == 403
        context.close()
