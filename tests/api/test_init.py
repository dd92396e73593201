"""Mounting the API: one Api per app, the pages' errors untouched, requests that
match no API route still answered in problem+json, and the body limit first."""

from __future__ import annotations

from diary import create_app
from diary.api import DiaryApi
from tests.api.conftest import problem_of
from tests.conftest import base_config


def test_each_app_gets_its_own_api(app, database_url, tmp_path):
    other = create_app(base_config(database_url, str(tmp_path / "other")))
    assert isinstance(app.extensions["diary_api"], DiaryApi)
    assert app.extensions["diary_api"] is not other.extensions["diary_api"]
    assert app.extensions["diary_api"].spec is not other.extensions["diary_api"].spec


def test_unrouted_api_paths_are_problem_json_but_pages_are_html(client):
    problem_of(client.get("/api/v1"), 404)
    problem_of(client.get("/api/v1/entries/abc"), 404)
    problem_of(client.post("/api/v1/me"), 405)
    assert client.get("/api/v10/me").mimetype == "text/html"  # not under /api/v1/
    assert client.get("/nowhere").mimetype == "text/html"


def test_body_limit_applies_before_routing_and_only_to_the_api(client, app):
    big = "x" * (app.config["API_MAX_BODY_BYTES"] + 1)
    problem_of(client.post("/api/v1/nowhere", data=big), 413)
    problem_of(client.post("/api/v1/entries", data=big), 413)
    # Pages are not held to the API's limit (the form's own rules answer there).
    assert client.post("/login", data={"email": big}).status_code != 413


def test_body_limit_is_a_setting(app, api_login, demo_users):
    app.config["API_MAX_BODY_BYTES"] = 100
    api = api_login("pat")
    problem_of(api.post("/api/v1/entries", json={"content": "y" * 120}), 413)
    assert api.post("/api/v1/entries", json={"content": "short"}).status_code == 201
