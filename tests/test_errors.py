"""Error pages: styled, in the site's layout, with the right status, no internals."""

from __future__ import annotations

import pytest
from flask import abort



@pytest.fixture
def failing_app(app):
    """The app with routes that fail on purpose, and exceptions handled as in
    production (TESTING would let them propagate to the test)."""

    @app.get("/_test/crash")
    def crash():
        raise RuntimeError("database password is hunter2 at /srv/diary/secret.py line 7")

    @app.get("/_test/refuse")
    def refuse():
        abort(400, "That page link is not valid.")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def styled(html: str) -> bool:
    """Whether ``html`` is a full page in Diary's layout."""
    return ("/static/css/diary.css" in html and 'class="error-page"' in html
            and "<nav" in html)


def test_404_is_styled(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert styled(html)
    assert "<title>404 Nothing here · Diary</title>" in html
    assert "does not exist" in html


def test_403_is_styled(client, auth, demo_users):
    auth.login()
    response = client.get("/all")  # writers may not read everyone's entries
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert styled(html)
    assert "This page is not yours to see" in html


def test_405_is_styled_and_says_what_is_allowed(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert styled(response.get_data(as_text=True))
    assert "POST" in response.headers["Allow"]


def test_500_is_styled_and_shows_no_internals(failing_app):
    response = failing_app.test_client().get("/_test/crash")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert styled(html)
    assert "Something went wrong on our side" in html
    for internal in ("hunter2", "RuntimeError", "Traceback", "secret.py", "line 7"):
        assert internal not in html


def test_a_message_given_to_abort_is_shown(failing_app):
    response = failing_app.test_client().get("/_test/refuse")
    assert response.status_code == 400
    assert "That page link is not valid." in response.get_data(as_text=True)


def test_werkzeug_stock_descriptions_are_not_shown(client):
    html = client.get("/no/such/page").get_data(as_text=True)
    assert "The requested URL was not found on the server" not in html


def test_missing_csrf_token_explains_itself(client, auth, demo_users):
    auth.login()
    response = client.post("/new_entry", data={"content": "x"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert styled(html) and "security token" in html


def test_error_page_for_anonymous_visitors_offers_login(client):
    html = client.get("/no/such/page").get_data(as_text=True)
    assert 'href="/login"' in html
