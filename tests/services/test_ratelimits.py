"""Named rate limits, counted in the app's own Flask-Limiter storage."""

from __future__ import annotations

import pytest

from diary.services import ratelimits
from diary.services.ratelimits import Limit


def test_a_limit_counts_per_key_and_says_when_to_retry(app):
    app.config["LIMIT_REGISTER_PER_IP"] = "2 per hour"
    with app.app_context():
        ratelimits.hit(Limit.REGISTER_PER_IP, "192.0.2.1")
        ratelimits.hit(Limit.REGISTER_PER_IP, "192.0.2.1")
        with pytest.raises(ratelimits.Exceeded) as exceeded:
            ratelimits.hit(Limit.REGISTER_PER_IP, "192.0.2.1")
        assert exceeded.value.limit is Limit.REGISTER_PER_IP
        assert 1 <= exceeded.value.retry_after <= 3600
        ratelimits.hit(Limit.REGISTER_PER_IP, "192.0.2.2")  # another address
        ratelimits.hit(Limit.LOGIN_PER_IP, "192.0.2.1")  # another limit


def test_check_does_not_count_but_tells_when_the_limit_is_used_up(app):
    app.config["LIMIT_API_AUTH_FAILURES_PER_IP"] = "2 per minute"
    with app.app_context():
        for _ in range(5):
            ratelimits.check(Limit.API_AUTH_FAILURES_PER_IP, "192.0.2.1")
        ratelimits.hit(Limit.API_AUTH_FAILURES_PER_IP, "192.0.2.1")
        ratelimits.check(Limit.API_AUTH_FAILURES_PER_IP, "192.0.2.1")
        ratelimits.hit(Limit.API_AUTH_FAILURES_PER_IP, "192.0.2.1")
        with pytest.raises(ratelimits.Exceeded) as exceeded:
            ratelimits.check(Limit.API_AUTH_FAILURES_PER_IP, "192.0.2.1")
        assert 1 <= exceeded.value.retry_after <= 60
        ratelimits.check(Limit.API_AUTH_FAILURES_PER_IP, "192.0.2.2")


def test_each_app_counts_in_its_own_storage(app, database_url, tmp_path):
    from diary import create_app
    from tests.conftest import base_config

    app.config["LIMIT_REGISTER_PER_IP"] = "1 per hour"
    with app.app_context():
        ratelimits.hit(Limit.REGISTER_PER_IP, "192.0.2.1")
    other = create_app(base_config(database_url, str(tmp_path / "other")))
    other.config["LIMIT_REGISTER_PER_IP"] = "1 per hour"
    with other.app_context():
        ratelimits.hit(Limit.REGISTER_PER_IP, "192.0.2.1")  # fresh memory storage
    with app.app_context(), pytest.raises(ratelimits.Exceeded):
        ratelimits.hit(Limit.REGISTER_PER_IP, "192.0.2.1")


def test_a_mailed_reset_link_counts_toward_both_reset_limits(app):
    app.config["LIMIT_RESET_PER_IP"] = "3 per hour"
    app.config["LIMIT_RESET_PER_EMAIL"] = "2 per hour"
    with app.app_context():
        assert ratelimits.count_reset_mail("192.0.2.1", "a@example.org")
        assert ratelimits.count_reset_mail("192.0.2.2", "A@Example.org ")
        # The address's limit is used up, from any IP; a POST /reset counts alike.
        assert not ratelimits.count_reset_mail("192.0.2.3", "a@example.org")
        with pytest.raises(ratelimits.Exceeded):
            ratelimits.hit(Limit.RESET_PER_EMAIL, ratelimits.email_key("a@example.org"))
        # 192.0.2.1 has one count left for another address, then none.
        assert ratelimits.count_reset_mail("192.0.2.1", "b@example.org")
        ratelimits.hit(Limit.RESET_PER_IP, "192.0.2.1")
        assert not ratelimits.count_reset_mail("192.0.2.1", "c@example.org")
        # Refused by its IP, c@ was not counted: it has both of its counts left.
        assert ratelimits.count_reset_mail("192.0.2.9", "c@example.org")
        assert ratelimits.count_reset_mail("192.0.2.9", "c@example.org")


def test_email_keys_are_hashed_and_normalised():
    key = ratelimits.email_key(" Someone@Example.com ")
    assert key == ratelimits.email_key("someone@example.com")
    assert "example" not in key and len(key) == 32


def test_an_unreachable_storage_fails_closed_for_sign_in_and_open_elsewhere(app, monkeypatch):
    from diary.unavailable import Unavailable

    class Broken:
        def hit(self, *args):
            raise ConnectionError("redis is down")

    monkeypatch.setitem(app.extensions, ratelimits.EXTENSION_KEY, Broken())
    with app.app_context():
        with pytest.raises(Unavailable):
            ratelimits.hit(Limit.LOGIN_PER_IP, "192.0.2.1")
        ratelimits.hit(Limit.REGISTER_PER_IP, "192.0.2.1")  # let through, logged
        app.config["SIGN_IN_LIMITS_FAIL_OPEN"] = True
        app.config["OTHER_LIMITS_FAIL_OPEN"] = False
        ratelimits.hit(Limit.LOGIN_PER_IP, "192.0.2.1")
        with pytest.raises(Unavailable):
            ratelimits.hit(Limit.REGISTER_PER_IP, "192.0.2.1")
