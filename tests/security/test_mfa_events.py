"""Flask-Security's multi-factor signals reach the audit log and the mail."""

from __future__ import annotations

import sqlalchemy as sa
from flask_security import tf_disabled, tf_profile_changed, wan_deleted, wan_registered
from flask_security.twofactor import tf_disable

from diary.extensions import db
from diary.security.core import security
from diary.models import AuditEvent, User
from diary.services.audit import AuditTag


# Sign-in and lockout events are the lockout code's (tests/security/test_events.py).
OTHER_TAGS = ("account:login:success", "account:login:failure", "account:logout",
              "account:lockout:locked", "account:lockout:unlocked")


def events(uid):
    """Return ``uid``'s events, oldest first, without sign-in and lockout events."""
    return [
        (e.tag, e.details)
        for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.user_id == uid)
            .where(AuditEvent.tag.not_in(OTHER_TAGS)).order_by(AuditEvent.id)
        )
    ]


def test_method_added_then_removed(app, make_user, outbox):
    uid = make_user("e@example.com")
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        user = db.session.get(User, uid)
        secret = security.totp_factory.generate_totp_secret()
        security.datastore.tf_set(user, "authenticator", secret)
        tf_profile_changed.send(app, user=user, method="authenticator")
        db.session.commit()
        assert user.tf_added_at is not None
        assert len(user.mf_recovery_codes) == 10  # the first second factor brings codes

        tf_disable(user)
        db.session.commit()
        assert not user.mf_recovery_codes
        ended = {"trigger": "two_factor_enrolled", "sessions": 0, "remembered": 0,
                 "tokens": 0, "refresh_tokens": 0}
        assert events(uid) == [
            # The first second factor ends every session and token made without it.
            (str(AuditTag.SESSIONS_ENDED), ended),
            (str(AuditTag.TWO_FACTOR_METHOD_ADDED), {"method": "authenticator"}),
            (str(AuditTag.RECOVERY_CODES_GENERATED), {"replaced": False}),
            (str(AuditTag.TWO_FACTOR_METHOD_REMOVED), {"method": "authenticator"}),
        ]
        event = db.session.scalar(sa.select(AuditEvent).limit(1))
        assert event.ip == "203.0.113.9"
    assert [m.subject for m in outbox] == ["Your Diary sign-in settings changed"] * 2
    assert "switched off: Authenticator app" in outbox[-1].body


def test_passkey_events(app, make_user, outbox):
    uid = make_user("e@example.com")
    with app.test_request_context("/"):
        user = db.session.get(User, uid)
        security.datastore.set_webauthn_user_handle(user)
        security.datastore.create_webauthn(
            user, name="Key", credential_id=b"id", public_key=b"pk", sign_count=0,
            transports=[], extensions=None, usage="secondary", backup_state=False,
            device_type="single_device",
        )
        wan_registered.send(app, user=user, name="Key")
        db.session.commit()
        assert len(user.mf_recovery_codes) == 10
        wan_deleted.send(app, user=user, name="Key")
        db.session.commit()
        assert not user.mf_recovery_codes
        assert [tag for tag, _ in events(uid)] == [
            str(AuditTag.SESSIONS_ENDED),  # the first second factor
            str(AuditTag.PASSKEY_REGISTERED),
            str(AuditTag.RECOVERY_CODES_GENERATED),
            str(AuditTag.PASSKEY_DELETED),
        ]
    assert len(outbox) == 2


def test_only_the_first_second_factor_ends_the_other_credentials(app, make_user):
    uid = make_user("e@example.com")
    with app.test_request_context("/"):
        user = db.session.get(User, uid)
        security.datastore.tf_set(user, "authenticator", security.totp_factory.generate_totp_secret())
        tf_profile_changed.send(app, user=user, method="authenticator")
        db.session.commit()
        security.datastore.set_webauthn_user_handle(user)
        security.datastore.create_webauthn(
            user, name="Key", credential_id=b"id", public_key=b"pk", sign_count=0,
            transports=[], extensions=None, usage="secondary", backup_state=False,
            device_type="single_device",
        )
        wan_registered.send(app, user=user, name="Key")
        db.session.commit()
        tags = [tag for tag, _ in events(uid)]
        assert tags.count(str(AuditTag.SESSIONS_ENDED)) == 1
        assert tags[0] == str(AuditTag.SESSIONS_ENDED)


def test_first_factor_failures_are_not_second_factor_events(app, make_user):
    uid = make_user("e@example.com")
    with app.test_request_context("/"):
        user = db.session.get(User, uid)
        user.track_failed_authn("password")
        assert events(uid) == []
        user.track_failed_authn("code", True)
        assert events(uid) == [(str(AuditTag.TWO_FACTOR_FAILURE), {"kind": "code"})]


def test_tf_disabled_without_prior_method(app, make_user):
    uid = make_user("e@example.com")
    with app.test_request_context("/"):
        user = db.session.get(User, uid)
        tf_disabled.send(app, user=user)
        db.session.commit()
        assert events(uid) == [(str(AuditTag.TWO_FACTOR_METHOD_REMOVED), {"method": None})]
