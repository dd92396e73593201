"""Template filters for friendly dates, and the ``when(entry)`` global built on them."""

from __future__ import annotations

from datetime import datetime, timezone

from markupsafe import Markup, escape

from diary.web import bp


@bp.app_template_filter("friendly_time")
def friendly_time(value: datetime, now: datetime | None = None) -> str:
    """Return ``value`` as people say it: "just now", "5 minutes ago",
    "yesterday at 14:05", "3 March at 09:00" or "3 March 2024"."""
    now = now or datetime.now(timezone.utc)
    value = value.astimezone(timezone.utc)
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
        return f"yesterday at {value:%H:%M}"
    if value.year == now.year:
        return f"{value.day} {value:%B} at {value:%H:%M}"
    return f"{value.day} {value:%B %Y}"


@bp.app_template_filter("iso_time")
def iso_time(value: datetime) -> str:
    """Return ``value`` as an ISO 8601 UTC timestamp for ``<time datetime>``."""
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


@bp.app_template_global("when")
def when(entry, now: datetime | None = None) -> Markup:
    """Return the ``<time>`` element saying when ``entry`` was written, followed by
    "(edited …)" if it was changed more than a second after.

    Python rather than a Jinja macro: lists render it once per entry, and as a macro
    with three filters it was a large share of the dashboard's rendering time
    (bench/dashboard).
    """
    now = now or datetime.now(timezone.utc)
    created = entry.created_at.astimezone(timezone.utc)
    html = (
        f'<time datetime="{iso_time(created)}" title="{created:%Y-%m-%d %H:%M} UTC">'
        f"{escape(friendly_time(created, now))}</time>"
    )
    if (entry.updated_at - created).total_seconds() > 1:
        html += (
            f'\n<small class="muted">(edited {escape(friendly_time(entry.updated_at, now))})</small>'
        )
    return Markup(html)
