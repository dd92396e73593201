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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app
from limits import parse

from diary.unavailable import RATE_LIMITS, Unavailable, one_line

T = TypeVar("T")

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
    sign_in = limit in SIGN_IN_LIMITS
    if guarded(lambda: (limiter.hit if count else limiter.test)(item, *identifiers),
               sign_in=sign_in, fallback=True):
        return
    reset_at = guarded(lambda: limiter.get_window_stats(item, *identifiers).reset_time,
                       sign_in=sign_in, fallback=time.time() + item.get_expiry())
    raise Exceeded(limit, max(1, math.ceil(reset_at - time.time())))


# Limits on checking credentials: SIGN_IN_LIMITS_FAIL_OPEN decides for them.
SIGN_IN_LIMITS = frozenset({Limit.LOGIN_PER_IP})
# Where the app keeps when its rate-limit storage was first found unreachable.
OUTAGE_KEY = "diary.ratelimit_outage"


def guarded(call: Callable[[], T], *, sign_in: bool, fallback: T) -> T:
    """Return ``call()``, a question to the rate-limit storage; if the storage
    cannot be reached, fail open or closed as the settings say.

    :param sign_in: the limit guards credential checks (``SIGN_IN_LIMITS_FAIL_OPEN``
        decides), else ``OTHER_LIMITS_FAIL_OPEN`` does.
    :param fallback: returned when failing open (the request goes on uncounted).
    :raises diary.unavailable.Unavailable: when failing closed (answered 503).

    The first failure after the storage was reachable is logged at ERROR, once,
    with its cause; the first success after it at WARNING: one loud record per
    outage of this process, not one per request.
    """
    setting = "SIGN_IN_LIMITS_FAIL_OPEN" if sign_in else "OTHER_LIMITS_FAIL_OPEN"
    try:
        answer = call()
    except Exception as error:  # the storage's own errors (redis, limits) vary
        _outage_began(error)
        if current_app.config.get(setting):
            return fallback
        raise Unavailable(RATE_LIMITS) from error
    _outage_ended()
    return answer


def outage_began_now() -> bool:
    """Note that the rate-limit storage cannot be reached; return whether that is
    news (the first failure since it last answered), to be logged."""
    state = current_app.extensions
    if state.get(OUTAGE_KEY) is not None:
        return False
    state[OUTAGE_KEY] = time.time()
    return True


def _outage_began(error: Exception) -> None:
    if outage_began_now():
        current_app.logger.error(
            "rate-limit storage unreachable (%s): sign-ins %s, other limits %s "
            "until it answers again",
            one_line(error),
            "let through uncounted" if current_app.config.get("SIGN_IN_LIMITS_FAIL_OPEN")
            else "refused with 503",
            "let through uncounted" if current_app.config.get("OTHER_LIMITS_FAIL_OPEN")
            else "refused with 503",
        )


def _outage_ended() -> None:
    began = current_app.extensions.get(OUTAGE_KEY)
    if began is not None:
        current_app.extensions[OUTAGE_KEY] = None
        current_app.logger.warning(
            "rate-limit storage reachable again after %.0f s", time.time() - began
        )
