"""diary.services.passwords: the password policy itself."""

from __future__ import annotations

import pytest

from diary.services.passwords import ZXCVBN_MAX_LENGTH, context_words, password_problems

EMAIL = "alice.smith@example.org"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def problems(password, **kw):
    kw.setdefault("email", EMAIL)
    return password_problems(password, **kw)


@pytest.mark.parametrize("password", ["password", "Summer2026!", "Password1234", "qwertyuiop12"])
def test_common_and_breached_style_passwords_are_refused(ctx, password):
    assert problems(password)


def test_too_short_says_the_minimum(ctx):
    [reason] = problems("Summer2026!")
    assert "at least 12 characters" in reason
    [reason] = problems("password")
    assert "at least 12 characters" in reason


def test_the_users_own_email_is_refused_and_said_so(ctx):
    [reason] = problems(EMAIL)
    assert reason == "Do not use your email address as your password."
    assert problems(EMAIL.upper())


def test_passwords_built_from_the_account_are_refused(ctx):
    [reason] = problems("alicesmith2026")
    assert "email address, username" in reason
    assert problems("example.org.2026")
    assert problems("bobthebuilder2026", username="bobthebuilder")
    assert problems("bobthebuilder2026", username="someone") == []
    # the same strings pass for another account: the context is what refused them
    assert problems("alicesmith2026", email="zz@zz.io") != problems("alicesmith2026")


def test_long_passphrases_are_accepted(ctx):
    assert problems("lantern orbit quietly mango") == []
    assert problems("correct horse battery staple") == []


def test_no_composition_rules(ctx):
    # all lower case, no digit, no symbol: fine when long and uncommon
    assert problems("plumcrownsailingmeteor") == []


def test_length_bounds_count_characters(ctx, app):
    assert problems("x7!" * 43)  # 129 characters
    [reason] = problems("lantern orbit quietly mango " * 5)  # 140
    assert reason == "Use at most 128 characters."
    app.config["PASSWORD_LENGTH_MAX"] = 200
    assert problems("lantern orbit quietly mango " * 5) == []


def test_passwords_longer_than_zxcvbn_judges_are_accepted_not_crashed(ctx):
    long = "lantern orbit quietly mango violet harbour seventeen kites copper whistle"
    assert len(long) > ZXCVBN_MAX_LENGTH
    assert problems(long) == []


def test_settings_change_the_rules(ctx, app):
    app.config["SECURITY_PASSWORD_LENGTH_MIN"] = 20
    assert "at least 20" in problems("lantern orbit mango")[0]
    app.config["SECURITY_PASSWORD_LENGTH_MIN"] = 8
    app.config["SECURITY_ZXCVBN_MINIMUM_SCORE"] = 1
    assert problems("Summer2026!") == []


def test_context_words():
    words = context_words("Alice.Smith-99@Mail.Example.org", "ali_s")
    for expected in ("alice.smith-99@mail.example.org", "alice.smith-99", "alice", "smith",
                     "mail.example.org", "mail", "example", "ali_s", "diary"):
        assert expected in words
    assert "99" not in words and "s" not in words  # short pieces match too much
    assert context_words(None, None) == ["diary", "journal"]
