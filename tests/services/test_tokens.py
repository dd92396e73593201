"""Personal access token rules: creation, authentication, revocation, the audit
events next to each, and that no token is ever stored in plain text."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from diary.extensions import db, security
from diary.models import ApiToken, AuditEvent, User
from diary.models.types import utcnow
from diary.services import tokens


@pytest.fixture
def writer(app, demo_users):
    with app.app_context():
        yield db.session.get(User, demo_users["writer@example.com"])


def _tags(user_id=None):
    query = sa.select(AuditEvent.tag).order_by(AuditEvent.id)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    return list(db.session.scalars(query))


def test_create_returns_a_prefixed_high_entropy_secret_stored_only_as_sha256(writer):
    new = tokens.create_token(writer, " phone ", ["entries:write", "entries:read"], timedelta(days=90))
    assert tokens.TOKEN_RE.match(new.secret)
    assert len(new.secret) == len("diary_pat_") + 43
    assert new.token.name == "phone"
    assert new.token.scopes == "entries:read entries:write"
    assert new.token.token_hash == tokens.hash_token(new.secret)
    assert new.token.token_hash != new.secret and new.secret not in new.token.token_hash
    assert new.token.expires_at - new.token.created_at == timedelta(days=90)
    other = tokens.create_token(writer, "phone", ["entries:read"], None)
    assert other.secret != new.secret and other.token.expires_at is None
    assert _tags(writer.id) == ["account:token:created", "account:token:created"]


def test_audit_events_never_hold_the_secret_or_its_hash(writer):
    new = tokens.create_token(writer, "x", ["entries:read"], None)
    tokens.authenticate(new.secret)
    tokens.revoke_token(writer, new.token.id)
    with pytest.raises(tokens.TokenRefused):
        tokens.authenticate(new.secret)
    for event in db.session.scalars(sa.select(AuditEvent)):
        text = str(event.details)
        assert new.secret not in text and new.token.token_hash not in text
        assert new.secret[len("diary_pat_"):][:16] not in text


@pytest.mark.parametrize(
    "name, scopes, lifetime",
    [
        ("", ["entries:read"], None),
        ("   ", ["entries:read"], None),
        ("x" * 101, ["entries:read"], None),
        ("ok", [], None),
        ("ok", ["entries:admin"], None),
        ("ok", ["entries:read"], timedelta(0)),
        ("ok", ["entries:read"], timedelta(days=-1)),
    ],
)
def test_create_refuses_bad_requests(writer, name, scopes, lifetime):
    with pytest.raises(tokens.TokenInvalid):
        tokens.create_token(writer, name, scopes, lifetime)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_create_refuses_beyond_the_per_user_maximum(app, writer):
    app.config["API_TOKENS_PER_USER_MAX"] = 2
    first = tokens.create_token(writer, "a", ["entries:read"], None)
    tokens.create_token(writer, "b", ["entries:read"], None)
    with pytest.raises(tokens.TokenInvalid):
        tokens.create_token(writer, "c", ["entries:read"], None)
    tokens.revoke_token(writer, first.token.id)
    tokens.create_token(writer, "c", ["entries:read"], None)


def test_authenticate_records_first_use_once_and_last_use_each_minute(writer, monkeypatch):
    new = tokens.create_token(writer, "x", ["entries:read"], None)
    start = utcnow()
    monkeypatch.setattr(tokens, "utcnow", lambda: start)
    assert tokens.authenticate(new.secret, ip="192.0.2.1").id == new.token.id
    monkeypatch.setattr(tokens, "utcnow", lambda: start + timedelta(seconds=30))
    tokens.authenticate(new.secret, ip="192.0.2.2")
    assert new.token.last_used_at == start and new.token.last_used_ip == "192.0.2.1"
    monkeypatch.setattr(tokens, "utcnow", lambda: start + timedelta(minutes=2))
    tokens.authenticate(new.secret, ip="192.0.2.3")
    assert new.token.last_used_at == start + timedelta(minutes=2)
    assert new.token.last_used_ip == "192.0.2.3"
    assert _tags(writer.id).count("account:token:first_use") == 1


@pytest.mark.parametrize("secret", [None, "", "diary_pat_", "x" * 53, "diary_pat_" + "!" * 43])
def test_authenticate_refuses_malformed(writer, secret):
    with pytest.raises(tokens.TokenRefused) as info:
        tokens.authenticate(secret)
    assert info.value.reason == "malformed"
    assert _tags() == ["account:token:auth_failure"]


def test_authenticate_refuses_expired_at_the_exact_instant(writer, monkeypatch):
    new = tokens.create_token(writer, "x", ["entries:read"], timedelta(days=1))
    expires = new.token.expires_at
    monkeypatch.setattr(tokens, "utcnow", lambda: expires - timedelta(microseconds=1))
    tokens.authenticate(new.secret)
    monkeypatch.setattr(tokens, "utcnow", lambda: expires)
    with pytest.raises(tokens.TokenRefused) as info:
        tokens.authenticate(new.secret)
    assert info.value.reason == "expired"


def test_locked_account_is_refused_not_revoked(writer, monkeypatch):
    new = tokens.create_token(writer, "x", ["entries:read"], None)
    monkeypatch.setattr(User, "is_locked", lambda self, form_error=None: True)
    with pytest.raises(tokens.AccountLocked):
        tokens.authenticate(new.secret)
    assert new.token.revoked_at is None
    assert _tags(writer.id)[-1] == "account:token:auth_failure"


def test_revoke_token_only_revokes_own_unrevoked_tokens(app, writer, demo_users):
    new = tokens.create_token(writer, "x", ["entries:read"], None)
    other = db.session.get(User, demo_users["test@me.com"])
    with pytest.raises(tokens.TokenNotFound):
        tokens.revoke_token(other, new.token.id)
    tokens.revoke_token(writer, new.token.id)
    with pytest.raises(tokens.TokenNotFound):
        tokens.revoke_token(writer, new.token.id)
    assert tokens.list_tokens(writer) == []
    assert _tags(writer.id)[-1] == "account:token:revoked"


def test_revoke_all_tokens_for_sign_out_everywhere(writer, demo_users):
    made = [tokens.create_token(writer, f"t{i}", ["entries:read"], None) for i in range(3)]
    other = db.session.get(User, demo_users["test@me.com"])
    theirs = tokens.create_token(other, "theirs", ["entries:read"], None)
    assert tokens.revoke_all_tokens(writer) == 3
    for new in made:
        with pytest.raises(tokens.TokenRefused):
            tokens.authenticate(new.secret)
    tokens.authenticate(theirs.secret)
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.tag == "account:token:revoked")
    )
    assert event.details == {"all": True, "count": 3, "reason": "sign_out_everywhere"}
    assert tokens.revoke_all_tokens(writer) == 0  # nothing left: no second event
    assert _tags(writer.id).count("account:token:revoked") == 1


def test_deactivation_revokes_all_tokens_in_the_same_transaction(writer):
    new = tokens.create_token(writer, "x", ["entries:read"], None)
    security.datastore.deactivate_user(writer)
    db.session.commit()
    db.session.refresh(new.token)
    assert new.token.revoked_at is not None
    security.datastore.activate_user(writer)
    db.session.commit()
    with pytest.raises(tokens.TokenRefused) as info:
        tokens.authenticate(new.secret)
    assert info.value.reason == "revoked"  # reactivation does not bring tokens back


def test_no_token_is_stored_in_plain_text_anywhere(app, writer):
    """Scan every text column of every table after creating and using tokens."""
    secrets_made = [tokens.create_token(writer, "scan", ["entries:read"], None).secret for _ in range(2)]
    tokens.authenticate(secrets_made[0])
    with pytest.raises(tokens.TokenRefused):
        tokens.authenticate(secrets_made[0] + "x")
    random_parts = [s[len("diary_pat_"):] for s in secrets_made]
    inspector = sa.inspect(db.engine)
    scanned = 0
    for table_name in inspector.get_table_names():
        table = sa.Table(table_name, sa.MetaData(), autoload_with=db.engine)
        for row in db.session.execute(sa.select(table)).mappings():
            for column, value in row.items():
                if value is None:
                    continue
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                scanned += 1
                for part in random_parts:
                    # Any 16-character run of the token would be a leak.
                    for i in range(0, len(part) - 16, 8):
                        assert part[i:i + 16] not in text, f"{table_name}.{column}"
    assert scanned > 20


def test_deactivation_also_revokes_refresh_trackers(app, writer):
    from diary.models import FsRefreshTracker

    security.datastore.create_refresh_tracker(
        writer, name="default", expires_at=security.datetime_factory() + timedelta(days=1)
    )
    db.session.commit()
    security.datastore.deactivate_user(writer)
    db.session.commit()
    tracker = db.session.scalar(sa.select(FsRefreshTracker))
    assert tracker.revoked_at is not None
