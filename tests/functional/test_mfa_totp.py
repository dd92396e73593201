"""Authenticator app (TOTP) and email codes, end to end through the real forms.

Codes are computed with ``pyotp``, an implementation independent of the app's
(passlib through Flask-Security), on a controlled clock (``totp_clock``).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_security import user_failed_authn

from diary.extensions import db
from diary.models import AuditEvent, User
from diary.services.audit import AuditTag
from tests.support.mfa_flows import page_csrf, setup_totp, start_totp_setup, submit_code


def tags(app, email):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        return [
            e.tag
            for e in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.user_id == user.id).order_by(AuditEvent.id)
            )
        ]


def failures(app):
    """Collect (auth_type, tfa) of every user_failed_authn the app sends."""
    seen = []

    def receiver(_app, user, auth_type, tfa=False, **_):
        seen.append((auth_type, tfa))

    user_failed_authn.connect(receiver, app, weak=False)
    return seen


def test_setup_needs_a_first_code_then_every_password_login_asks(
    client, auth, demo_users, app, totp_clock
):
    auth.login()
    page, action, csrf = start_totp_setup(client)
    # Not on until confirmed: a wrong first code leaves it off.
    client.post(action, data={"code": "000000", "csrf_token": csrf})
    with app.app_context():
        assert db.session.get(User, demo_users["writer@example.com"]).tf_primary_method is None

    totp = setup_totp(client, totp_clock)
    assert AuditTag.TWO_FACTOR_METHOD_ADDED in tags(app, "writer@example.com")
    auth.logout()

    response = auth.login()
    assert response.headers["Location"].startswith("/tf-validate")
    assert client.get("/").status_code == 302  # not signed in yet

    totp_clock.advance(30)  # the setup code's step is used up
    response = submit_code(client, totp.at(totp_clock.now))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_code_is_accepted_once_even_within_its_window(client, auth, demo_users, app, totp_clock):
    auth.login()
    totp = setup_totp(client, totp_clock)
    auth.logout()
    totp_clock.advance(30)
    code = totp.at(totp_clock.now)

    auth.login()
    assert submit_code(client, code).headers["Location"] == "/"
    auth.logout()

    seen = failures(app)
    auth.login()
    response = submit_code(client, code)  # same code, same 30 seconds
    assert response.status_code == 200
    assert "Invalid code" in response.get_data(as_text=True) or "invalid" in response.get_data(
        as_text=True
    ).lower()
    assert client.get("/").status_code == 302
    assert seen == [("code", True)]
    assert AuditTag.TWO_FACTOR_FAILURE in tags(app, "writer@example.com")


def test_the_code_that_confirmed_setup_cannot_sign_in(client, auth, demo_users, totp_clock):
    auth.login()
    totp = setup_totp(client, totp_clock)
    auth.logout()
    auth.login()
    assert submit_code(client, totp.at(totp_clock.now)).status_code == 200  # refused
    assert client.get("/").status_code == 302


def test_switching_method_records_which_one_it_replaced(
    client, auth, demo_users, app, totp_clock, outbox
):
    """Also: the new method's first code works in the same 30 seconds."""
    auth.login()
    setup_totp(client, totp_clock)
    totp_clock.advance(30)
    setup_totp(client, totp_clock)  # a new authenticator app: same method, new key
    page, action, csrf = start_totp_setup(client, "email")
    client.post(action, data={"code": _code_in(outbox[-1].body), "csrf_token": csrf})
    with app.app_context():
        added = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.tag == str(AuditTag.TWO_FACTOR_METHOD_ADDED))
            .order_by(AuditEvent.id)
        ).all()
        assert [e.details for e in added] == [
            {"method": "authenticator"},
            {"method": "authenticator"},
            {"method": "email", "replaced": "authenticator"},
        ]


def test_wrong_code_reaches_track_failed_authn_as_second_factor(
    client, auth, demo_users, app, totp_clock
):
    auth.login()
    totp = setup_totp(client, totp_clock)
    auth.logout()
    totp_clock.advance(30)
    good = totp.at(totp_clock.now)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"

    seen = failures(app)
    auth.login()
    assert submit_code(client, wrong).status_code == 200
    assert seen == [("code", True)]
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.tag == str(AuditTag.TWO_FACTOR_FAILURE))
        )
        assert event.details == {"kind": "code"}


