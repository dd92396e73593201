"""A user's own profile, set on ``/account``: the name the pages greet them by and
the time zone the pages show dates in.

Both are plain facts about the user, never secrets, but both are checked here, on
every way in (the account page, the registration form): a name is trimmed, at most
:data:`NAME_MAX_LENGTH` characters and free of control characters (a newline or a
right-to-left override in a name shown on other people's pages would change how
those pages read); a time zone is one of the IANA names the ``zoneinfo`` database
knows. Each change is recorded in the audit log, without the name itself (it is
personal data, and the audit log outlives a deleted account).
"""

from __future__ import annotations

import unicodedata
from datetime import tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from diary.extensions import db
from diary.models import User
from diary.services.audit import AuditTag, record_event

NAME_MAX_LENGTH = 80
DEFAULT_TIME_ZONE = "UTC"
UTC = ZoneInfo(DEFAULT_TIME_ZONE)

# Unicode categories refused in a name: control characters, surrogates, private
# use and unassigned code points, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})
# Format characters that reorder the text around them (bidirectional overrides
# and isolates). Other format characters (the zero-width joiner of emoji
# sequences) are allowed.
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class ProfileInvalid(ValueError):
    """A name or time zone that is refused; ``field`` names which (``name`` or
    ``time_zone``), the message says why in words for the user."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def clean_name(raw: str | None) -> str | None:
    """Return ``raw`` as a display name: trimmed and NFC-normalized; None for an
    empty one (no name: the email address is shown).

    :raises ProfileInvalid: longer than :data:`NAME_MAX_LENGTH` characters, or
        holding a control character.
    """
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ProfileInvalid("name", "Enter your name as text.")
    name = unicodedata.normalize("NFC", raw.strip())
    if not name:
        return None
    if len(name) > NAME_MAX_LENGTH:
        raise ProfileInvalid("name", f"Use at most {NAME_MAX_LENGTH} characters.")
    if any(
        ch in _BIDI_CONTROLS or unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in name
    ):
        raise ProfileInvalid("name", "Use letters, digits, spaces and punctuation only.")
    return name


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Return every IANA time zone name this system knows, sorted (computed once:
    it reads the zone database from disk)."""
    return tuple(sorted(available_timezones()))


def is_time_zone(name: str | None) -> bool:
    """Return whether ``name`` is one of :func:`time_zones`."""
    return isinstance(name, str) and name in _time_zone_set()


@lru_cache(maxsize=1)
def _time_zone_set() -> frozenset[str]:
    return frozenset(time_zones())


def zone(name: str | None) -> tzinfo:
    """Return the time zone called ``name``; UTC for None or a name this system
    does not know (a zone removed from the database since it was chosen)."""
    if not name or name == DEFAULT_TIME_ZONE:
        return UTC
    try:
        return ZoneInfo(name)  # cached by zoneinfo: one object per name
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def update_profile(
    user: User,
    *,
    name: str | None,
    time_zone: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> list[str]:
    """Set ``user``'s display name (None or blank clears it) and time zone; record
    each change; commit; return the fields that changed (``name``, ``time_zone``).

    Nothing is stored unless both values are good.

    :raises ProfileInvalid: a bad name (see :func:`clean_name`) or a time zone
        that is not an IANA name.
    """
    cleaned = clean_name(name)
    if not is_time_zone(time_zone):
        raise ProfileInvalid("time_zone", "Choose a time zone from the list.")
    changed = []
    if cleaned != user.name:
        record_event(
            AuditTag.DISPLAY_NAME_CHANGED,
            user=user,
            ip=ip,
            user_agent=user_agent,
            # Whether a name is set, never the name: the audit log outlives the
            # account.
            details={"set": cleaned is not None},
            commit=False,
        )
        user.name = cleaned
        changed.append("name")
    if time_zone != user.time_zone:
        record_event(
            AuditTag.TIME_ZONE_CHANGED,
            user=user,
            ip=ip,
            user_agent=user_agent,
            details={"from": user.time_zone, "to": time_zone},
            commit=False,
        )
        user.time_zone = time_zone
        changed.append("time_zone")
    db.session.commit()
    return changed
