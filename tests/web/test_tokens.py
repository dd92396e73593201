"""The /account/tokens pages: create (shown once), list, revoke."""

from __future__ import annotations

import re

import sqlalchemy as sa

from diary.extensions import db
from diary.models import ApiToken, AuditEvent
from tests.conftest import csrf_token

TOKEN_RE = re.compile(r'value="(diary_pat_[A-Za-z0-9_-]{43})"')


def _create(client, **fields):
    data = {"name": "phone", "scopes": ["entries:read"], "lifetime": "90",
            "csrf_token": csrf_token(client, "/account/tokens")}
    data.update(fields)
    return client.post("/account/tokens", data=data)


def test_pages_need_login(client):
    assert client.get("/account/tokens").status_code == 302
    # With a good CSRF token (the anonymous session's, from the login page), so that
    # what refuses is the sign-in check, not the CSRF check.
    token = csrf_token(client, "/login")
    for path in ("/account/tokens", "/account/tokens/1/revoke"):
        response = client.post(path, data={"csrf_token": token, "name": "x",
                                           "scopes": ["entries:read"], "lifetime": "90"})
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


def test_account_page_links_to_tokens(client, auth, demo_users):
    auth.login()
    html = client.get("/account").get_data(as_text=True)
    assert 'href="/account/tokens"' in html


def test_create_shows_the_token_once_and_it_works(client, auth, app, demo_users):
    auth.login()
    page = client.get("/account/tokens").get_data(as_text=True)
    assert '<option selected value="90">' in page  # the default lifetime
    response = _create(client, scopes=["entries:read", "entries:write"])
    assert response.status_code == 201
    assert "no-store" in response.headers["Cache-Control"].split(", ")
    html = response.get_data(as_text=True)
    secret = TOKEN_RE.search(html).group(1)
    assert "will not be shown again" in html

    listing = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in listing
    assert "phone" in listing and "entries:write" in listing and "never" in listing  # last used

    api = app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.get_json()["scopes"] == ["entries:read", "entries:write"]
    with app.app_context():
        token = db.session.scalar(sa.select(ApiToken))
        assert (token.expires_at - token.created_at).days == 90


def test_never_is_offered_only_where_an_operator_allows_it(client, auth, app, demo_users):
    auth.login()
    assert 'value="never"' not in client.get("/account/tokens").get_data(as_text=True)
    assert _create(client, lifetime="never").status_code == 422
    app.config["API_TOKEN_NEVER_EXPIRES_ALLOWED"] = True
    assert 'value="never"' in client.get("/account/tokens").get_data(as_text=True)
    assert _create(client, lifetime="never").status_code == 201
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken)).expires_at is None


def test_lifetimes_offered_stop_at_the_maximum(client, auth, app, demo_users):
    auth.login()
    page = client.get("/account/tokens").get_data(as_text=True)
    assert 'value="365"' in page and 'value="366"' not in page
    app.config["API_TOKEN_MAX_LIFETIME_DAYS"] = 30
    page = client.get("/account/tokens").get_data(as_text=True)
    assert 'value="30"' in page and 'value="90"' not in page
    assert _create(client, lifetime="90").status_code == 422  # a crafted choice


def test_creating_a_token_needs_a_fresh_sign_in(client, auth, app, demo_users):
    import time

    auth.login()
    with client.session_transaction() as session:
        session["fs_paa"] = time.time() - 11 * 60  # signed in 11 minutes ago
    response = _create(client)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/verify?next=")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0
    # Confirming the password makes the session fresh again.
    verify = client.post("/verify", data={"password": "writerpass",
                                          "csrf_token": csrf_token(client, "/verify")})
    assert verify.status_code == 302
    assert _create(client).status_code == 201


def test_create_refusals_show_the_form_again(client, auth, app, demo_users):
    auth.login()
    assert _create(client, name="").status_code == 422
    assert _create(client, scopes=[]).status_code == 422
    assert _create(client, scopes=["entries:admin"]).status_code == 422
    assert _create(client, lifetime="12345").status_code == 422
    no_csrf = client.post("/account/tokens", data={"name": "x", "scopes": ["entries:read"], "lifetime": "90"})
    assert no_csrf.status_code in (400, 422)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_revoke_one_token(client, auth, app, demo_users):
    auth.login()
    first = TOKEN_RE.search(_create(client, name="first").get_data(as_text=True)).group(1)
    second = TOKEN_RE.search(_create(client, name="second").get_data(as_text=True)).group(1)
    with app.app_context():
        first_id = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.name == "first"))
    response = client.post(
        f"/account/tokens/{first_id}/revoke",
        data={"csrf_token": csrf_token(client, "/account/tokens")},
    )
    assert response.status_code == 302
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "second" in listing and ">first<" not in listing
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    with app.app_context():
        tags = list(db.session.scalars(sa.select(AuditEvent.tag)))
        assert tags.count("account:token:created") == 2
        assert tags.count("account:token:revoked") == 1


def test_cannot_revoke_somebody_elses_token(client, auth, app, demo_users):
    auth.login("test@me.com", "password")
    _create(client)
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    auth.logout()
    auth.login()
    response = client.post(
        f"/account/tokens/{token_id}/revoke",
        data={"csrf_token": csrf_token(client, "/account/tokens")},
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_revoke_needs_csrf(client, auth, app, demo_users):
    auth.login()
    _create(client)
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 400
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_the_new_token_has_a_copy_button_from_a_static_script(client, auth, demo_users):
    auth.login()
    html = _create(client).get_data(as_text=True)
    assert re.search(r'<input type="text" readonly id="new-token" value="diary_pat_', html)
    # Hidden until the script shows it: without script there is no dead button.
    assert ('<button type="button" class="secondary" data-copy="new-token" '
            'data-copy-status="new-token-status" hidden>Copy</button>') in html
    assert '<p id="new-token-status" class="copy-status" role="status" aria-live="polite"></p>' in html
    assert '<script src="/static/js/copy-button.js"></script>' in html
    assert client.get("/static/js/copy-button.js").status_code == 200


def test_revoke_asks_first_through_a_static_script(client, auth, demo_users):
    auth.login()
    _create(client, name="laptop <script>")
    html = client.get("/account/tokens").get_data(as_text=True)
    assert ('data-confirm="Revoke the token “laptop &lt;script&gt;”? Scripts and apps that '
            'use it stop working at once."') in html
    assert '<script src="/static/js/confirm.js"></script>' in html
    assert client.get("/static/js/confirm.js").status_code == 200
