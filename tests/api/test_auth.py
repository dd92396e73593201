"""The three ways into /api/v1 and every way a credential is refused: expired,
revoked, wrong-scope, deactivated-user, locked and malformed tokens; CSRF on
session requests; the per-token and per-user limits live in test_errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.security.core import security
from diary.models import ApiToken, AuditEvent, User
from diary.models.types import utcnow
from diary.services import tokens
from tests.api.conftest import ApiClient, login_auth_token, make_pat, problem_of
from tests.conftest import lock_account, unlock_account


def _events(app, tag):
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.tag == tag)))


def _bearer(app, secret):
    return ApiClient(app.test_client(), {"Authorization": f"Bearer {secret}"})


# --- personal access tokens -----------------------------------------------------

def test_expired_token_is_refused_on_a_controlled_clock(app, demo_users, monkeypatch):
    secret, _ = make_pat(app, "writer@example.com", lifetime=timedelta(days=90))
    api = _bearer(app, secret)
    start = utcnow()
    monkeypatch.setattr(tokens, "utcnow", lambda: start + timedelta(days=89, hours=23))
    assert api.get("/api/v1/me").status_code == 200
    monkeypatch.setattr(tokens, "utcnow", lambda: start + timedelta(days=90, seconds=1))
    body = problem_of(api.get("/api/v1/me"), 401)
    assert body["type"] == "/api/v1/problems/invalid-token"
    assert [e.details["reason"] for e in _events(app, "account:token:auth_failure")] == ["expired"]


def test_token_without_expiry_keeps_working(app, demo_users, monkeypatch):
    app.config["API_TOKEN_NEVER_EXPIRES_ALLOWED"] = True  # an operator's choice
    secret, _ = make_pat(app, "writer@example.com", lifetime=None)
    start = utcnow()
    monkeypatch.setattr(tokens, "utcnow", lambda: start + timedelta(days=3650))
    assert _bearer(app, secret).get("/api/v1/me").status_code == 200


def test_revoked_token_is_refused(app, demo_users):
    secret, token_id = make_pat(app, "writer@example.com")
    api = _bearer(app, secret)
    assert api.get("/api/v1/me").status_code == 200
    with app.app_context():
        user = db.session.get(User, demo_users["writer@example.com"])
        tokens.revoke_token(user, token_id)
    problem_of(api.get("/api/v1/me"), 401)
    assert _events(app, "account:token:auth_failure")[-1].details["reason"] == "revoked"


@pytest.mark.parametrize(
    "scopes, allowed, refused",
    [
        (("entries:read",), [("GET", "/api/v1/entries"), ("GET", "/api/v1/me")],
         [("POST", "/api/v1/entries"), ("PATCH", "/api/v1/entries/{id}"),
          ("DELETE", "/api/v1/entries/{id}")]),
        (("entries:write",), [("POST", "/api/v1/entries"), ("PATCH", "/api/v1/entries/{id}")],
         [("GET", "/api/v1/entries"), ("GET", "/api/v1/entries/{id}")]),
    ],
)
def test_wrong_scope_is_403(app, api_login, demo_users, scopes, allowed, refused, writers_may_edit):
    entry_id = api_login("pat").post("/api/v1/entries", json={"content": "x"}).get_json()["id"]
    api = api_login("pat", scopes=scopes)
    for method, path in allowed:
        response = api.open(method, path.format(id=entry_id), json={"content": "y"})
        assert response.status_code < 400, (method, path)
    for method, path in refused:
        response = api.open(method, path.format(id=entry_id), json={"content": "y"})
        body = problem_of(response, 403)
        assert body["type"] == "/api/v1/problems/insufficient-scope"
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_deactivation_revokes_tokens_and_refuses_them(app, demo_users):
    secret, token_id = make_pat(app, "writer@example.com")
    api = _bearer(app, secret)
    assert api.get("/api/v1/me").status_code == 200
    with app.app_context():
        user = db.session.get(User, demo_users["writer@example.com"])
        security.datastore.deactivate_user(user)
        db.session.commit()
        assert db.session.get(ApiToken, token_id).revoked_at is not None
    problem_of(api.get("/api/v1/me"), 401)
    revoked = _events(app, "account:token:revoked")
    assert revoked[-1].details == {"all": True, "count": 1, "reason": "deactivated"}


def test_deactivated_user_is_refused_even_if_a_token_was_left_unrevoked(app, demo_users):
    secret, _ = make_pat(app, "writer@example.com")
    with app.app_context():
        # Behind the ORM's back, so the revoking hook does not run.
        db.session.execute(sa.update(User).where(User.email == "writer@example.com").values(active=False))
        db.session.commit()
    problem_of(_bearer(app, secret).get("/api/v1/me"), 401)
    assert _events(app, "account:token:auth_failure")[-1].details["reason"] == "deactivated"


def test_locked_account_refuses_but_keeps_its_tokens(app, demo_users):
    secret, token_id = make_pat(app, "writer@example.com")
    api = _bearer(app, secret)
    lock_account(app, "writer@example.com")
    body = problem_of(api.get("/api/v1/me"), 403)
    assert body["type"] == "/api/v1/problems/account-locked"
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None
    unlock_account(app, "writer@example.com")
    assert api.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer diary_pat_",
        "Bearer diary_pat_short",
        "Bearer diary_pat_" + "A" * 43,  # well-formed, but no such token
        "Bearer ghp_" + "A" * 36,
        "Basic d3JpdGVyQGV4YW1wbGUuY29tOndyaXRlcnBhc3M=",
        "diary_pat_" + "A" * 43,
    ],
)
def test_malformed_or_unknown_tokens_are_401(app, demo_users, header):
    response = app.test_client().get("/api/v1/me", headers={"Authorization": header})
    body = problem_of(response, 401)
    assert body["type"] == "/api/v1/problems/invalid-token"
    failures = _events(app, "account:token:auth_failure")
    assert len(failures) == 1
    assert "A" * 20 not in str(failures[0].details)


def test_every_refusal_gets_the_same_answer(app, demo_users, monkeypatch):
    answers = set()
    expired, _ = make_pat(app, "writer@example.com", lifetime=timedelta(days=1))
    revoked, revoked_id = make_pat(app, "writer@example.com", name="r")
    with app.app_context():
        tokens.revoke_token(db.session.get(User, demo_users["writer@example.com"]), revoked_id)
    start = utcnow()
    monkeypatch.setattr(tokens, "utcnow", lambda: start + timedelta(days=2))
    for secret in (expired, revoked, "diary_pat_" + "B" * 43, "junk"):
        body = _bearer(app, secret).get("/api/v1/me").get_json()
        answers.add((body["type"], body["detail"]))
    assert len(answers) == 1


def test_first_use_and_last_use_are_recorded(app, demo_users, monkeypatch):
    secret, token_id = make_pat(app, "writer@example.com")
    api = _bearer(app, secret)
    start = utcnow()
    monkeypatch.setattr(tokens, "utcnow", lambda: start)
    api.get("/api/v1/me")
    api.get("/api/v1/me")
    monkeypatch.setattr(tokens, "utcnow", lambda: start + timedelta(minutes=5))
    api.get("/api/v1/me")
    assert len(_events(app, "account:token:first_use")) == 1
    with app.app_context():
        token = db.session.get(ApiToken, token_id)
        assert token.last_used_at == start + timedelta(minutes=5)
        assert token.last_used_ip == "127.0.0.1"


# --- Flask-Security auth tokens ---------------------------------------------------

def test_auth_token_from_json_login_with_refresh_token(app, demo_users):
    user = login_auth_token(app, "writer@example.com", "writerpass")
    assert user["authentication_token"] and user["refresh_token"]
    api = ApiClient(app.test_client(), {"Authentication-Token": user["authentication_token"]})
    assert api.get("/api/v1/me").get_json()["auth_method"] == "auth-token"
    # Unsafe methods need no CSRF token with an auth token.
    assert api.post("/api/v1/entries", json={"content": "from a token"}).status_code == 201

    # The refresh token buys a new auth token (the CSRF token comes from GET /login
    # in the same cookie jar, as for every Flask-Security JSON endpoint).
    browser = app.test_client()
    csrf = browser.get("/login", headers={"Accept": "application/json"}).get_json()
    refreshed = browser.post(
        "/refresh-token",
        json={"refresh_token": user["refresh_token"]},
        headers={"X-CSRFToken": csrf["response"]["csrf_token"]},
    )
    assert refreshed.status_code == 200, refreshed.get_data(as_text=True)
    new_token = refreshed.get_json()["response"]["user"]["authentication_token"]
    fresh = ApiClient(app.test_client(), {"Authentication-Token": new_token})
    assert fresh.get("/api/v1/me").status_code == 200


def test_auth_token_expires_after_15_minutes(app, demo_users, monkeypatch):
    import itsdangerous.timed

    token = login_auth_token(app, "writer@example.com", "writerpass")["authentication_token"]
    api = ApiClient(app.test_client(), {"Authentication-Token": token})
    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + 14 * 60)
    assert api.get("/api/v1/me").status_code == 200
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + 16 * 60)
    problem_of(api.get("/api/v1/me"), 401)
    assert _events(app, "account:token:auth_failure")[-1].details["reason"] == "expired"


def test_auth_token_refused_for_garbage_deactivated_and_locked(app, demo_users):
    problem_of(ApiClient(app.test_client(), {"Authentication-Token": "garbage"}).get("/api/v1/me"), 401)
    token = login_auth_token(app, "writer@example.com", "writerpass")["authentication_token"]
    api = ApiClient(app.test_client(), {"Authentication-Token": token})
    lock_account(app, "writer@example.com")
    assert problem_of(api.get("/api/v1/me"), 403)["type"] == "/api/v1/problems/account-locked"
    unlock_account(app, "writer@example.com")
    assert api.get("/api/v1/me").status_code == 200
    with app.app_context():
        security.datastore.deactivate_user(db.session.get(User, demo_users["writer@example.com"]))
        db.session.commit()
    problem_of(api.get("/api/v1/me"), 401)


def test_auth_token_in_the_query_string_is_not_accepted(app, demo_users):
    token = login_auth_token(app, "writer@example.com", "writerpass")["authentication_token"]
    problem_of(app.test_client().get(f"/api/v1/me?auth_token={token}"), 401)


# --- the session cookie -------------------------------------------------------------

def test_session_needs_csrf_header_on_unsafe_methods(api_login, demo_users):
    api = api_login("session")
    assert api.get("/api/v1/me").status_code == 200  # safe: no CSRF needed
    entry = api.post("/api/v1/entries", json={"content": "with csrf"})
    assert entry.status_code == 201
    entry_id = entry.get_json()["id"]
    bare = ApiClient(api.client)  # same cookies, no X-CSRFToken
    for method, path in (("POST", "/api/v1/entries"), ("PATCH", f"/api/v1/entries/{entry_id}"),
                         ("DELETE", f"/api/v1/entries/{entry_id}")):
        body = problem_of(bare.open(method, path, json={"content": "csrf attack"}), 403)
        assert body["type"] == "/api/v1/problems/csrf-failed"
    wrong = ApiClient(api.client, csrf="not-the-token")
    problem_of(wrong.post("/api/v1/entries", json={"content": "x"}), 403)
    assert api.get(f"/api/v1/entries/{entry_id}").get_json()["content"] == "with csrf"


def test_a_bad_token_is_not_rescued_by_the_session(api_login, demo_users):
    api = api_login("session")
    response = api.get("/api/v1/me", headers={"Authorization": "Bearer diary_pat_" + "C" * 43})
    problem_of(response, 401)
    response = api.get("/api/v1/me", headers={"Authentication-Token": "garbage"})
    problem_of(response, 401)


def test_a_token_wins_over_the_session(app, api_login, demo_users):
    api = api_login("session", "admin@example.com")
    secret, _ = make_pat(app, "writer@example.com")
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert me["email"] == "writer@example.com"
    assert me["auth_method"] == "personal-access-token"


def test_logged_out_session_is_401(api_login, demo_users):
    api = api_login("session")
    api.post("/logout", data={"csrf_token": api.csrf})
    problem_of(api.get("/api/v1/me"), 401)


def test_two_token_headers_are_refused(app, demo_users):
    secret, _ = make_pat(app, "writer@example.com")
    token = login_auth_token(app, "writer@example.com", "writerpass")["authentication_token"]
    response = app.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {secret}", "Authentication-Token": token}
    )
    problem_of(response, 401)


def test_revoke_all_tokens_also_ends_refresh_tokens(app, demo_users):
    user = login_auth_token(app, "writer@example.com", "writerpass")
    with app.app_context():
        tokens.revoke_all_tokens(
            db.session.get(User, demo_users["writer@example.com"]), reason="sign_out_everywhere"
        )
        db.session.commit()
    browser = app.test_client()
    csrf = browser.get("/login", headers={"Accept": "application/json"}).get_json()
    refreshed = browser.post(
        "/refresh-token",
        json={"refresh_token": user["refresh_token"]},
        headers={"X-CSRFToken": csrf["response"]["csrf_token"]},
    )
    assert refreshed.status_code == 400
    assert "REVOKED" in refreshed.get_data(as_text=True)


# --- refused credentials per client IP (LIMIT_API_AUTH_FAILURES_PER_IP) -------------


def _from(app, ip, headers):
    """An API client at address ``ip`` sending ``headers``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return ApiClient(client, headers)


