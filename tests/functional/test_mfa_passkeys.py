"""Passkeys through the real forms, answered by a software authenticator
(tests/support/soft_webauthn.py): register several, sign in with one alone, use one
as the second factor, refuse a bad one, delete."""

from __future__ import annotations

import sqlalchemy as sa
from flask_security import user_failed_authn

from diary.extensions import db
from diary.models import AuditEvent, User, WebAuthn
from diary.services.audit import AuditTag
from tests.support.mfa_flows import page_csrf, passkey_signin, register_passkey
from tests.support.soft_webauthn import SoftAuthenticator


def audit_tags(app):
    with app.app_context():
        return [e.tag for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


def test_register_several_named_passkeys(client, auth, demo_users, app, outbox):
    laptop, phone = SoftAuthenticator(), SoftAuthenticator()
    auth.login()
    assert register_passkey(client, laptop, "Laptop").headers["Location"] == "/account/factors/added"
    register_passkey(client, phone, "Phone", usage="secondary")
    page = client.get("/account").get_data(as_text=True)
    assert "Laptop" in page and "Phone" in page
    with app.app_context():
        keys = db.session.scalars(sa.select(WebAuthn).order_by(WebAuthn.name)).all()
        assert [(k.name, k.usage) for k in keys] == [("Laptop", "first"), ("Phone", "secondary")]
    assert audit_tags(app).count(str(AuditTag.PASSKEY_REGISTERED)) == 2
    assert "A passkey was added: Phone." in outbox[-1].body


def test_sign_in_with_a_passkey_alone(client, auth, demo_users, app):
    laptop = SoftAuthenticator()
    auth.login()
    register_passkey(client, laptop, "Laptop")
    auth.logout()
    assert client.get("/").status_code == 302

    response = passkey_signin(client, laptop)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "writer@example.com" in client.get("/").get_data(as_text=True)


def test_a_sign_in_passkey_must_verify_the_user(client, auth, demo_users, app):
    no_pin = SoftAuthenticator(user_verified=False)
    auth.login()
    register_passkey(client, no_pin, "Old key")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebAuthn)) == 0


def test_passkey_as_the_second_factor(client, auth, demo_users, app):
    key = SoftAuthenticator(user_verified=False)  # a plain security key is enough here
    auth.login()
    register_passkey(client, key, "Security key", usage="secondary")
    auth.logout()

    response = auth.login()
    assert response.headers["Location"].startswith("/wan-signin")
    assert client.get("/").status_code == 302
    response = passkey_signin(client, key)
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_failed_passkey_at_the_second_factor_counts_as_one(client, auth, demo_users, app):
    key = SoftAuthenticator()
    auth.login()
    register_passkey(client, key, "Security key", usage="secondary")
    auth.logout()
    seen = []
    user_failed_authn.connect(
        lambda _a, user, auth_type, tfa=False, **_: seen.append((auth_type, tfa)), app, weak=False
    )

    auth.login()
    response = passkey_signin(client, key, tamper=True)
    assert response.status_code == 302 and "/wan-signin" in response.headers["Location"]
    assert client.get("/").status_code == 302
    assert seen == [("passkey", True)]
    assert str(AuditTag.TWO_FACTOR_FAILURE) in audit_tags(app)


def test_someone_elses_passkey_is_no_second_factor(client, auth, demo_users, app, make_user):
    make_user("eve@example.com", "eves-password")
    eve_key, writer_key = SoftAuthenticator(), SoftAuthenticator()
    auth.login("eve@example.com", "eves-password")
    register_passkey(client, eve_key, "Eve key", usage="secondary")
    auth.logout()
    auth.login()
    register_passkey(client, writer_key, "Writer key", usage="secondary")
    auth.logout()

    seen = []
    user_failed_authn.connect(
        lambda _a, user, auth_type, tfa=False, **_: seen.append((user.email, tfa)), app, weak=False
    )
    auth.login()  # the writer's password, then Eve's passkey
    passkey_signin(client, eve_key, any_key=True)
    assert client.get("/").status_code == 302  # nobody signed in
    assert seen == [("writer@example.com", True)]


def test_delete_a_passkey(client, auth, demo_users, app, outbox):
    key = SoftAuthenticator()
    auth.login()
    register_passkey(client, key, "Laptop")
    page = client.get("/account").get_data(as_text=True)
    response = client.post("/wan-delete", data={"name": "Laptop", "csrf_token": page_csrf(page)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebAuthn)) == 0
    assert str(AuditTag.PASSKEY_DELETED) in audit_tags(app)
    assert "A passkey was deleted: Laptop." in outbox[-1].body
    auth.logout()
    response = passkey_signin(client, key)
    assert client.get("/").status_code == 302


def test_second_factor_passkey_brings_recovery_codes(client, auth, demo_users, app):
    auth.login()
    register_passkey(client, SoftAuthenticator(), "Key", usage="secondary")
    page = client.get("/account/factors/added").get_data(as_text=True)
    assert page.count("<li><code>") == 10
    with app.app_context():
        user = db.session.get(User, demo_users["writer@example.com"])
        assert len(user.mf_recovery_codes) == 10


def test_sign_in_passkey_brings_no_recovery_codes(client, auth, demo_users, app):
    auth.login()
    register_passkey(client, SoftAuthenticator(), "Laptop")
    assert client.get("/account/factors/added").headers["Location"] == "/account"


def test_with_two_second_factors_the_user_picks_one(client, auth, demo_users, app, totp_clock):
    from tests.support.mfa_flows import setup_totp

    key = SoftAuthenticator()
    auth.login()
    setup_totp(client, totp_clock)
    register_passkey(client, key, "Key", usage="secondary")
    auth.logout()

    response = auth.login()
    assert response.headers["Location"].startswith("/tf-select")
    page = client.get("/tf-select").get_data(as_text=True)
    assert "My passkey" in page and "Code from my authenticator app" in page
    response = client.post("/tf-select", data={"which": "webauthn", "csrf_token": page_csrf(page)})
    assert response.headers["Location"].startswith("/wan-signin")
    assert passkey_signin(client, key).headers["Location"] == "/"
