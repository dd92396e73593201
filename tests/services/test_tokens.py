"""Personal access token rules: creation, authentication (through the one
credential policy), revocation, the audit events next to each, and that no token
is ever stored in plain text."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.security.core import security
from diary.models import ApiToken, AuditEvent, User
from diary.models.types import Strength, utcnow
from diary.services import credentials, tokens

DAYS_90 = timedelta(days=90)


def _make(user, name, scopes, lifetime=DAYS_90, strength=Strength.PASSWORD):
    return tokens.create_token(user, name, scopes, lifetime, strength=strength)


def _authenticate(secret, ip=None):
    """The personal access token path of the credential policy; return the token."""
    return credentials.from_personal_access_token(secret, ip=ip, user_agent=None).token


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
    new = _make(writer, " phone ", ["entries:write", "entries:read"], timedelta(days=90))
    assert tokens.TOKEN_RE.match(new.secret)
    assert len(new.secret) == len("diary_pat_") + 43
    assert new.token.name == "phone"
    assert new.token.scopes == "entries:read entries:write"
    assert new.token.token_hash == tokens.hash_token(new.secret)
    assert new.token.token_hash != new.secret and new.secret not in new.token.token_hash
    assert new.token.expires_at - new.token.created_at == timedelta(days=90)
    other = _make(writer, "phone", ["entries:read"])
    assert other.secret != new.secret
    assert _tags(writer.id) == ["account:token:created", "account:token:created"]


def test_audit_events_never_hold_the_secret_or_its_hash(writer):
    new = _make(writer, "x", ["entries:read"])
    _authenticate(new.secret)
    tokens.revoke_token(writer, new.token.id)
    with pytest.raises(credentials.Refused):
        _authenticate(new.secret)
    for event in db.session.scalars(sa.select(AuditEvent)):
        text = str(event.details)
        assert new.secret not in text and new.token.token_hash not in text
        assert new.secret[len("diary_pat_"):][:16] not in text


@pytest.mark.parametrize(
    "name, scopes, lifetime",
    [
        ("", ["entries:read"], DAYS_90),
        ("   ", ["entries:read"], DAYS_90),
        ("x" * 101, ["entries:read"], DAYS_90),
        ("ok", [], DAYS_90),
        ("ok", ["entries:admin"], DAYS_90),
        ("ok", ["entries:read"], timedelta(0)),
        ("ok", ["entries:read"], timedelta(days=-1)),
        # Longer than API_TOKEN_MAX_LIFETIME_DAYS (365), and "never" unless allowed.
        ("ok", ["entries:read"], timedelta(days=366)),
        ("ok", ["entries:read"], None),
    ],
)
def test_create_refuses_bad_requests(writer, name, scopes, lifetime):
    with pytest.raises(tokens.TokenInvalid):
        _make(writer, name, scopes, lifetime)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_a_year_is_the_longest_lifetime_and_never_needs_the_operator(app, writer):
    assert _make(writer, "year", ["entries:read"], timedelta(days=365)).token.expires_at
    app.config["API_TOKEN_MAX_LIFETIME_DAYS"] = 30
    with pytest.raises(tokens.TokenInvalid, match="at most 30 days"):
        _make(writer, "long", ["entries:read"], timedelta(days=31))
    app.config["API_TOKEN_NEVER_EXPIRES_ALLOWED"] = True
    assert _make(writer, "forever", ["entries:read"], None).token.expires_at is None


def test_a_token_keeps_the_strength_of_the_session_that_made_it(writer):
    weak = _make(writer, "weak", ["entries:read"])
    strong = _make(writer, "strong", ["entries:read"], strength=Strength.MULTI_FACTOR)
    assert (weak.token.strength, strong.token.strength) == ("password", "multi-factor")
    assert _authenticate(strong.secret).strength == "multi-factor"
    identity = credentials.from_personal_access_token(weak.secret, ip=None, user_agent=None)
    assert identity.strength == Strength.PASSWORD


def test_create_refuses_beyond_the_per_user_maximum(app, writer):
    app.config["API_TOKENS_PER_USER_MAX"] = 2
    first = _make(writer, "a", ["entries:read"])
    _make(writer, "b", ["entries:read"])
    with pytest.raises(tokens.TokenInvalid):
        _make(writer, "c", ["entries:read"])
    tokens.revoke_token(writer, first.token.id)
    _make(writer, "c", ["entries:read"])


def test_authenticate_records_first_use_once_and_last_use_each_minute(writer, monkeypatch):
    new = _make(writer, "x", ["entries:read"])
    start = utcnow()
    monkeypatch.setattr(tokens, "utcnow", lambda: start)
    assert _authenticate(new.secret, ip="192.0.2.1").id == new.token.id
    monkeypatch.setattr(tokens, "utcnow", lambda: start + timedelta(seconds=30))
    _authenticate(new.secret, ip="192.0.2.2")
    assert new.token.last_used_at == start and new.token.last_used_ip == "192.0.2.1"
    monkeypatch.setattr(tokens, "utcnow", lambda: start + timedelta(minutes=2))
    _authenticate(new.secret, ip="192.0.2.3")
    assert new.token.last_used_at == start + timedelta(minutes=2)
    assert new.token.last_used_ip == "192.0.2.3"
    assert _tags(writer.id).count("account:token:first_use") == 1


@pytest.mark.parametrize("secret", [None, "", "diary_pat_", "x" * 53, "diary_pat_" + "!" * 43])
def test_authenticate_refuses_malformed(writer, secret):
    with pytest.raises(credentials.Refused) as info:
        _authenticate(secret)
    assert info.value.reason == "malformed"
    assert _tags() == ["account:token:auth_failure"]


def test_authenticate_refuses_expired_at_the_exact_instant(writer, monkeypatch):
    new = _make(writer, "x", ["entries:read"], timedelta(days=1))
    expires = new.token.expires_at
    monkeypatch.setattr(tokens, "utcnow", lambda: expires - timedelta(microseconds=1))
    _authenticate(new.secret)
    monkeypatch.setattr(tokens, "utcnow", lambda: expires)
    with pytest.raises(credentials.Refused) as info:
        _authenticate(new.secret)
    assert info.value.reason == "expired"


def test_locked_account_is_refused_not_revoked(writer):
    from diary.services import lockout

    new = _make(writer, "x", ["entries:read"])
    # The lock is read in the token's own lookup statement, not by is_locked().
    lockout.lock_by_admin(writer, reason="test", actor=None)
    with pytest.raises(credentials.Refused) as info:
        _authenticate(new.secret)
    assert info.value.reason == "locked"
    assert new.token.revoked_at is None
    assert _tags(writer.id)[-1] == "account:token:auth_failure"
    lockout.unlock(writer, reason="test")
    db.session.commit()
    assert _authenticate(new.secret).id == new.token.id


def test_a_lock_after_failed_sign_ins_refuses_the_token_until_it_ends(
    app, writer, clock, monkeypatch
):
    from diary.services import lockout

    monkeypatch.setitem(app.config, "LOCKOUT_NOTIFY", False)  # no request to link from
    new = _make(writer, "x", ["entries:read"])
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        lockout.record_failure(writer, method="password")
    with pytest.raises(credentials.Refused) as info:
        _authenticate(new.secret)
    assert info.value.reason == "locked"
    clock.advance(seconds=lockout.lock_duration(0).total_seconds() + 1)
    assert _authenticate(new.secret).id == new.token.id


def test_revoke_token_only_revokes_own_unrevoked_tokens(app, writer, demo_users):
    new = _make(writer, "x", ["entries:read"])
    other = db.session.get(User, demo_users["test@me.com"])
    with pytest.raises(tokens.TokenNotFound):
        tokens.revoke_token(other, new.token.id)
    tokens.revoke_token(writer, new.token.id)
    with pytest.raises(tokens.TokenNotFound):
        tokens.revoke_token(writer, new.token.id)
    assert tokens.list_tokens(writer) == []
    assert _tags(writer.id)[-1] == "account:token:revoked"


def test_revoke_all_tokens_for_sign_out_everywhere(writer, demo_users):
    made = [_make(writer, f"t{i}", ["entries:read"]) for i in range(3)]
    other = db.session.get(User, demo_users["test@me.com"])
    theirs = _make(other, "theirs", ["entries:read"])
    assert tokens.revoke_all_tokens(writer, reason="sign_out_everywhere").names == ["t0", "t1", "t2"]
    for new in made:
        with pytest.raises(credentials.Refused):
            _authenticate(new.secret)
    _authenticate(theirs.secret)
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.tag == "account:token:revoked")
    )
    assert event.details == {"all": True, "count": 3, "reason": "sign_out_everywhere"}
    assert tokens.revoke_all_tokens(writer, reason="sign_out_everywhere").names == []  # no second event
    assert _tags(writer.id).count("account:token:revoked") == 1


def test_deactivation_revokes_all_tokens_in_the_same_transaction(writer):
    new = _make(writer, "x", ["entries:read"])
    security.datastore.deactivate_user(writer)
    db.session.commit()
    db.session.refresh(new.token)
    assert new.token.revoked_at is not None
    security.datastore.activate_user(writer)
    db.session.commit()
    with pytest.raises(credentials.Refused) as info:
        _authenticate(new.secret)
    assert info.value.reason == "revoked"  # reactivation does not bring tokens back


def test_no_token_is_stored_in_plain_text_anywhere(app, writer):
    """Scan every text column of every table after creating and using tokens."""
    secrets_made = [_make(writer, "scan", ["entries:read"]).secret for _ in range(2)]
    _authenticate(secrets_made[0])
    with pytest.raises(credentials.Refused):
        _authenticate(secrets_made[0] + "x")
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