def test_refused_credentials_are_limited_per_ip(app, demo_users):
    app.config["LIMIT_API_AUTH_FAILURES_PER_IP"] = "3 per minute"
    good, _ = make_pat(app, "writer@example.com")
    bad = "Bearer diary_pat_" + "C" * 43
    for header in (bad, "Bearer junk", "Basic abc"):
        problem_of(_from(app, "203.0.113.7", {"Authorization": header}).get("/api/v1/me"), 401)
    audited = len(_events(app, "account:token:auth_failure"))

    # The budget is used up: even a good token from that address waits, and the
    # refused request is not audited.
    for header in (bad, f"Bearer {good}"):
        response = _from(app, "203.0.113.7", {"Authorization": header}).get("/api/v1/me")
        body = problem_of(response, 429)
        assert body["type"] == "/api/v1/problems/too-many-failures"
        assert 0 < int(response.headers["Retry-After"]) <= 60
    assert len(_events(app, "account:token:auth_failure")) == audited

    # Another address is not affected.
    other = _from(app, "198.51.100.9", {"Authorization": f"Bearer {good}"})
    assert other.get("/api/v1/me").status_code == 200


def test_good_tokens_and_sessions_do_not_count(app, api_login, demo_users):
    app.config["LIMIT_API_AUTH_FAILURES_PER_IP"] = "1 per minute"
    good, _ = make_pat(app, "writer@example.com")
    client = _from(app, "203.0.113.8", {"Authorization": f"Bearer {good}"})
    for _ in range(3):
        assert client.get("/api/v1/me").status_code == 200
    session = api_login("session")
    for _ in range(3):
        assert session.get("/api/v1/me").status_code == 200


def test_auth_token_failures_count_too(app, demo_users):
    app.config["LIMIT_API_AUTH_FAILURES_PER_IP"] = "2 per minute"
    for _ in range(2):
        response = _from(app, "203.0.113.9", {"Authentication-Token": "garbage"}).get("/api/v1/me")
        problem_of(response, 401)
    response = _from(app, "203.0.113.9", {"Authentication-Token": "garbage"}).get("/api/v1/me")
    assert problem_of(response, 429)["type"] == "/api/v1/problems/too-many-failures"
