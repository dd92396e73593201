"""One policy for every credential (issue 9): the session, "remember me", auth
tokens, refresh tokens and personal access tokens are refused alike for a locked,
deactivated or unconfirmed account; powers that need two-factor follow the
credential, not the account; and the events that end credentials end all of them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import User
from diary.models.types import Strength
from diary.security.core import security
from tests.api.conftest import login_auth_token, make_pat
from tests.conftest import (
    AuthActions,
    csrf_token,
    lock_account,
    mail_link,
    open_confirm_link,
    unlock_account,
)
from tests.support.mfa_flows import setup_totp, submit_code

EMAIL, PASSWORD = "writer@example.com", "writerpass"
NEW_PASSPHRASE = "a brand new long passphrase"


@dataclass
class Credentials:
    """One browser signed in (with its session) and one remembered whose session
    has ended, an auth token with its refresh token, and a personal access token,
    all of the writer's."""

    session: object
    remembered: object
    auth_token: str
    refresh_token: str
    pat: str


@pytest.fixture
def held(app, demo_users, clock):
    remembered = app.test_client()
    AuthActions(remembered).login(EMAIL, PASSWORD, remember="y")
    clock.advance(hours=1)  # its session ends on the server; only the record is left
    session = app.test_client()
    assert AuthActions(session).login(EMAIL, PASSWORD).status_code == 302
    tokens = login_auth_token(app, EMAIL, PASSWORD)
    pat, _ = make_pat(app, EMAIL)
    return Credentials(
        session, remembered, tokens["authentication_token"], tokens["refresh_token"], pat
    )


def page_status(client) -> int:
    return client.get("/").status_code


def api_status(app, headers) -> int:
    return app.test_client().get("/api/v1/me", headers=headers).status_code


def refresh(app, refresh_token):
    browser = app.test_client()
    csrf = browser.get("/login", headers={"Accept": "application/json"}).get_json()
    return browser.post(
        "/refresh-token",
        json={"refresh_token": refresh_token},
        headers={"X-CSRFToken": csrf["response"]["csrf_token"]},
    )


def statuses(app, held: Credentials) -> dict[str, int]:
    """What each credential gets now (the refresh token is tried last: a good one
    is used up, by rotation, and stays good for the next try)."""
    result = {
        "session": page_status(held.session),
        "remember-me": page_status(held.remembered),
        "auth-token": api_status(app, {"Authentication-Token": held.auth_token}),
        "personal-access-token": api_status(app, {"Authorization": f"Bearer {held.pat}"}),
    }
    response = refresh(app, held.refresh_token)
    result["refresh-token"] = response.status_code
    if response.status_code == 200:
        held.refresh_token = response.get_json()["response"]["user"]["refresh_token"]
    return result


ALL_GOOD = {"session": 200, "remember-me": 200, "auth-token": 200,
            "personal-access-token": 200, "refresh-token": 200}


def test_every_credential_works_to_begin_with(app, held):
    assert statuses(app, held) == ALL_GOOD


def test_a_locked_account_is_refused_on_every_credential_and_let_back_in_after(app, held):
    lock_account(app, EMAIL)
    assert statuses(app, held) == {
        "session": 302, "remember-me": 302, "auth-token": 403,
        "personal-access-token": 403, "refresh-token": 400,
    }
    # Refused, not revoked: whoever caused the lockout cannot end the owner's
    # sessions and tokens with it.
    unlock_account(app, EMAIL)
    assert statuses(app, held) == ALL_GOOD


def test_the_refresh_token_says_the_account_is_locked(app, held):
    lock_account(app, EMAIL)
    response = refresh(app, held.refresh_token)
    assert response.status_code == 400
    assert "locked" in response.get_data(as_text=True)
    assert "authentication_token" not in response.get_data(as_text=True)


def test_a_session_refused_for_a_lock_is_told_why(app, held):
    lock_account(app, EMAIL)
    held.session.get("/")
    assert "locked for a while" in held.session.get("/login").get_data(as_text=True)


def test_a_deactivated_account_is_refused_on_every_credential(app, held):
    with app.app_context():
        security.datastore.deactivate_user(
            db.session.scalar(sa.select(User).where(User.email == EMAIL))
        )
        db.session.commit()
    assert statuses(app, held) == {
        "session": 302, "remember-me": 302, "auth-token": 401,
        "personal-access-token": 401, "refresh-token": 400,
    }


def test_an_unconfirmed_account_is_refused_on_every_credential(app, held):
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == EMAIL).values(confirmed_at=None))
        db.session.commit()
    assert statuses(app, held) == {
        "session": 302, "remember-me": 302, "auth-token": 401,
        "personal-access-token": 401, "refresh-token": 400,
    }


# --- Events that end every credential -----------------------------------------------


def _ended_everything_but(app, held, kept: str | None):
    result = statuses(app, held)
    expected = {"session": 302, "remember-me": 302, "auth-token": 401,
                "personal-access-token": 401, "refresh-token": 400}
    if kept:
        expected[kept] = 200
    assert result == expected