def _five_wrong_codes(client, auth, totp_clock) -> str:
    """Set up TOTP for the writer, sign in again with the password and send five
    wrong codes; return the right code for the step."""
    auth.login()
    totp = setup_totp(client, totp_clock)
    auth.logout()
    totp_clock.advance(30)
    good = totp.at(totp_clock.now)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    auth.login()
    for _ in range(5):
        assert submit_code(client, wrong).status_code == 200
    return good


def test_second_factor_step_is_rate_limited_per_user(client, auth, demo_users, app, totp_clock):
    # Five failures would also lock the account, which ends the sign-in instead
    # (test_mfa_guards); a higher lockout threshold shows the rate limit alone.
    app.config["LOCKOUT_THRESHOLD"] = 10
    good = _five_wrong_codes(client, auth, totp_clock)
    # The sixth attempt is refused before the code is looked at, even a right one.
    assert submit_code(client, good).status_code == 429
    assert client.get("/").status_code == 302


def test_five_wrong_codes_lock_the_account_and_end_the_sign_in(
    client, auth, demo_users, app, totp_clock
):
    good = _five_wrong_codes(client, auth, totp_clock)
    # The fifth failure locked the account: the right code now ends the sign-in.
    response = submit_code(client, good)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302
    assert auth.login().status_code == 200  # the password too is refused while locked
    assert AuditTag.ACCOUNT_LOCKED in tags(app, "writer@example.com")


def test_email_codes_as_a_method(client, auth, demo_users, app, totp_clock, outbox):
    auth.login()
    page, action, csrf = start_totp_setup(client, "email")
    code = _code_in(outbox[-1].body)
    assert client.post(action, data={"code": code, "csrf_token": csrf}).status_code == 302
    auth.logout()

    totp_clock.advance(30)
    response = auth.login()
    assert response.headers["Location"].startswith("/tf-validate")
    code = _code_in(outbox[-1].body)
    assert submit_code(client, code).headers["Location"] == "/"


def test_lost_app_falls_back_to_a_code_by_email(
    client, auth, demo_users, app, totp_clock, outbox
):
    auth.login()
    setup_totp(client, totp_clock)
    auth.logout()
    totp_clock.advance(30)

    auth.login()
    page = client.get("/tf-validate").get_data(as_text=True)
    sent = len(outbox)
    client.post("/tf-rescue", data={"help_setup": "email", "csrf_token": page_csrf(page)})
    assert len(outbox) == sent + 1
    assert submit_code(client, _code_in(outbox[-1].body)).headers["Location"] == "/"


def test_turning_the_method_off_needs_a_fresh_login_and_mails_the_user(
    client, auth, demo_users, app, totp_clock, outbox
):
    auth.login()
    setup_totp(client, totp_clock)
    with client.session_transaction() as session:
        session["fs_paa"] -= 11 * 60  # signed in eleven minutes ago
    page = client.get("/account").get_data(as_text=True)
    response = client.post("/tf-setup", data={"setup": "disable", "csrf_token": page_csrf(page)})
    assert response.status_code == 302 and "/verify" in response.headers["Location"]
    with app.app_context():
        assert db.session.get(User, demo_users["writer@example.com"]).tf_primary_method

    with client.session_transaction() as session:
        session["fs_paa"] += 11 * 60
    sent = len(outbox)
    response = client.post("/tf-setup", data={"setup": "disable", "csrf_token": page_csrf(page)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, demo_users["writer@example.com"]).tf_primary_method is None
    assert len(outbox) == sent + 1 and "switched off" in outbox[-1].body
    assert AuditTag.TWO_FACTOR_METHOD_REMOVED in tags(app, "writer@example.com")


def _code_in(body: str) -> str:
    import re

    match = re.search(r"\b(\d{6})\b", body)
    assert match, body
    return match.group(1)
