"""Named rate limits (warehouse style: ``ip.login``, ``email.reset`` …).

Each limit has a name, a setting that holds its rate (``"10 per minute"``, parsed
by the ``limits`` library that Flask-Limiter is built on) and a key it counts by:
the client's IP address or the email address a form asks about. Counting happens in
the storage Flask-Limiter was configured with (``RATELIMIT_STORAGE_URI``: memory,
or Redis when ``REDIS_URL`` is set, so every app instance shares the counts).
"""

from __future__ import annotations

import enum
import hashlib
import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import parse

# Where :func:`diary.security.ratelimits.init_app` keeps the app's rate limiter.
EXTENSION_KEY = "diary.ratelimiter"
# First part of every storage key, so Diary's counts never mix with another
# application's in a shared Redis.
KEY_PREFIX = "diary"


class Limit(enum.Enum):
    """Every named limit and the setting that holds its rate."""

    LOGIN_PER_IP = ("ip.login", "LIMIT_LOGIN_PER_IP")
    REGISTER_PER_IP = ("ip.register", "LIMIT_REGISTER_PER_IP")
    RESET_PER_IP = ("ip.reset", "LIMIT_RESET_PER_IP")
    RESET_PER_EMAIL = ("email.reset", "LIMIT_RESET_PER_EMAIL")
    CONFIRM_PER_IP = ("ip.confirm", "LIMIT_CONFIRM_PER_IP")
    CONFIRM_PER_EMAIL = ("email.confirm", "LIMIT_CONFIRM_PER_EMAIL")
    API_AUTH_FAILURES_PER_IP = ("ip.api_auth_failure", "LIMIT_API_AUTH_FAILURES_PER_IP")

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def setting(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class Exceeded(Exception):
    """A request went over ``limit``; it may be tried again in ``retry_after`` s."""

    limit: Limit
    retry_after: int


def email_key(email: str) -> str:
    """Return the key an email address is counted under: a hash, so addresses
    never sit in the rate-limit storage in plain text."""
    normalized = email.strip().casefold()
    return hashlib.sha256(normalized.encode()).hexdigest()[:32]


def hit(limit: Limit, key: str) -> None:
    """Count one request against ``limit`` for ``key``.

    :raises Exceeded: if the limit was already used up; the request is not counted.
    """
    _ask(limit, key, count=True)


def count_reset_mail(ip: str, email: str) -> bool:
    """Count one mail with a reset link for ``email``, asked for from ``ip``, toward
    the reset limits (per IP, then per address), as a reset request is counted.

    For mails that carry a reset link without a request to /reset (registering an
    address that already has an account), so that no other way in mails more links
    than /reset would.

    :return: False if a limit was already used up: the link must not be mailed.
    """
    try:
        hit(Limit.RESET_PER_IP, ip)
        hit(Limit.RESET_PER_EMAIL, email_key(email))
    except Exceeded:
        return False
    return True


def check(limit: Limit, key: str) -> None:
    """Check, without counting, that ``limit`` has room left for ``key``: for
    limits that count only failures, checked before the attempt and hit after a
    failure.

    :raises Exceeded: if the limit is used up.
    """
    _ask(limit, key, count=False)


def _ask(limit: Limit, key: str, count: bool) -> None:
    item = parse(current_app.config[limit.setting])
    limiter = current_app.extensions[EXTENSION_KEY]
    # RATELIMIT_KEY_PREFIX is Flask-Limiter's own setting for sharing one storage
    # between deployments (and tests); it goes into Diary's keys too.
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    identifiers = (KEY_PREFIX, prefix, limit.label, key)
    try:
        if (limiter.hit if count else limiter.test)(item, *identifiers):
            return
    except Exception:
        # The storage (Redis) is unreachable. Flask-Limiter's own setting decides,
        # as for its decorators: let the request through and log, or fail.
        if not current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
            raise
        current_app.logger.exception("rate limit %s not checked", limit.label)
        return
    reset_at = limiter.get_window_stats(item, *identifiers).reset_time
    raise Exceeded(limit, max(1, math.ceil(reset_at - time.time())))
