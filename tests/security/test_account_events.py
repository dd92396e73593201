"""diary.security.account_events: Flask-Security's account signals become audit
events with the client's IP and user agent, and an email change is told to the
old address."""

from __future__ import annotations

import sqlalchemy as sa
from flask_security import password_changed, user_registered

from diary.extensions import db
from diary.models import AuditEvent, User
from tests.conftest import csrf_token, mail_link, open_confirm_link, sent_mails

UA = "Mozilla/5.0 (test) DiaryAudit/1.0"


def events(app):
    """Return the recorded events, oldest first, without sign-in/sign-out events
    (tests/security/test_events.py covers those)."""
    with app.app_context():
        query = (
            sa.select(AuditEvent)
            .where(AuditEvent.tag.not_in(("account:login:success", "account:logout")))
            .order_by(AuditEvent.id)
        )
        return [
            (e.tag, e.user_id, e.ip, e.user_agent, e.details)
            for e in db.session.scalars(query)
        ]


def test_registration_event_has_the_new_account_ip_and_user_agent(app):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": UA})
    client.post("/register", data={
        "email": "new@example.org", "password": "lantern orbit quietly mango",
        "password_confirm": "lantern orbit quietly mango",
        "csrf_token": csrf_token(client, "/register")})
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == "new@example.org"))
    assert events(app) == [("account:register", user_id, "203.0.113.7", UA, {})]


def test_success_events_share_the_transaction_of_the_change(app, make_user):
    """A handler adds its event without committing: if the library's change is
    rolled back, so is its record."""
    user_id = make_user("rollback@example.org")
    with app.test_request_context():
        user = db.session.get(User, user_id)
        password_changed.send(app, user=user)
        db.session.rollback()
    assert events(app) == []


def test_signals_from_another_app_are_not_recorded(app, make_user):
    from flask import Flask

    user_id = make_user("other@example.org")
    with app.test_request_context():
        user_registered.send(Flask("other"), user=db.session.get(User, user_id))
        db.session.commit()
    assert events(app) == []


def test_email_change_records_both_addresses_and_mails_the_old_one(app, auth, client, demo_users):
    auth.login()
    client.post("/change-email", data={
        "email": "w.new@example.org", "password": "writerpass",
        "csrf_token": csrf_token(client, "/change-email")})
    open_confirm_link(client, mail_link(sent_mails(app)[0], "/change-email/"))
    recorded = [(tag, details) for tag, _uid, _ip, _ua, details in events(app)]
    assert recorded == [
        ("account:email:change_request", {"new_email": "w.new@example.org"}),
        ("account:email:change", {"old_email": "writer@example.com",
                                  "new_email": "w.new@example.org"}),
        # The change ends the account's other sessions and tokens (none here).
        ("account:sessions:ended", {"trigger": "email_changed", "sessions": 0,
                                    "remembered": 0, "tokens": 0, "refresh_tokens": 0}),
    ]
    notice = sent_mails(app)[1]
    assert notice.to == ["writer@example.com"]
    assert notice.subject == "Your Diary email address was changed"
    html = notice.alternatives[0][0]
    assert "w.new@example.org" in notice.body and "w.new@example.org" in html
    assert "http" not in notice.body  # nothing to click in a notice
