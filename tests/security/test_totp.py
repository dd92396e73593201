"""DiaryTotp: a code is accepted once, and the check-and-set cannot be raced."""

from __future__ import annotations

import pyotp
import pytest
from passlib.exc import UsedTokenError
from passlib.totp import TotpMatch

from diary.extensions import db
from diary.security.core import security
from diary.models import User


@pytest.fixture
def user_and_key(app, make_user, totp_clock):
    """A user with an authenticator secret (encrypted as the library stores it) and
    pyotp's view of the same key."""
    uid = make_user("t@example.com")
    with app.app_context():
        factory = security.totp_factory
        secret = factory.generate_totp_secret()
        security.datastore.tf_set(db.session.get(User, uid), "authenticator", secret)
        db.session.commit()
        key = factory.get_totp_b32_key(secret)
    return uid, secret, pyotp.TOTP(key)


def test_code_accepted_once(app, user_and_key, totp_clock):
    uid, secret, totp = user_and_key
    code = totp.at(totp_clock.now)
    with app.app_context():
        factory = security.totp_factory
        user = db.session.get(User, uid)
        assert factory.verify_totp(code, secret, user, window=60)
        db.session.commit()
        assert not factory.verify_totp(code, secret, user, window=60)
        # An older code inside the window is refused too: time only moves forward.
        assert not factory.verify_totp(totp.at(totp_clock.now - 30), secret, user, window=60)
        assert factory.verify_totp(totp.at(totp_clock.now + 30), secret, user, window=60)


def test_last_counter_is_read_from_the_database(app, user_and_key, totp_clock):
    uid, secret, totp = user_and_key
    with app.app_context():
        assert security.totp_factory.get_last_counter(db.session.get(User, uid)) is None
        db.session.execute(db.update(User).where(User.id == uid).values(tf_totp_last_counter=42))
        db.session.commit()
        stale = db.session.get(User, uid)
        assert security.totp_factory.get_last_counter(stale) == 42


def test_check_and_set_is_atomic(app, user_and_key, totp_clock):
    """Two requests that both read "no code used yet" cannot both claim a step."""
    uid, secret, totp = user_and_key
    counter = int(totp_clock.now // 30)
    with app.app_context():
        factory = security.totp_factory
        user = db.session.get(User, uid)
        match = TotpMatch(factory._totp.from_source(secret), counter, totp_clock.now)
        factory.set_last_counter(user, match)  # the first request wins …
        db.session.commit()
        with pytest.raises(UsedTokenError):  # … the second, with a stale read, loses
            factory.set_last_counter(user, match)
        db.session.rollback()
        assert db.session.get(User, uid).tf_totp_last_counter == counter


def test_clock_is_controllable(app, user_and_key, totp_clock):
    uid, secret, totp = user_and_key
    with app.app_context():
        assert security.totp_factory.generate_totp_password(secret) == totp.at(totp_clock.now)


def test_racing_claims_on_postgresql_one_wins(app, user_and_key, totp_clock):
    """Two requests (two app contexts, two connections) claim the same step at once:
    the second UPDATE waits for the first to commit, then matches no row."""
    import threading

    uid, secret, totp = user_and_key
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks need PostgreSQL (SQLite has one writer at a time)")
    counter = int(totp_clock.now // 30)
    results: list[str] = []

    def claim() -> None:
        with app.app_context():
            factory = security.totp_factory
            user = db.session.get(User, uid)
            match = TotpMatch(factory._totp.from_source(secret), counter, totp_clock.now)
            try:
                factory.set_last_counter(user, match)
                results.append("won")
            except UsedTokenError:
                results.append("lost")
            db.session.commit()

    with app.app_context():
        factory = security.totp_factory
        user = db.session.get(User, uid)
        factory.set_last_counter(
            user, TotpMatch(factory._totp.from_source(secret), counter, totp_clock.now)
        )  # the row is now locked until this transaction ends
        second = threading.Thread(target=claim)
        second.start()  # its UPDATE waits for our lock (or runs after our commit)
        db.session.commit()
    second.join()
    assert results == ["lost"]
