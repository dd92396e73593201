"""Account self-service on /account (issue 10): the display name, the time zone
the pages show dates in, and deleting the account."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import ApiToken, AuditEvent, Entry, User, UserSession
from tests.api.conftest import login_auth_token, make_pat
from tests.conftest import csrf_token

EMAIL = "self@example.com"
PASSWORD = "a-long-password"
SECRET_CONTENT = "the secret in my diary"


@pytest.fixture
def me(app, make_user):
    """A signed-in-able Writer; return its id."""
    return make_user(EMAIL, PASSWORD)


def _user(app, uid: int | None = None) -> User | None:
    with app.app_context():
        user = (db.session.get(User, uid) if uid is not None
                else db.session.scalar(sa.select(User).where(User.email == EMAIL)))
        if user is not None:
            db.session.expunge(user)
        return user


def _save_profile(client, **fields):
    data = {"name": "", "time_zone": "UTC", "csrf_token": csrf_token(client, "/account")}
    data.update(fields)
    return client.post("/account/profile", data=data)


# --- Display name ------------------------------------------------------------------


def test_the_greeting_and_the_menu_use_the_display_name(app, client, auth, me):
    auth.login(EMAIL, PASSWORD)
    page = client.get("/").get_data(as_text=True)
    assert f"Hello, {EMAIL}" in page

    response = _save_profile(client, name="  Ada <Lovelace>  ")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Ada &lt;Lovelace&gt;</h1>" in page  # trimmed, escaped
    nav = re.search(r'data-testid="current-user"[^>]*>\s*([^<]*)', page).group(1).strip()
    assert nav == "Ada &lt;Lovelace&gt;"
    assert _user(app, me).name == "Ada <Lovelace>"
    account = client.get("/account").get_data(as_text=True)
    assert 'value="Ada &lt;Lovelace&gt;"' in account  # the form shows the current name

    # Cleared: the email address again.
    assert _save_profile(client, name="   ").status_code == 302
    assert _user(app, me).name is None
    assert f"Hello, {EMAIL}" in client.get("/").get_data(as_text=True)
    with app.app_context():
        details = [e.details for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.tag == "account:profile:name")
            .order_by(AuditEvent.id))]
    assert details == [{"set": True}, {"set": False}]


@pytest.mark.parametrize("name", ["x" * 81, "Ada\nLovelace", "Ada\u202e"])
def test_a_bad_name_is_refused_and_nothing_is_saved(app, client, auth, me, name):
    auth.login(EMAIL, PASSWORD)
    response = _save_profile(client, name=name, time_zone="Asia/Tokyo")
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)
    user = _user(app, me)
    assert (user.name, user.time_zone) == (None, "UTC")


def test_the_profile_form_needs_csrf_and_a_sign_in(app, client, auth, me):
    token = csrf_token(client, "/login")
    response = client.post("/account/profile", data={"name": "Ada", "time_zone": "UTC",
                                                      "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    auth.login(EMAIL, PASSWORD)
    assert client.post("/account/profile", data={"name": "Ada", "time_zone": "UTC"}).status_code == 400
    assert client.get("/account/profile").status_code == 405
    assert _user(app, me).name is None


# --- Time zone ---------------------------------------------------------------------


def test_the_time_zone_is_chosen_from_the_iana_list(app, client, auth, me):
    auth.login(EMAIL, PASSWORD)
    page = client.get("/account").get_data(as_text=True)
    options = re.findall(r'<option (?:selected )?value="([^"]+)"', page)
    assert options == sorted(options) and len(options) > 300
    assert '<option selected value="UTC">' in page
    assert _save_profile(client, time_zone="Asia/Tokyo").status_code == 302
    assert _user(app, me).time_zone == "Asia/Tokyo"
    assert '<option selected value="Asia/Tokyo">' in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "asia/tokyo"])
def test_an_unknown_time_zone_is_refused_and_nothing_is_saved(app, client, auth, me, zone):
    auth.login(EMAIL, PASSWORD)
    response = _save_profile(client, name="Ada", time_zone=zone)
    assert response.status_code == 422
    user = _user(app, me)
    assert (user.name, user.time_zone) == (None, "UTC")


def _set_zone(app, uid, zone):
    with app.app_context():
        db.session.get(User, uid).time_zone = zone
        db.session.commit()


def test_entry_dates_are_shown_in_the_users_time_zone(app, client, auth, me):
    late = datetime(2024, 3, 2, 23, 30, tzinfo=timezone.utc)
    with app.app_context():
        entry = Entry(user_id=me, content="late", created_at=late, updated_at=late)
        db.session.add(entry)
        db.session.commit()
        entry_id = entry.id
    auth.login(EMAIL, PASSWORD)

    for path in ("/", f"/entry/{entry_id}"):
        html = client.get(path).get_data(as_text=True)
        assert '<time datetime="2024-03-02T23:30:00+00:00" title="2024-03-02 23:30 UTC">2 March 2024</time>' in html, path

    _set_zone(app, me, "Asia/Tokyo")  # UTC+9: already the next morning
    for path in ("/", f"/entry/{entry_id}"):
        html = client.get(path).get_data(as_text=True)
        # The machine-readable time stays UTC; what people read is Tokyo's.
        assert '<time datetime="2024-03-02T23:30:00+00:00" title="2024-03-03 08:30 JST">3 March 2024</time>' in html, path

    _set_zone(app, me, "America/Los_Angeles")
    assert "title=\"2024-03-02 15:30 PST\">2 March 2024</time>" in client.get("/").get_data(as_text=True)


def test_account_pages_show_dates_in_the_users_time_zone(app, client, auth, me):
    late = datetime(2025, 1, 5, 23, 30, tzinfo=timezone.utc)
    auth.login(EMAIL, PASSWORD, remember="y")
    make_pat(app, EMAIL, name="laptop")
    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(expires_at=late + timedelta(days=3650)))
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.user_id == me)
                           .values(created_at=late))
        db.session.execute(sa.update(UserSession).values(
            remember_until=datetime(2035, 1, 3, 23, 30, tzinfo=timezone.utc)))
        db.session.commit()

    def pages():
        return (client.get("/account/activity").get_data(as_text=True),
                client.get("/account/tokens").get_data(as_text=True),
                client.get("/account/sessions").get_data(as_text=True))

    activity, tokens_page, devices = pages()
    assert 'title="2025-01-05 23:30 UTC">5 January 2025</time>' in activity
    assert ">2035-01-03</time>" in tokens_page
    assert ">03 January 2035</time>" in devices

    _set_zone(app, me, "Asia/Tokyo")
    activity, tokens_page, devices = pages()
    assert 'datetime="2025-01-05T23:30:00+00:00" title="2025-01-06 08:30 JST">6 January 2025</time>' in activity
    assert ">2035-01-04</time>" in tokens_page
    assert ">04 January 2035</time>" in devices


# --- Deleting the account ----------------------------------------------------------


def _delete(client, confirmation=EMAIL, **extra):
    data = {"confirmation": confirmation, "csrf_token": csrf_token(client, "/account")}
    data.update(extra)
    return client.post("/account/delete", data=data)


def _counts(app, uid):
    with app.app_context():
        return {
            model.__name__: db.session.scalar(
                sa.select(sa.func.count()).select_from(model).where(model.user_id == uid))
            for model in (Entry, ApiToken, UserSession, AuditEvent)
        }


def test_deleting_the_account(app, client, auth, me, outbox):
    with app.app_context():
        db.session.add(Entry(user_id=me, content=SECRET_CONTENT))
        db.session.commit()
    pat, _ = make_pat(app, EMAIL)
    auth_token = login_auth_token(app, EMAIL, PASSWORD)["authentication_token"]
    other_browser = app.test_client()
    auth.__class__(other_browser).login(EMAIL, PASSWORD)
    assert other_browser.get("/").status_code == 200
    auth.login(EMAIL, PASSWORD)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {pat}"}).status_code == 200
    assert app.test_client().get(
        "/api/v1/me", headers={"Authentication-Token": auth_token}).status_code == 200
    audit_rows = _counts(app, me)["AuditEvent"]
    assert audit_rows > 0

    page = client.get("/account/delete")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Type your email address to confirm" in html
    assert 'action="/account/delete" method="post"' in html
    outbox.clear()

    response = _delete(client, confirmation=f"  {EMAIL.upper()} ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert "have been deleted" in client.get("/login").get_data(as_text=True)

    # Nothing of the account is left but its audit rows, which no longer name it.
    assert _user(app, me) is None
    assert _counts(app, me) == {"Entry": 0, "ApiToken": 0, "UserSession": 0, "AuditEvent": 0}
    with app.app_context():
        orphans = list(db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.user_id.is_(None))))
        assert len(orphans) >= audit_rows + 1
        assert "account:deleted" in {e.tag for e in orphans}
        assert all(SECRET_CONTENT not in str(e.details) for e in orphans)
        assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 0

    # Every way in is closed: this browser, the other one, the PAT, the auth token,
    # and the password.
    assert client.get("/").status_code == 302
    assert other_browser.get("/").status_code == 302
    assert app.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {pat}"}).status_code == 401
    assert app.test_client().get(
        "/api/v1/me", headers={"Authentication-Token": auth_token}).status_code == 401
    assert auth.login(EMAIL, PASSWORD).status_code == 200  # the form again: refused
    assert client.get("/").status_code == 302

    [mail] = outbox
    assert mail.to == [EMAIL] and mail.subject == "Your Diary account was deleted"
    assert "1 entry" in mail.body and SECRET_CONTENT not in mail.body


@pytest.mark.parametrize("typed", ["", "DELETE", "someone@example.com", EMAIL + "x"])
def test_a_wrong_confirmation_deletes_nothing(app, client, auth, me, outbox, typed):
    auth.login(EMAIL, PASSWORD)
    outbox.clear()
    response = _delete(client, confirmation=typed)
    assert response.status_code == 422
    assert "That is not your email address" in response.get_data(as_text=True)
    assert _user(app, me) is not None
    assert client.get("/").status_code == 200  # still signed in
    assert outbox == []


def test_deleting_needs_csrf_and_post(app, client, auth, me):
    auth.login(EMAIL, PASSWORD)
    response = client.post("/account/delete", data={"confirmation": EMAIL})
    assert response.status_code == 400
    assert _user(app, me) is not None


def test_deleting_needs_a_fresh_sign_in(app, client, auth, me, outbox):
    auth.login(EMAIL, PASSWORD)
    with client.session_transaction() as session:
        session["fs_paa"] = time.time() - 11 * 60  # signed in 11 minutes ago
    token = csrf_token(client, "/account")
    for response in (client.get("/account/delete"),
                     client.post("/account/delete", data={"confirmation": EMAIL,
                                                          "csrf_token": token})):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/verify?next=")
    assert _user(app, me) is not None
    # Confirming the password makes the session fresh again: the page comes back.
    verify = client.post("/verify", data={"password": PASSWORD,
                                          "csrf_token": csrf_token(client, "/verify")})
    assert verify.status_code == 302
    assert client.get("/account/delete").status_code == 200
    assert _delete(client).status_code == 302
    assert _user(app, me) is None


def test_the_last_active_admin_cannot_delete_their_account(app, client, auth, demo_users, outbox):
    auth.login("admin@example.com", "adminpass")
    page = client.get("/account/delete").get_data(as_text=True)
    assert 'data-testid="last-admin"' in page and "last active Admin" in page
    outbox.clear()
    response = _delete(client, confirmation="admin@example.com")
    assert response.status_code == 409
    assert "last active Admin" in response.get_data(as_text=True)
    assert _user(app, demo_users["admin@example.com"]) is not None
    assert client.get("/").status_code == 200
    assert outbox == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))
                                 .where(AuditEvent.tag == "account:deleted")) == 0


def test_an_admin_with_another_active_admin_may_delete_their_account(
        app, client, auth, demo_users, make_user):
    make_user("second-admin@example.com", role="Admin")
    auth.login("admin@example.com", "adminpass")
    assert 'data-testid="last-admin"' not in client.get("/account/delete").get_data(as_text=True)
    assert _delete(client, confirmation="admin@example.com").status_code == 302
    assert _user(app, demo_users["admin@example.com"]) is None


def test_the_account_page_links_to_deletion(client, auth, me):
    auth.login(EMAIL, PASSWORD)
    assert 'href="/account/delete"' in client.get("/account").get_data(as_text=True)


def test_anonymous_users_are_sent_to_login(client):
    for path in ("/account/delete",):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