def test_a_password_change_ends_every_other_credential(app, held, outbox):
    response = held.session.post("/change", data={
        "password": PASSWORD, "new_password": NEW_PASSPHRASE,
        "new_password_confirm": NEW_PASSPHRASE,
        "csrf_token": csrf_token(held.session, "/change")})
    assert response.status_code == 302
    _ended_everything_but(app, held, kept="session")
    notice = outbox[-1]
    assert "was just changed" in notice.body
    assert "1 remembered device" in notice.body
    assert "1 personal access token: test" in notice.body
    assert "1 app sign-in (refresh token)" in notice.body


def test_a_password_reset_ends_every_credential(app, held, outbox):
    client = app.test_client()
    client.post("/reset", data={"email": EMAIL, "csrf_token": csrf_token(client, "/reset")})
    link = mail_link(outbox[-1], "/reset/")
    path = link.removeprefix("http://localhost")
    response = client.post(path, data={
        "password": NEW_PASSPHRASE, "password_confirm": NEW_PASSPHRASE,
        "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    _ended_everything_but(app, held, kept=None)
    assert "2 signed-in sessions" in outbox[-1].body  # the browser and the JSON sign-in


def test_an_email_change_ends_every_other_credential(app, held, outbox):
    response = held.session.post("/change-email", data={
        "email": "writer.moved@example.org", "password": PASSWORD,
        "csrf_token": csrf_token(held.session, "/change-email")})
    assert response.status_code == 200
    open_confirm_link(held.session, mail_link(outbox[-1], "/change-email/"))
    _ended_everything_but(app, held, kept="session")
    notice = outbox[-1]
    assert notice.to == [EMAIL] and "1 personal access token" in notice.body


def test_sign_out_everywhere_ends_every_credential_and_mails_which(app, held, outbox):
    response = held.session.post(
        "/account/sign-out-everywhere", data={"csrf_token": csrf_token(held.session, "/account")}
    )
    assert response.status_code == 302
    _ended_everything_but(app, held, kept=None)
    notice = outbox[-1]
    assert notice.subject == "You signed out of Diary everywhere"
    assert "2 signed-in sessions" in notice.body  # this one and the auth-token login's
    assert "1 remembered device" in notice.body


# --- Powers that need two-factor follow the credential --------------------------------


def test_a_pat_made_before_two_factor_keeps_no_admin_power(app, demo_users, totp_clock):
    writer_id = demo_users["writer@example.com"]
    admin = app.test_client()
    AuthActions(admin).login("admin@example.com", "adminpass")
    made = admin.post("/account/tokens", data={
        "name": "before", "scopes": ["entries:read"], "lifetime": "90",
        "csrf_token": csrf_token(admin, "/account/tokens")})
    secret = re.search(r'value="(diary_pat_[A-Za-z0-9_-]{43})"', made.get_data(as_text=True)).group(1)
    bearer = {"Authorization": f"Bearer {secret}"}
    api = app.test_client()
    assert api.get(f"/api/v1/entries?user={writer_id}", headers=bearer).status_code == 403
    assert "entry:read-any" not in api.get("/api/v1/me", headers=bearer).get_json()["permissions"]

    setup_totp(admin, totp_clock)  # the first second factor
    # The token made without it is ended with every other credential…
    assert api.get("/api/v1/entries", headers=bearer).status_code == 401
    # …while the session that set the factor up may now use the Admin role.
    assert admin.get("/all").status_code == 200


def test_a_weak_token_never_gets_powers_that_need_two_factor(app, demo_users, totp_clock):
    """Even where a token made without a second factor survives (one made by a
    session signed in with a password only), its strength stays what it was."""
    writer_id = demo_users["writer@example.com"]
    admin = app.test_client()
    AuthActions(admin).login("admin@example.com", "adminpass")
    setup_totp(admin, totp_clock)
    weak, _ = make_pat(app, "admin@example.com", scopes=("entries:read",))
    strong, _ = make_pat(app, "admin@example.com", scopes=("entries:read",),
                         strength=Strength.MULTI_FACTOR)
    api = app.test_client()
    listing = f"/api/v1/entries?user={writer_id}"
    why = {"Diary-Access-Reason": "Audit"}
    assert api.get(listing, headers={"Authorization": f"Bearer {weak}", **why}).status_code == 403
    assert api.get(listing, headers={"Authorization": f"Bearer {strong}", **why}).status_code == 200
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {weak}"}).get_json()
    assert "entry:read-any" not in me["permissions"] and "user:manage" not in me["permissions"]


def test_me_lists_only_the_permissions_the_credential_may_use(app, demo_users, totp_clock):
    admin = app.test_client()
    AuthActions(admin).login("admin@example.com", "adminpass")
    me = admin.get("/api/v1/me").get_json()  # no second factor yet
    assert "entry:read-any" not in me["permissions"] and "user:manage" not in me["permissions"]
    totp = setup_totp(admin, totp_clock)
    AuthActions(admin).logout()
    AuthActions(admin).login("admin@example.com", "adminpass")
    totp_clock.advance(30)
    submit_code(admin, totp.at(totp_clock.now))
    me = admin.get("/api/v1/me").get_json()
    assert {"entry:read-any", "user:manage"} <= set(me["permissions"])


def test_the_first_second_factor_ends_every_other_credential(app, held, outbox, totp_clock):
    setup_totp(held.session, totp_clock)
    _ended_everything_but(app, held, kept="session")
    notice = next(m for m in outbox if "switched on" in m.body)
    assert "1 personal access token: test" in notice.body
