"""The required-roles policy: an Admin without a second factor keeps a writer's
rights only, and is sent to set one up from any page that needs more; a Writer
never needs one. A password reset never skips the second factor."""

from __future__ import annotations

import re
from contextlib import ExitStack, nullcontext

import pytest

from diary.extensions import db
from diary.services import entries
from tests.conftest import app_on_test_database
from tests.support.mfa_flows import page_csrf, setup_totp, submit_code


@pytest.fixture
def writers_entry(app, demo_users):
    with app.app_context():
        from diary.models import User

        writer = db.session.get(User, demo_users["writer@example.com"])
        from diary.services import credentials

        return entries.create_entry(credentials.for_user(writer), "A writer's note").id


def test_admin_without_second_factor_is_sent_to_set_one_up(
    client, auth, demo_users, writers_entry, totp_clock
):
    auth.login("admin@example.com", "adminpass")
    response = client.get("/all")
    assert response.status_code == 302 and response.headers["Location"] == "/tf-setup"
    assert "needs a second factor" in client.get("/tf-setup").get_data(as_text=True)
    # Another writer's entry needs entry:read-any too: refused, not shown.
    assert client.get(f"/entry/{writers_entry}").status_code == 403
    # A writer's pages stay open.
    assert client.get("/").status_code == 200
    assert "Everyone&#39;s entries" not in client.get("/").get_data(as_text=True)

    setup_totp(client, totp_clock)
    assert client.get("/all").status_code == 200
    assert client.get(f"/entry/{writers_entry}").status_code == 200


def test_admin_api_request_without_second_factor_gets_403(client, auth, demo_users):
    auth.login("admin@example.com", "adminpass")
    response = client.get("/all", headers={"Accept": "application/json"})
    assert response.status_code == 403


def test_writer_needs_no_second_factor(client, auth, demo_users):
    auth.login()
    assert client.get("/").status_code == 200
    page = client.get("/").get_data(as_text=True)
    response = client.post("/new_entry", data={"content": "Hello", "csrf_token": page_csrf(page)})
    assert response.status_code == 302
    assert client.get("/all").status_code == 403  # never had it


def test_required_roles_are_a_setting(client, auth, demo_users, app):
    app.config["MFA_REQUIRED_ROLES"] = []
    auth.login("admin@example.com", "adminpass")
    assert client.get("/all").status_code == 200


@pytest.fixture(params=[False, True], ids=["no-auto-login", "auto-login"])
def recoverable_app(request, database_url, tmp_path):
    """The app with password reset on (issue 3's feature), with and without the
    library's deprecated auto-login after a reset."""
    expect_warning = pytest.warns(DeprecationWarning) if request.param else nullcontext()
    with ExitStack() as stack:
        with expect_warning:
            app = stack.enter_context(app_on_test_database(
                database_url, tmp_path,
                SECURITY_RECOVERABLE=True, SECURITY_AUTO_LOGIN_AFTER_RESET=request.param,
            ))
        yield app


def test_password_reset_never_skips_the_second_factor(recoverable_app):
    """ASVS 6.4.3: whoever controls the mailbox can set a new password, but still
    meets the second factor before the diary opens."""
    from diary.security.core import security
    from diary.services import accounts
    from tests.conftest import AuthActions, TotpClock

    app = recoverable_app
    client = app.test_client()
    auth = AuthActions(client)
    clock = TotpClock(1_800_000_015.0)
    with app.app_context():
        accounts.seed_demo_accounts()
        security.totp_factory.set_clock(lambda: clock.now)
    state = app.extensions["mailman"]
    state.outbox = []

    auth.login()
    totp = setup_totp(client, clock)
    auth.logout()

    page = client.get("/reset").get_data(as_text=True)
    client.post("/reset", data={"email": "writer@example.com", "csrf_token": page_csrf(page)})
    link = re.search(r"http://localhost/reset/[^\s\"<]+", state.outbox[-1].body).group(0)
    path = link.removeprefix("http://localhost")
    page = client.get(path).get_data(as_text=True)
    response = client.post(
        path,
        data={
            "password": "a-brand-new-passphrase",
            "password_confirm": "a-brand-new-passphrase",
            "csrf_token": page_csrf(page),
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # not signed in by the reset alone

    if app.config["SECURITY_AUTO_LOGIN_AFTER_RESET"]:
        # The library's auto-login goes through the second-factor step too.
        pass
    else:
        assert response.headers["Location"].startswith("/login")
        response = auth.login(password="a-brand-new-passphrase")
    assert response.headers["Location"].startswith("/tf-validate")
    clock.advance(30)
    assert submit_code(client, totp.at(clock.now)).headers["Location"] == "/"
