"""Session lifetime rule and sign out everywhere."""

from __future__ import annotations

from diary.extensions import db, security
from diary.models import AuditEvent, User
from diary.services import sessions
from diary.services.sessions import Expiry


def test_idle_and_absolute_limits(app):
    with app.app_context():
        assert sessions.expiry_reason(0, 0, at=30 * 60 - 1) is None
        assert sessions.expiry_reason(0, 0, at=30 * 60) is Expiry.IDLE
        twelve_hours = 12 * 60 * 60
        assert sessions.expiry_reason(0, twelve_hours - 60, at=twelve_hours - 1) is None
        assert sessions.expiry_reason(0, twelve_hours - 60, at=twelve_hours) is Expiry.ABSOLUTE
        app.config["SESSION_IDLE_TIMEOUT"] = 60
        assert sessions.expiry_reason(0, 0, at=60) is Expiry.IDLE


def test_sign_out_everywhere_rotates_the_identity_key_and_is_audited(app, make_user):
    user_id = make_user("everywhere@example.com")
    with app.test_request_context():
        token = db.session.get(User, user_id).get_auth_token()
    headers = {"Authentication-Token": token, "Accept": "application/json"}
    assert app.test_client().get("/", headers=headers).status_code == 200

    with app.test_request_context():
        user = db.session.get(User, user_id)
        old = user.fs_uniquifier
        sessions.sign_out_everywhere(user, ip="192.0.2.7", user_agent="UA")
        db.session.expire_all()
        user = db.session.get(User, user_id)
        assert user.fs_uniquifier != old
        assert security.datastore.find_user(fs_uniquifier=old) is None
        event = db.session.query(AuditEvent).one()
        assert (event.tag, event.user_id, event.ip) == (
            "account:sessions:sign_out_everywhere", user_id, "192.0.2.7",
        )
    # The auth token issued before no longer authenticates.
    assert app.test_client().get("/", headers=headers).status_code == 401
