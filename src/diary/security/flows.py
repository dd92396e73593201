"""Mail and the account flows Flask-Security runs for Diary: confirmation,
recovery, change password and change email (issue 3, items 1-3 and their audit).

The flows themselves are the library's, switched on in :mod:`diary.config`; this
module wires Diary's parts around them.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from diary import mail
from diary.security import account_events, enumeration, link_pages, links


def init_app(app: Flask) -> None:
    """Wire mail logging, ``BASE_URL`` links, the confirm pages of mailed links,
    the account-event handlers, the even work of the requests that may mail
    (:mod:`.enumeration`) and the mails' ``duration`` filter to ``app``."""
    mail.init_logging()
    links.init_app(app)
    link_pages.init_app(app)
    account_events.init_app(app)
    enumeration.init_app(app)
    app.add_template_filter(duration)


def duration(value: timedelta) -> str:
    """Return ``value`` in words for a mail, largest unit only: "1 hour", "2 days",
    "30 minutes" (link lifetimes are whole units)."""
    seconds = int(value.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
