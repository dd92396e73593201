"""The admin console's user pages and actions, driven through the real forms."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, Entry, User, WebAuthn
from diary.services import lockout, mfa
from diary.services.audit import AuditTag
from tests.admin.conftest import events, submit
from tests.api.conftest import login_auth_token, make_pat
from tests.conftest import AuthActions, lock_account, mail_link

WRITER = "writer@example.com"
ADMIN = "admin@example.com"
REASON = "Ticket 42: asked by the owner"


def user_of(app, email):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        db.session.expunge(user)
        return user


def give_factors(app, email):
    """Give ``email`` an authenticator, recovery codes and two passkeys (one for
    signing in, one as a second factor), as if set up."""
    from diary.security.core import security

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        user.tf_primary_method = "authenticator"
        user.tf_totp_secret = security.totp_factory.generate_totp_secret()
        user.mf_recovery_codes = ["one", "two"]
        for name, usage in (("Laptop", "first"), ("YubiKey", "secondary")):
            security.datastore.create_webauthn(
                user, credential_id=name.encode(), public_key=b"key", name=name,
                sign_count=0, usage=usage, device_type="single_device", backup_state=False,
            )
        db.session.commit()
        assert mfa.has_second_factor(user)


# --- The user list and page ---------------------------------------------------------


def test_the_list_searches_email_and_name(app, admin_browser):
    page = admin_browser.get("/admin/users?q=TEST+user").get_data(as_text=True)
    assert "test@me.com" in page and WRITER not in page
    page = admin_browser.get("/admin/users?q=writer@").get_data(as_text=True)
    assert WRITER in page and "test@me.com" not in page
    # LIKE's wildcards are searched for, not obeyed.
    assert "No user matches." in admin_browser.get("/admin/users?q=%25").get_data(as_text=True)


@pytest.mark.parametrize(
    "query, shown, hidden",
    [
        ("role=Admin", [ADMIN], [WRITER, "test@me.com"]),
        ("only=locked", [WRITER], [ADMIN, "test@me.com"]),
        ("only=deactivated", ["test@me.com"], [ADMIN, WRITER]),
        ("only=unconfirmed", ["new@example.com"], [ADMIN, WRITER]),
        ("only=without-two-factor", [WRITER, "test@me.com"], [ADMIN]),
        ("only=locked&only=without-two-factor", [WRITER], [ADMIN, "test@me.com"]),
    ],
)
def test_the_list_filters(app, admin_browser, query, shown, hidden):
    lock_account(app, WRITER)
    give_factors(app, ADMIN)
    from diary.security.core import security

    with app.app_context():
        security.datastore.deactivate_user(
            db.session.scalar(sa.select(User).where(User.email == "test@me.com"))
        )
        security.datastore.create_user(email="new@example.com", password=None)
        db.session.commit()
    response = admin_browser.get(f"/admin/users?{query}")
    assert response.status_code == 200
    table = response.get_data(as_text=True).split('data-testid="users"')[1]
    for email in shown:
        assert email in table
    for email in hidden:
        assert f">{email}<" not in table


def test_an_unknown_role_filter_is_400(admin_browser):
    assert admin_browser.get("/admin/users?role=Nope").status_code == 422


def test_the_list_pages(app, admin_browser, make_user):
    for i in range(30):
        make_user(f"many{i:02d}@example.com")
    first = admin_browser.get("/admin/users?q=many").get_data(as_text=True)
    assert "many00@example.com" in first and "many29@example.com" not in first
    assert "Page 1 of 2" in first and 'href="/admin/users?page=2&amp;q=many"' in first
    second = admin_browser.get("/admin/users?q=many&page=2").get_data(as_text=True)
    assert "many29@example.com" in second and "many00@example.com" not in second


def test_the_user_page_shows_the_account_but_no_secret(app, admin_browser, demo_users):
    give_factors(app, WRITER)
    writer_id = demo_users[WRITER]
    with app.app_context():
        db.session.add_all([Entry(user_id=writer_id, content=f"n{i}") for i in range(3)])
        db.session.add(AuditEvent(tag=str(AuditTag.LOGIN_SUCCESS), user_id=writer_id,
                                  ip="203.0.113.9", details={}))
        secret = db.session.get(User, writer_id).tf_totp_secret
        db.session.commit()
    page = admin_browser.get(f"/admin/users/{writer_id}").get_data(as_text=True)
    assert "Writer" in page
    assert 'data-testid="entry-count">3<' in page
    assert "203.0.113.9" in page
    assert "Authenticator app, Passkey as a second factor; 2 recovery codes left" in page
    assert "Laptop (sign-in), YubiKey (second factor)" in page
    assert secret not in page and "one" not in page.split("Recent events")[0].lower().split()
    assert "not locked" in page


def test_an_unknown_user_is_404(admin_browser):
    assert admin_browser.get("/admin/users/99999").status_code == 404
    assert admin_browser.get("/admin/users/99999/lock").status_code == 404


def test_an_unknown_action_is_404(admin_browser, demo_users):
    assert admin_browser.get(f"/admin/users/{demo_users[WRITER]}/explode").status_code == 404


# --- Each action -------------------------------------------------------------------


def _locked(app, email):
    with app.test_request_context():
        return lockout.is_locked(db.session.scalar(sa.select(User).where(User.email == email)))


def _deactivate(app, email):
    from diary.security.core import security

    with app.app_context():
        security.datastore.deactivate_user(
            db.session.scalar(sa.select(User).where(User.email == email))
        )
        db.session.commit()


def _roles(app, email):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        return sorted(r.name for r in user.roles)


def _writer_can_sign_in(app):
    return AuthActions(app.test_client()).login().status_code == 302


ACTIONS = {
    # action: (setup, extra form data, tag, mail subject, check after)
    "lock": (None, {}, AuditTag.LOCKED_BY_ADMIN, "Your Diary account was locked",
             lambda app: _locked(app, WRITER) and not _writer_can_sign_in(app)),
    "unlock": (lambda app: lock_account(app, WRITER), {}, AuditTag.ACCOUNT_UNLOCKED,
               "Your Diary account was unlocked",
               lambda app: not _locked(app, WRITER) and _writer_can_sign_in(app)),
    "deactivate": (None, {}, AuditTag.DEACTIVATED, "Your Diary account was deactivated",
                   lambda app: not user_of(app, WRITER).active),
    "reactivate": (lambda app: _deactivate(app, WRITER), {}, AuditTag.REACTIVATED,
                   "Your Diary account was reactivated",
                   lambda app: user_of(app, WRITER).active and _writer_can_sign_in(app)),
    "add-role": (None, {"role": "Admin"}, AuditTag.ROLE_ADDED, "Your Diary roles changed",
                 lambda app: _roles(app, WRITER) == ["Admin", "Writer"]),
    "remove-role": (None, {"role": "Writer"}, AuditTag.ROLE_REMOVED, "Your Diary roles changed",
                    lambda app: _roles(app, WRITER) == []),
    "reset-password": (None, {}, AuditTag.PASSWORD_RESET_SENT, "Reset your Diary password",
                       lambda app: True),
    "reset-two-factor": (lambda app: give_factors(app, WRITER), {}, AuditTag.TWO_FACTOR_RESET,
                         "Your Diary sign-in settings changed", None),
    "sign-out": (None, {}, AuditTag.SIGNED_OUT_EVERYWHERE,
                 "You were signed out of Diary everywhere", None),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_does_what_it_says_records_and_mails(
    app, admin_browser, demo_users, outbox, action
):
    setup, extra, tag, subject, check = ACTIONS[action]
    if setup:
        setup(app)
    writer_browser = app.test_client()
    if action == "sign-out":
        assert AuthActions(writer_browser).login().status_code == 302
    writer_id = demo_users[WRITER]
    path = f"/admin/users/{writer_id}/{action}"
    assert admin_browser.get(path).status_code == 200
    outbox.clear()
    response = submit(admin_browser, path, {"reason": REASON, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == f"/admin/users/{writer_id}"
    # The audit event: the user, the acting admin, the reason.
    recorded = events(app, tag)
    assert recorded, tag
    assert recorded[-1].user_id == writer_id
    assert recorded[-1].actor_id == demo_users[ADMIN]
    assert recorded[-1].details["reason"] == REASON
    # The user is mailed, with the reason (the reset mail is the library's link).
    mails = [m for m in outbox if m.to == [WRITER] and m.subject == subject]
    assert len(mails) == 1, [(m.to, m.subject) for m in outbox]
    if action == "reset-password":
        assert "/reset/" in mail_link(mails[0], "/reset/")
    else:
        assert REASON in mails[0].body
    if check:
        assert check(app)
    if action == "reset-two-factor":
        with app.app_context():
            user = db.session.get(User, writer_id)
            assert not mfa.has_second_factor(user)
            assert user.tf_totp_secret is None and user.tf_primary_method is None
            assert not user.mf_recovery_codes
            assert [w.name for w in db.session.scalars(sa.select(WebAuthn))] == ["Laptop"]
    if action == "sign-out":
        assert writer_browser.get("/").status_code == 302


@pytest.mark.parametrize("reason", ["", "   "])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_without_a_reason_nothing_changes(app, admin_browser, demo_users, outbox, action, reason):
    setup, extra, tag, _subject, _check = ACTIONS[action]
    if setup:
        setup(app)
    before = len(events(app))
    writer = user_of(app, WRITER)
    outbox.clear()
    path = f"/admin/users/{writer.id}/{action}"
    response = submit(admin_browser, path, {"reason": reason, **extra})
    assert response.status_code == 422
    assert "Give a reason" in response.get_data(as_text=True)
    assert len(events(app)) == before
    assert outbox == []
    after = user_of(app, WRITER)
    assert (after.active, after.fs_uniquifier) == (writer.active, writer.fs_uniquifier)
    assert _roles(app, WRITER) == ["Writer"]


def test_an_action_without_csrf_is_refused(app, admin_browser, demo_users):
    response = admin_browser.post(f"/admin/users/{demo_users[WRITER]}/lock",
                                  data={"reason": REASON})
    assert response.status_code == 400
    assert not _locked(app, WRITER)


def test_a_stale_sign_in_is_sent_to_confirm_the_password(app, admin_browser, demo_users):
    path = f"/admin/users/{demo_users[WRITER]}/lock"
    token_page = admin_browser.get(path)
    assert token_page.status_code == 200
    with admin_browser.session_transaction() as session:
        session["fs_paa"] = time.time() - 11 * 60  # signed in 11 minutes ago
    response = submit(admin_browser, path, {"reason": REASON}, form_page="/account/tokens")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/verify?next=")
    assert not _locked(app, WRITER)
    assert admin_browser.get(path).headers["Location"].startswith("/verify?next=")
    # Confirming the password makes it fresh again, and the form works.
    verify = submit(admin_browser, "/verify", {"password": "adminpass"})
    assert verify.status_code == 302
    assert submit(admin_browser, path, {"reason": REASON}).status_code == 302
    assert _locked(app, WRITER)


def test_the_role_actions_need_a_role(app, admin_browser, demo_users):
    path = f"/admin/users/{demo_users[WRITER]}/add-role"
    response = submit(admin_browser, path, {"reason": REASON, "role": "Writer"})
    assert response.status_code == 422  # held already: not offered
    assert _roles(app, WRITER) == ["Writer"]


def test_no_reset_link_for_a_deactivated_account(app, admin_browser, demo_users, outbox):
    _deactivate(app, WRITER)
    outbox.clear()
    response = submit(admin_browser, f"/admin/users/{demo_users[WRITER]}/reset-password",
                      {"reason": REASON})
    assert response.status_code == 409
    assert "reactivate the account first" in response.get_data(as_text=True)
    assert outbox == [] and events(app, AuditTag.PASSWORD_RESET_SENT) == []


def test_an_action_that_changes_nothing_says_so(app, admin_browser, demo_users):
    response = submit(admin_browser, f"/admin/users/{demo_users[WRITER]}/unlock",
                      {"reason": REASON})
    assert response.status_code == 409
    assert "is not locked" in response.get_data(as_text=True)
    assert events(app, AuditTag.ACCOUNT_UNLOCKED) == []


# --- Deactivation ends every way in at once ------------------------------------------


def test_deactivation_ends_sessions_personal_and_auth_tokens_at_once(app, admin_browser, demo_users):
    session_browser = app.test_client()
    assert AuthActions(session_browser).login().status_code == 302
    pat, _ = make_pat(app, WRITER)
    auth_token = login_auth_token(app, WRITER, "writerpass")["authentication_token"]
    api = app.test_client()
    assert session_browser.get("/").status_code == 200
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {pat}"}).status_code == 200
    assert api.get("/api/v1/me", headers={"Authentication-Token": auth_token}).status_code == 200

    path = f"/admin/users/{demo_users[WRITER]}/deactivate"
    assert submit(admin_browser, path, {"reason": REASON}).status_code == 302

    assert session_browser.get("/").status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {pat}"}).status_code == 401
    assert api.get("/api/v1/me", headers={"Authentication-Token": auth_token}).status_code == 401
    # Reactivating does not bring them back: they were ended, not paused.
    assert submit(admin_browser, f"/admin/users/{demo_users[WRITER]}/reactivate",
                  {"reason": REASON}).status_code == 302
    assert session_browser.get("/").status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {pat}"}).status_code == 401


def test_a_lock_refuses_sessions_and_tokens_and_unlock_lets_them_back(app, admin_browser, demo_users):
    browser = app.test_client()
    assert AuthActions(browser).login().status_code == 302
    pat, _ = make_pat(app, WRITER)
    writer = demo_users[WRITER]
    assert submit(admin_browser, f"/admin/users/{writer}/lock", {"reason": REASON}).status_code == 302
    assert browser.get("/").status_code == 302
    # The API answers a locked account 403 (known, but refused for now).
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {pat}"}).status_code == 403
    assert submit(admin_browser, f"/admin/users/{writer}/unlock", {"reason": REASON}).status_code == 302
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {pat}"}).status_code == 200


# --- The last Admin ------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, extra",
    [("lock", {}), ("deactivate", {}), ("remove-role", {"role": "Admin"})],
)
def test_the_last_admin_cannot_lock_deactivate_or_demote_themselves(
    app, admin_browser, demo_users, outbox, action, extra
):
    admin_id = demo_users[ADMIN]
    before = len(events(app))
    outbox.clear()
    response = submit(admin_browser, f"/admin/users/{admin_id}/{action}",
                      {"reason": REASON, **extra})
    assert response.status_code == 409
    assert "last active Admin" in response.get_data(as_text=True)
    assert len(events(app)) == before and outbox == []
    me = user_of(app, ADMIN)
    assert me.active and not _locked(app, ADMIN) and _roles(app, ADMIN) == ["Admin"]
    assert admin_browser.get("/admin/users").status_code == 200


def test_with_a_second_admin_one_may_step_down(app, admin_browser, demo_users):
    from diary.security.core import security

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == WRITER))
        security.datastore.add_role_to_user(user, "Admin")
        db.session.commit()
    response = submit(admin_browser, f"/admin/users/{demo_users[ADMIN]}/remove-role",
                      {"reason": REASON, "role": "Admin"})
    assert response.status_code == 302
    assert _roles(app, ADMIN) == []
    # Now the former writer is the last Admin, and the guard holds for them.
    assert admin_browser.get("/admin/users").status_code == 403


def test_signing_oneself_out_everywhere_ends_this_session(app, admin_browser, demo_users):
    response = submit(admin_browser, f"/admin/users/{demo_users[ADMIN]}/sign-out",
                      {"reason": REASON})
    assert response.headers["Location"] == "/login"
    assert admin_browser.get("/admin/users").status_code == 302


def test_the_owners_password_reset_does_not_lift_an_admin_lock(app, admin_browser, demo_users, outbox):
    from tests.functional.test_account_flows import NEW_PASSPHRASE, set_new_password

    writer = demo_users[WRITER]
    assert submit(admin_browser, f"/admin/users/{writer}/lock", {"reason": REASON}).status_code == 302
    # The admin sends a reset link (the owner could ask for one at /reset alike).
    assert submit(admin_browser, f"/admin/users/{writer}/reset-password",
                  {"reason": REASON}).status_code == 302
    link = mail_link([m for m in outbox if m.subject == "Reset your Diary password"][-1], "/reset/")
    owner = app.test_client()
    assert set_new_password(owner, link).status_code == 302
    assert _locked(app, WRITER)
    assert AuthActions(owner).login(WRITER, NEW_PASSPHRASE).status_code != 302
    assert submit(admin_browser, f"/admin/users/{writer}/unlock", {"reason": REASON}).status_code == 302
    assert AuthActions(owner).login(WRITER, NEW_PASSPHRASE).status_code == 302


def test_the_list_searches_the_display_name(app, admin_browser, demo_users):
    with app.app_context():
        db.session.get(User, demo_users[WRITER]).name = "Winifred Quill"
        db.session.commit()
    page = admin_browser.get("/admin/users?q=quill").get_data(as_text=True)
    assert WRITER in page and "test@me.com" not in page


def test_the_user_sees_who_acted_on_their_account_and_why(app, admin_browser, demo_users):
    writer = demo_users[WRITER]
    assert submit(admin_browser, f"/admin/users/{writer}/lock", {"reason": REASON}).status_code == 302
    assert submit(admin_browser, f"/admin/users/{writer}/unlock", {"reason": "Sorted out"}).status_code == 302
    browser = app.test_client()
    assert AuthActions(browser).login().status_code == 302
    page = browser.get("/account/activity").get_data(as_text=True)
    assert f"by {ADMIN} (reason: {REASON})" in page
    assert f"by {ADMIN} (reason: Sorted out)" in page
