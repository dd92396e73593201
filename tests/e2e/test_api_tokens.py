"""The API's browser pages in a real Chromium: the docs page renders under a strict
Content-Security-Policy, and a token made at /account/tokens works on the API."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

CSP = "default-src 'self'; frame-ancestors 'none'"


@pytest.fixture
def strict_csp(app):
    # The production header comes from the security-headers work; this is the same
    # policy, so the test proves the page needs nothing beyond 'self'.
    @app.after_request
    def _csp(response):
        response.headers["Content-Security-Policy"] = CSP
        return response


def test_docs_page_renders_under_a_strict_csp(strict_csp, page, demo_users):
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto("/api/v1/docs")
    title = page.locator(".swagger-ui .info .title")
    title.wait_for()
    assert "Diary API" in title.inner_text()
    assert page.locator(".opblock-summary-path").first.is_visible()
    assert not [p for p in problems if "Content Security Policy" in p], problems


def test_token_made_on_the_page_works_on_the_api(strict_csp, page, live_server, demo_users):
    log_in(page, "writer@example.com", "writerpass")
    page.goto("/account/tokens")
    page.get_by_label("Name").fill("e2e script")
    page.get_by_label("entries:write — Write, edit and delete your entries").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("new-token").input_value()
    assert secret.startswith("diary_pat_")

    request = urllib.request.Request(
        f"{live_server}/api/v1/entries",
        data=json.dumps({"content": "written by a script"}).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    page.goto("/")
    assert page.get_by_text("written by a script").is_visible()

    page.goto("/account/tokens")
    assert secret not in page.content()  # shown once only
    page.once("dialog", lambda dialog: dialog.accept())  # "Revoke the token …?"
    page.get_by_role("button", name="Revoke e2e script").click()
    assert page.get_by_text("revoked").first.is_visible()
