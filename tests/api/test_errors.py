"""Every failure under /api/v1 is application/problem+json with a stable type, for
each of the three ways in: 400, 401, 403, 404, 405, 409, 413, 422, 429, 500."""

from __future__ import annotations

import io

import pytest

from diary.extensions import limiter
from diary.services import entries
from tests.api.conftest import problem_of
from tests.support.cursors import OUT_OF_RANGE_CURSORS


def test_400_bad_cursor_names_the_field(api_login, way, demo_users):
    body = problem_of(api_login(way).get("/api/v1/entries?cursor=not-a-cursor"), 400)
    assert body["type"] == "/api/v1/problems/invalid-cursor"
    assert "cursor" in body["errors"]


@pytest.mark.parametrize("cursor", OUT_OF_RANGE_CURSORS)
def test_400_cursor_out_of_range_not_500(api_login, demo_users, cursor):
    body = problem_of(api_login("pat").get(f"/api/v1/entries?cursor={cursor}"), 400)
    assert body["type"] == "/api/v1/problems/invalid-cursor"


def test_400_body_that_is_not_json(api_login, way, demo_users):
    response = api_login(way).post(
        "/api/v1/entries", data="{not json", content_type="application/json"
    )
    body = problem_of(response, 400)
    assert body["type"] == "/api/v1/problems/bad-request"
    assert body["errors"] == {"json": ["Invalid JSON body."]}


def test_401_without_credentials_is_problem_json_not_a_redirect(client, demo_users):
    for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/entries"),
                         ("POST", "/api/v1/entries"), ("GET", "/api/v1/entries/1"),
                         ("PATCH", "/api/v1/entries/1"), ("DELETE", "/api/v1/entries/1")):
        response = client.open(path, method=method, json={"content": "x"})
        body = problem_of(response, 401)
        assert "Location" not in response.headers
        assert body["type"] == "/api/v1/problems/unauthenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_403_forbidden_entry(app, api_login, way, demo_users):
    other = api_login(way, "test@me.com").post("/api/v1/entries", json={"content": "mine"})
    body = problem_of(api_login(way).get(f"/api/v1/entries/{other.get_json()['id']}"), 403)
    assert body["type"] == "/api/v1/problems/forbidden"


def test_404_unknown_entry_and_unknown_path(api_login, way, demo_users):
    api = api_login(way)
    assert problem_of(api.get("/api/v1/entries/424242"), 404)["type"] == "/api/v1/problems/not-found"
    problem_of(api.get("/api/v1/entries/99999999999"), 404)  # beyond any id
    problem_of(api.get("/api/v1/no-such-thing"), 404)
    problem_of(api.post("/api/v1/no-such-thing", json={}), 404)


def test_405_names_the_allowed_methods(api_login, way, demo_users):
    api = api_login(way)
    response = api.open("PUT", "/api/v1/entries/1", json={"content": "x"})
    body = problem_of(response, 405)
    assert body["type"] == "/api/v1/problems/method-not-allowed"
    assert {"GET", "PATCH", "DELETE"} <= set(response.headers["Allow"].replace(" ", "").split(","))
    problem_of(api.open("DELETE", "/api/v1/entries"), 405)


def test_409_conflict(api_login, way, demo_users, writers_may_edit):
    api = api_login(way)
    entry = api.post("/api/v1/entries", json={"content": "v1"}).get_json()
    api.patch(f"/api/v1/entries/{entry['id']}", json={"content": "v2"})
    response = api.patch(
        f"/api/v1/entries/{entry['id']}",
        json={"content": "v3", "expected_updated_at": entry["updated_at"]},
    )
    assert problem_of(response, 409)["type"] == "/api/v1/problems/conflict"


def test_413_body_over_64_kib(api_login, way, demo_users):
    api = api_login(way)
    big = {"content": "x" * (64 * 1024)}
    body = problem_of(api.post("/api/v1/entries", json=big), 413)
    assert body["type"] == "/api/v1/problems/body-too-large"


def test_413_without_content_length(app, api_login, demo_users):
    # A chunked body has no Content-Length; reading it stops at the limit.
    api = api_login("pat")
    body = b'{"content": "' + b"x" * (70 * 1024) + b'"}'
    response = api.post(
        "/api/v1/entries",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    problem_of(response, 413)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "content"),
        ({"content": 42}, "content"),
        ({"content": "   "}, "content"),
        ({"content": "x" * 281}, "content"),
        ({"content": "ok", "extra": 1}, "extra"),
        ({"content": "nul \x00 byte"}, "content"),
    ],
)
def test_422_names_the_failing_field(api_login, way, demo_users, payload, field):
    body = problem_of(api_login(way).post("/api/v1/entries", json=payload), 422)
    assert body["type"] == "/api/v1/problems/validation-error"
    assert field in body["errors"]


def test_422_long_content_with_a_nul_is_refused_for_its_length(api_login, demo_users, writers_may_edit):
    # 65,000 characters and a NUL once kept a worker busy for 14 s (a backtracking
    # pattern ran before the length was looked at); now the length answers first.
    api = api_login("pat")
    content = "a" * 65000 + "\u0000"
    entry_id = api.post("/api/v1/entries", json={"content": "x"}).get_json()["id"]
    for response in (
        api.post("/api/v1/entries", json={"content": content}),
        api.patch(f"/api/v1/entries/{entry_id}", json={"content": content}),
    ):
        body = problem_of(response, 422)
        assert body["errors"]["content"] == [
            "An entry can be at most 280 characters; this one has 65001."]


def test_422_bad_query_parameters(api_login, way, demo_users):
    api = api_login(way)
    for query, field in (("limit=0", "limit"), ("limit=101", "limit"), ("limit=x", "limit"),
                         ("user=0", "user"), ("q=", "q")):
        body = problem_of(api.get(f"/api/v1/entries?{query}"), 422)
        assert field in body["errors"], query


def test_429_with_retry_after(app, api_login, way, demo_users):
    limiter.reset()
    app.config["API_RATE_LIMIT_PER_USER"] = "3 per minute"
    api = api_login(way)
    for _ in range(3):
        assert api.get("/api/v1/me").status_code == 200
    response = api.get("/api/v1/me")
    body = problem_of(response, 429)
    assert body["type"] == "/api/v1/problems/rate-limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_per_token_limit_is_per_token_and_per_user_limit_spans_tokens(app, api_login, demo_users):
    limiter.reset()
    app.config["API_RATE_LIMIT_PER_TOKEN"] = "2 per minute"
    app.config["API_RATE_LIMIT_PER_USER"] = "5 per minute"
    first, second, third = (api_login("pat") for _ in range(3))
    assert [first.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
    # Another token of the same user has its own budget …
    assert [second.get("/api/v1/me").status_code for _ in range(2)] == [200, 200]
    # … but the user's budget (5) is now spent, whichever token is used.
    assert third.get("/api/v1/me").status_code == 200
    problem_of(third.get("/api/v1/me"), 429)


def test_500_says_nothing_about_the_cause(app, api_login, way, demo_users, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(entries, "list_own_entries", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = api_login(way).get("/api/v1/entries")
    body = problem_of(response, 500)
    assert body["type"] == "/api/v1/problems/server-error"
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


def test_pages_keep_their_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_refused_scope_still_counts_against_the_limit(app, api_login, demo_users):
    app.config["API_RATE_LIMIT_PER_TOKEN"] = "2 per minute"
    api = api_login("pat", scopes=("entries:read",))
    assert [api.post("/api/v1/entries", json={"content": "x"}).status_code for _ in range(2)] == [403, 403]
    problem_of(api.get("/api/v1/me"), 429)
