"""Confirmation, recovery, change password and change email, driven through the
real forms with the mails they send (Flask-Mailman's in-memory outbox)."""

from __future__ import annotations

import sqlalchemy as sa

from diary.extensions import db
from diary.mail import links_in
from diary.models import AuditEvent, User
from tests.conftest import (
    CSRF_RE,
    csrf_token,
    link_path,
    mail_link,
    open_confirm_link,
    sent_mails,
)

PASSPHRASE = "lantern orbit quietly mango"
NEW_PASSPHRASE = "violet harbour seventeen kites"


def register(client, email, password=PASSPHRASE):
    return client.post(
        "/register",
        data={
            "email": email,
            "password": password,
            "password_confirm": password,
            "csrf_token": csrf_token(client, "/register"),
        },
    )


# Sign-in and sign-out events are recorded too (tests/security/test_events.py);
# these tests look at the account-flow events between them.
SESSION_TAGS = ("account:login:success", "account:logout")


def tags(app, email) -> list[str]:
    """Return the audit tags recorded for ``email``'s account, oldest first, without
    the sign-in/sign-out events."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        return list(db.session.scalars(
            sa.select(AuditEvent.tag).where(AuditEvent.user_id == user.id)
            .where(AuditEvent.tag.not_in(SESSION_TAGS))
            .order_by(AuditEvent.id)
        ))


def logged_in(client) -> bool:
    return client.get("/").status_code == 200


def password_of(app, email) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(User.password).where(User.email == email))


# --- Confirmation -----------------------------------------------------------------


def test_registration_mails_a_confirmation_link_that_lets_the_user_log_in(app, client, auth):
    assert register(client, "new@example.org").status_code == 302
    [welcome] = sent_mails(app)
    assert welcome.to == ["new@example.org"]
    assert "confirm" in welcome.body.lower()
    link = mail_link(welcome, "/confirm/")

    assert auth.login("new@example.org", PASSPHRASE).status_code == 200  # refused
    assert not logged_in(client)

    # Opening the link shows a button; nothing is confirmed until it is pressed.
    page = client.get(link_path(link))
    assert page.status_code == 200 and "Confirm your email address" in page.get_data(as_text=True)
    assert auth.login("new@example.org", PASSPHRASE).status_code == 200
    response = open_confirm_link(client, link)
    assert response.status_code == 302
    assert auth.login("new@example.org", PASSPHRASE).status_code == 302
    assert logged_in(client)
    assert tags(app, "new@example.org")[:2] == ["account:register", "account:email:confirmed"]


def test_a_forged_confirmation_link_confirms_nothing(app, client, auth):
    register(client, "new@example.org")
    link = mail_link(sent_mails(app)[0], "/confirm/")
    open_confirm_link(client, link[:-3] + "xyz")
    assert auth.login("new@example.org", PASSPHRASE).status_code == 200
    assert "account:email:confirmed" not in tags(app, "new@example.org")


def test_registering_a_known_address_looks_the_same_and_mails_its_owner(app, client, demo_users):
    fresh = register(client, "fresh@example.org")
    known = register(client, "writer@example.com")
    assert fresh.status_code == known.status_code == 302
    assert fresh.headers["Location"] == known.headers["Location"]
    mails = sent_mails(app)
    assert [m.to for m in mails] == [["fresh@example.org"], ["writer@example.com"]]
    assert "already has an account" in mails[1].body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.email == "writer@example.com")) == 1


def test_resend_confirmation_mails_a_new_link_and_says_the_same_for_unknown_addresses(
    app, client, auth
):
    register(client, "new@example.org")
    known = client.post("/confirm", data={
        "email": "new@example.org", "csrf_token": csrf_token(client, "/confirm")})
    unknown = client.post("/confirm", data={
        "email": "nobody@example.org", "csrf_token": csrf_token(client, "/confirm")})
    assert known.status_code == unknown.status_code
    mails = sent_mails(app)
    assert [m.to for m in mails] == [["new@example.org"], ["new@example.org"]]
    open_confirm_link(client, mail_link(mails[1], "/confirm/"))
    assert auth.login("new@example.org", PASSPHRASE).status_code == 302


def test_resend_confirmation_without_csrf_token_is_refused(app, client):
    register(client, "new@example.org")
    response = client.post("/confirm", data={"email": "new@example.org"})
    assert response.status_code == 400
    assert len(sent_mails(app)) == 1


# --- Recovery ---------------------------------------------------------------------


def request_reset(client, email, **kw):
    return client.post(
        "/reset", data={"email": email, "csrf_token": csrf_token(client, "/reset")}, **kw
    )


def set_new_password(client, link, password=NEW_PASSPHRASE, confirm=None):
    path = link_path(link)
    return client.post(path, data={
        "password": password,
        "password_confirm": password if confirm is None else confirm,
        # The session's token, from a page that has a form whatever the link's state.
        "csrf_token": csrf_token(client, "/reset"),
    })


def test_reset_request_answers_the_same_for_known_and_unknown_addresses(
    app, client, demo_users
):
    known = request_reset(client, "writer@example.com")
    unknown = request_reset(client, "nobody@example.com")
    assert known.status_code == unknown.status_code

    def page(response):  # the page without its (time-stamped) CSRF token
        return CSRF_RE.sub("", response.get_data(as_text=True))

    assert page(known) == page(unknown).replace("nobody@example.com", "writer@example.com")
    assert [m.to for m in sent_mails(app)] == [["writer@example.com"]]
    assert tags(app, "writer@example.com") == ["account:password:reset_request"]


def test_reset_link_sets_a_new_password_once(app, client, auth, demo_users):
    """Flask-Security 5.9's reset token carries the account's fs_uniquifier and
    update_password() rotates it, so a used link no longer finds its account. (The
    digest of the password hash also in the token is never checked by the library:
    the rotation alone makes links single use, and this test guards it.)"""
    request_reset(client, "writer@example.com")
    link = mail_link(sent_mails(app)[0], "/reset/")
    assert client.get(link_path(link)).status_code == 200

    response = set_new_password(client, link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"  # no automatic login (OWASP)
    assert auth.login("writer@example.com", "writerpass").status_code == 200
    assert auth.login("writer@example.com", NEW_PASSPHRASE).status_code == 302
    auth.logout()
    changed = password_of(app, "writer@example.com")

    # The same link again: refused, password unchanged.
    again = set_new_password(client, link, "another strong passphrase here")
    assert again.status_code == 302 and again.headers["Location"] == "/reset"
    assert password_of(app, "writer@example.com") == changed
    assert client.get(link_path(link)).headers["Location"] == "/reset"
    assert tags(app, "writer@example.com")[:2] == [
        "account:password:reset_request", "account:password:reset"]
    notice = sent_mails(app)[1]
    assert notice.to == ["writer@example.com"] and "was just reset" in notice.body


def test_every_outstanding_reset_link_dies_with_the_first_reset(app, client, demo_users):
    request_reset(client, "writer@example.com")
    request_reset(client, "writer@example.com")
    first, second = (mail_link(m, "/reset/") for m in sent_mails(app))
    assert set_new_password(client, second).headers["Location"] == "/login"
    assert set_new_password(client, first).headers["Location"] == "/reset"


def test_reset_link_expires_after_an_hour(app, client, demo_users, monkeypatch):
    import itsdangerous.timed

    now = [1_900_000_000.0]
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now[0])
    request_reset(client, "writer@example.com")
    link = mail_link(sent_mails(app)[0], "/reset/")
    now[0] += 3600 - 5
    assert client.get(link_path(link)).status_code == 200
    now[0] += 10
    response = client.get(link_path(link))
    assert response.headers["Location"] == "/reset"
    assert "has expired" in client.get("/reset").get_data(as_text=True)
    assert set_new_password(client, link).headers["Location"] == "/reset"


def test_reset_ends_every_session_of_the_account(app, client, auth, demo_users):
    other = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(other).login("writer@example.com", "writerpass", remember="y")
    assert logged_in(other)
    request_reset(client, "writer@example.com")
    set_new_password(client, mail_link(sent_mails(app)[0], "/reset/"))
    assert not logged_in(other)


def test_weak_password_on_reset_is_refused_next_to_the_field(app, client, demo_users):
    request_reset(client, "writer@example.com")
    link = mail_link(sent_mails(app)[0], "/reset/")
    response = set_new_password(client, link, "password")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    field = html[html.index('id="password-ctr"'):html.index('id="password_confirm-ctr"')]
    assert "at least 12 characters" in field
    assert password_of(app, "writer@example.com").startswith("$argon2id$")
    # and the link still works for a good password
    assert set_new_password(client, link).headers["Location"] == "/login"


# --- Change password --------------------------------------------------------------


def change_password(client, current, new, confirm=None):
    return client.post("/change", data={
        "password": current,
        "new_password": new,
        "new_password_confirm": new if confirm is None else confirm,
        "csrf_token": csrf_token(client, "/change"),
    })


def test_change_password_needs_the_current_one(app, client, auth, demo_users):
    auth.login()
    before = password_of(app, "writer@example.com")
    response = change_password(client, "not-my-password", NEW_PASSPHRASE)
    assert response.status_code == 200
    assert "fs-error-msg" in response.get_data(as_text=True)
    assert password_of(app, "writer@example.com") == before
    assert sent_mails(app) == []


def test_change_password_keeps_this_session_and_ends_the_others(app, client, auth, demo_users):
    from tests.conftest import AuthActions

    other = app.test_client()
    AuthActions(other).login(remember="y")
    auth.login()
    response = change_password(client, "writerpass", NEW_PASSPHRASE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert logged_in(client)
    assert not logged_in(other)  # session and "remember me" cookie both dead
    assert AuthActions(other).login(password="writerpass").status_code == 200
    assert AuthActions(other).login(password=NEW_PASSPHRASE).status_code == 302
    [notice] = sent_mails(app)
    assert notice.to == ["writer@example.com"] and "was just changed" in notice.body
    # The mail says what the change ended: the other browser's session (which was
    # also remembered).
    assert "These were ended with it:\n- 1 signed-in session\n" in notice.body
    # the change, what it ended, then the other client's sign-in with the old
    # password failing
    assert tags(app, "writer@example.com") == [
        "account:password:change", "account:sessions:ended", "account:login:failure"]


def test_change_password_refuses_a_weak_one_and_says_why(app, client, auth, demo_users):
    auth.login()
    response = change_password(client, "writerpass", "Summer2026!")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    field = html[html.index('id="new_password-ctr"'):html.index('id="new_password_confirm-ctr"')]
    assert "at least 12 characters" in field
    before = password_of(app, "writer@example.com")
    response = change_password(client, "writerpass", "writer@example.com")
    html = response.get_data(as_text=True)
    field = html[html.index('id="new_password-ctr"'):html.index('id="new_password_confirm-ctr"')]
    assert "Do not use your email address" in field
    assert password_of(app, "writer@example.com") == before


def test_change_password_needs_login_and_csrf(app, client, auth, demo_users):
    assert client.get("/change").status_code == 302
    auth.login()
    response = client.post("/change", data={
        "password": "writerpass", "new_password": NEW_PASSPHRASE,
        "new_password_confirm": NEW_PASSPHRASE})
    assert response.status_code == 400
    assert change_password(client, "writerpass", NEW_PASSPHRASE).status_code == 302


# --- Change email -----------------------------------------------------------------


def request_email_change(client, new_email, password="writerpass"):
    return client.post("/change-email", data={
        "email": new_email, "password": password,
        "csrf_token": csrf_token(client, "/change-email")})


def test_change_email_is_confirmed_at_the_new_address_and_told_to_the_old(
    app, client, auth, demo_users
):
    auth.login()
    response = request_email_change(client, "writer.new@example.org")
    assert response.status_code == 200
    [instructions] = sent_mails(app)
    assert instructions.to == ["writer.new@example.org"]
    with app.app_context():  # nothing changes before the new address confirms
        assert db.session.scalar(sa.select(User).where(User.email == "writer@example.com"))

    link = mail_link(instructions, "/change-email/")
    client.get(link_path(link))  # the page alone changes nothing
    assert len(sent_mails(app)) == 1
    response = open_confirm_link(client, link)
    assert response.status_code == 302
    notice = sent_mails(app)[1]
    assert notice.to == ["writer@example.com"]
    assert "writer.new@example.org" in notice.body
    assert {"text/html"} == {mime for _, mime in notice.alternatives}
    auth.logout()
    assert auth.login("writer@example.com", "writerpass").status_code == 200
    assert auth.login("writer.new@example.org", "writerpass").status_code == 302
    assert tags(app, "writer.new@example.org") == [
        "account:email:change_request", "account:email:change", "account:sessions:ended"]


def test_change_email_to_a_taken_address_looks_the_same_and_mails_nobody(
    app, client, auth, demo_users
):
    auth.login()
    taken = request_email_change(client, "admin@example.com")
    free = request_email_change(client, "free@example.org")
    assert taken.status_code == free.status_code == 200
    assert [m.to for m in sent_mails(app)] == [["free@example.org"]]


def test_change_email_link_stops_working_once_used(app, client, auth, demo_users):
    auth.login()
    request_email_change(client, "writer.new@example.org")
    link = mail_link(sent_mails(app)[0], "/change-email/")
    open_confirm_link(client, link)
    open_confirm_link(client, link)
    assert len(sent_mails(app)) == 2  # no second notice, nothing changed again
    assert tags(app, "writer.new@example.org").count("account:email:change") == 1


def test_account_page_links_to_change_password_and_email(client, auth, demo_users):
    auth.login()
    html = client.get("/account").get_data(as_text=True)
    assert 'href="/change"' in html and 'href="/change-email"' in html


# --- Links come from BASE_URL ------------------------------------------------------


def test_no_mail_link_takes_the_request_host(app, demo_users):
    from tests.conftest import AuthActions

    app.config["BASE_URL"] = "https://diary.example.net"
    # An attacker's client: every request (form pages included) names their host.
    client = app.test_client()
    client.environ_base.update({
        "HTTP_HOST": "evil.example",
        "HTTP_X_FORWARDED_HOST": "evil.example",
        "HTTP_X_FORWARDED_PROTO": "http",
    })
    request_reset(client, "writer@example.com")
    register(client, "new@example.org")
    register(client, "writer@example.com")  # the "already registered" mail
    AuthActions(client).login()
    request_email_change(client, "w2@example.org")
    mails = sent_mails(app)
    assert len(mails) == 4
    for message in mails:
        html = message.alternatives[0][0]
        assert "evil.example" not in message.body and "evil.example" not in html
        links = links_in(message.body)
        assert links and all(link.startswith("https://diary.example.net/") for link in links)
        assert all(link in html for link in links)


def test_confirm_links_change_nothing_without_the_button_and_csrf(app, client, auth, demo_users):
    register(client, "new@example.org")
    link = mail_link(sent_mails(app)[0], "/confirm/")
    client.get(link_path(link))
    client.head(link_path(link))
    assert client.post(link_path(link)).status_code == 400  # no CSRF token
    assert "account:email:confirmed" not in tags(app, "new@example.org")

    auth.login()
    request_email_change(client, "w2@example.org")
    change = mail_link(sent_mails(app)[1], "/change-email/")
    client.get(link_path(change))
    assert client.post(link_path(change)).status_code == 400
    assert "account:email:change" not in tags(app, "writer@example.com")


def test_change_password_ends_the_accounts_auth_tokens(app, client, auth, demo_users):
    """Flask-Security's auth tokens name the account by fs_uniquifier (Diary's user
    table has no separate fs_token_uniquifier), which a change rotates."""
    with app.test_request_context():
        user = db.session.get(User, demo_users["writer@example.com"])
        token = user.get_auth_token()
    api = app.test_client()
    headers = {"Authentication-Token": token}
    assert api.get("/api/v1/me", headers=headers).status_code == 200
    auth.login()
    change_password(client, "writerpass", NEW_PASSPHRASE)
    assert api.get("/api/v1/me", headers=headers).status_code == 401
