"""Template filters for friendly dates, and the ``when(entry)`` global built on them.

Dates are stored in UTC and shown in the signed-in user's time zone
(``User.time_zone``, set on ``/account``); anonymous pages use UTC. The zone is
looked up once per request (:func:`user_zone`), and converting a date to it is a
C call, so a list of entries costs what it did in UTC (bench/dashboard). The
``datetime`` attribute of ``<time>`` stays in UTC (:func:`iso_time`): it is for
machines, the text is for people.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from urllib.parse import quote

from flask import current_app, g, has_request_context, url_for
from flask_security import current_user
from markupsafe import Markup, escape

from diary.services import markdown, profile
from diary.web import bp

_ZONE_KEY = "diary_user_zone"


def user_zone() -> tzinfo:
    """Return the time zone of this request's user (UTC when nobody is signed in,
    or outside a request)."""
    if not has_request_context():
        return profile.UTC
    zone = g.get(_ZONE_KEY)
    if zone is None:
        zone = profile.zone(getattr(current_user, "time_zone", None))
        setattr(g, _ZONE_KEY, zone)
    return zone


# Month names of the pages (English, whatever the server's locale): strftime's %B
# follows the locale and costs a C call per date.
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)
_NOW_KEY = "diary_now"


def _now() -> datetime:
    """Return the time of this request (one instant for every date of a page), or
    the current time outside a request."""
    if not has_request_context():
        return datetime.now(timezone.utc)
    now = g.get(_NOW_KEY)
    if now is None:
        now = datetime.now(timezone.utc)
        setattr(g, _NOW_KEY, now)
    return now


@bp.app_template_filter("friendly_time")
def friendly_time(
    value: datetime, now: datetime | None = None, zone: tzinfo | None = None
) -> str:
    """Return ``value`` as people say it, in ``zone`` (default: the user's): "just
    now", "5 minutes ago", "yesterday at 14:05", "3 March at 09:00" or
    "3 March 2024". "Yesterday" and the year are those of ``zone``'s calendar."""
    zone = zone or user_zone()
    return _friendly(value.astimezone(zone), (now or _now()).astimezone(zone))


def _friendly(value: datetime, now: datetime) -> str:
    """:func:`friendly_time` of ``value`` at ``now``, both already in the zone."""
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    days = (now.date() - value.date()).days
    if days == 0:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    # The clock only where it is said: lists call this for every entry.
    if days == 1:
        return f"yesterday at {value.hour:02d}:{value.minute:02d}"
    if value.year == now.year:
        return f"{value.day} {_MONTHS[value.month - 1]} at {value.hour:02d}:{value.minute:02d}"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


@bp.app_template_filter("iso_time")
def iso_time(value: datetime) -> str:
    """Return ``value`` as an ISO 8601 UTC timestamp for ``<time datetime>``."""
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


@bp.app_template_filter("local_time")
def local_time(value: datetime, fmt: str = "%Y-%m-%d %H:%M %Z", zone: tzinfo | None = None) -> str:
    """Return ``value`` in ``zone`` (default: the user's), formatted by ``fmt``
    (``strftime``; the default ends with the zone's abbreviation, e.g. "CET")."""
    return value.astimezone(zone or user_zone()).strftime(fmt)


@bp.app_template_global("now_local")
def now_local(fmt: str = "%H:%M", zone: tzinfo | None = None) -> str:
    """Return the current time in ``zone`` (default: the user's), formatted."""
    return local_time(datetime.now(timezone.utc), fmt, zone)


@bp.app_template_global("when")
def when(entry, now: datetime | None = None, zone: tzinfo | None = None) -> Markup:
    """Return the ``<time>`` element saying when ``entry`` was written, in ``zone``
    (default: the user's), followed by "(edited …)" if it was changed more than a
    second after.

    Python rather than a Jinja macro, and plain arithmetic rather than strftime:
    lists render it once per entry, and as a macro with three filters it was a
    large share of the dashboard's rendering time (bench/dashboard); with strftime,
    half of a list's (bench/profile).
    """
    zone = zone or user_zone()
    now = (now or _now()).astimezone(zone)
    created = entry.created_at.astimezone(zone)
    html = (
        f'<time datetime="{iso_time(created)}" title="{created.year:04d}-{created.month:02d}-'
        f'{created.day:02d} {created.hour:02d}:{created.minute:02d} {created.tzname()}">'
        f"{escape(_friendly(created, now))}</time>"
    )
    if (entry.updated_at - created).total_seconds() > 1:
        edited = escape(_friendly(entry.updated_at.astimezone(zone), now))
        html += f'\n<small class="muted">(edited {edited})</small>'
    return Markup(html)


@bp.app_template_filter("markdown")
def markdown_html(content: str, tag_links: bool = True) -> Markup:
    """Return an entry's ``content`` (Markdown) as safe HTML
    (:func:`diary.services.markdown.render`), its ``#tags`` linking to the
    dashboard's list of the reader's own entries with that tag; with
    ``tag_links=False`` (somebody else's entry, whose tags are not the reader's)
    they stay text."""
    dashboard = ""
    if tag_links:
        dashboard = g.get(_DASHBOARD_KEY)
        if dashboard is None:
            dashboard = url_for("web.dashboard")
            setattr(g, _DASHBOARD_KEY, dashboard)
    images = bool(current_app.config["MARKDOWN_IMAGES"])
    if len(content) > _CACHED_LENGTH_MAX:
        return Markup(_render(content, dashboard, images))
    return Markup(_rendered(content, dashboard, images))


_DASHBOARD_KEY = "diary_dashboard_url"
# Rendering costs about 0.3 to 0.5 ms for a 280-character entry, 20 of them a
# dashboard's 6 to 10 ms: the HTML of recent entries is kept, by content (the same
# text gives the same HTML whoever wrote it), so a dashboard shown again renders
# nothing anew. Only entries up to this length, so the cache stays a few MB
# whatever ENTRY_MAX_LENGTH allows.
_CACHED_LENGTH_MAX = 2000


def _render(content: str, dashboard_url: str, images: bool) -> str:
    """Render ``content``; its tags link to ``dashboard_url`` (none if empty)."""
    if not dashboard_url:
        return markdown.render(content, None, images)
    return markdown.render(
        content, lambda tag: f"{dashboard_url}?tag={quote(tag, safe='')}", images
    )


_rendered = lru_cache(maxsize=2048)(_render)
