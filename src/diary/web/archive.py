"""The archive pages: the writer's own entries by year and month, in their time
zone. The rules (month ranges, counting) are :mod:`diary.services.archive`'s."""

from __future__ import annotations

from flask import abort, render_template
from flask_security import auth_required, permissions_accepted

from diary import permissions as perm
from diary.database import reads_only
from diary.security.identity import current_identity
from diary.services import archive, entries
from diary.web import bp
from diary.web.filters import user_zone
from diary.web.views import pager_args


@bp.get("/archive")
@reads_only
@auth_required()
@permissions_accepted(perm.ENTRY_READ_OWN, perm.ENTRY_READ_ANY)
def archive_index():
    """The years and months in which the user wrote, with how many entries each."""
    try:
        years = archive.month_counts(current_identity(), user_zone())
    except entries.EntryAccessDenied:
        abort(403)
    return render_template("web/archive.html", years=years)


# Four-digit year and two-digit month: /archive/2026/05, one URL per month.
@bp.get("/archive/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>")
@reads_only
@auth_required()
@permissions_accepted(perm.ENTRY_READ_OWN, perm.ENTRY_READ_ANY)
def archive_month(year: int, month: int):
    """One month of the user's entries, newest first, a page at a time, with links
    to the nearest earlier and later months that have entries."""
    before, after = pager_args()
    try:
        result = archive.month_entries(
            current_identity(), user_zone(), year, month, before, after=after
        )
    except archive.MonthNotFound:
        abort(404)
    except entries.InvalidCursor:
        abort(400, "That page link is not valid.")
    except entries.EntryAccessDenied:
        abort(403)
    actor = current_identity()
    return render_template(
        "web/archive_month.html",
        result=result,
        page=result.page,
        may_edit=entries.Action.EDIT.allowed(actor, actor.id),
        may_delete=entries.Action.DELETE.allowed(actor, actor.id),
    )
