"""Diary pages: parse the request, call one service, render.

Every route needs a logged-in user (``@auth_required()``; anonymous visitors go to
``/login?next=…``) and a permission from the user's roles; which entry a user may
touch is decided by :func:`diary.services.entries.get_entry`, never here. The pages
that only read are marked ``@reads_only`` (:func:`diary.database.reads_only`).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_security import auth_required, permissions_accepted, permissions_required

from diary import permissions as perm
from diary.database import reads_only
from diary.security.identity import current_identity
from diary.services import entries
from diary.web import bp
from diary.web.forms import DeleteForm, EntryForm

# The HTTP status of a form shown again because its content was refused.
INVALID_STATUS = 422


def _fetch(entry_id: int, action: entries.Action):
    try:
        return entries.get_entry(current_identity(), entry_id, action)
    except entries.EntryNotFound:
        abort(404)
    except entries.EntryAccessDenied:
        abort(403)


def _dashboard(form: EntryForm, status: int = 200):
    actor = current_identity()
    try:
        page = entries.list_own_entries(actor, request.args.get("before"))
    except entries.InvalidCursor:
        abort(400, "That page link is not valid.")
    except entries.EntryAccessDenied:
        abort(403)
    return (
        render_template(
            "web/dashboard.html",
            form=form,
            page=page,
            max_length=entries.max_length(),
            # Every entry here is the actor's own: one answer each for the page.
            may_edit=entries.Action.EDIT.allowed(actor, actor.id),
            may_delete=entries.Action.DELETE.allowed(actor, actor.id),
        ),
        status,
    )


@bp.get("/")
@reads_only
@auth_required()
@permissions_accepted(perm.ENTRY_READ_OWN, perm.ENTRY_READ_ANY)
def dashboard():
    """The user's own entries, newest first, with the form to write a new one."""
    return _dashboard(EntryForm())


@bp.post("/new_entry")
@auth_required()
@permissions_required(perm.ENTRY_CREATE)
def new_entry():
    """Store a new entry; on refusal show the dashboard again with the reason."""
    form = EntryForm()
    if form.validate_on_submit():
        try:
            entry = entries.create_entry(current_identity(), form.content.data)
        except entries.EntryAccessDenied:
            abort(403)
        except entries.EntryInvalid as exc:
            form.content.errors.append(str(exc))
        else:
            flash("Entry saved.", "success")
            return redirect(url_for("web.view_entry", entry_id=entry.id))
    return _dashboard(form, INVALID_STATUS)


@bp.get("/entry/<int:entry_id>")
@reads_only
@auth_required()
@permissions_accepted(perm.ENTRY_READ_OWN, perm.ENTRY_READ_ANY)
def view_entry(entry_id: int):
    """One entry: the owner's, or anybody's for ``entry:read-any``."""
    entry = _fetch(entry_id, entries.Action.READ)
    return render_template(
        "web/entry.html",
        entry=entry,
        may_edit=entries.may(current_identity(), entries.Action.EDIT, entry),
        may_delete=entries.may(current_identity(), entries.Action.DELETE, entry),
    )


@bp.route("/edit_entry/<int:entry_id>", methods=["GET", "POST"])
@reads_only
@auth_required()
@permissions_accepted(perm.ENTRY_EDIT_OWN, perm.ENTRY_EDIT_ANY)
def edit_entry(entry_id: int):
    """Edit an entry: one's own with ``entry:edit-own``, anybody's with
    ``entry:edit-any``."""
    entry = _fetch(entry_id, entries.Action.EDIT)
    form = EntryForm(obj=entry)
    status = 200
    if request.method == "POST":
        status = INVALID_STATUS
        if form.validate_on_submit():
            try:
                entries.update_entry(current_identity(), entry_id, form.content.data)
            except entries.EntryInvalid as exc:
                form.content.errors.append(str(exc))
            else:
                flash("Entry updated.", "success")
                return redirect(url_for("web.view_entry", entry_id=entry_id))
    return (
        render_template(
            "web/edit_entry.html", form=form, entry=entry, max_length=entries.max_length()
        ),
        status,
    )


@bp.get("/delete_entry/<int:entry_id>")
@reads_only
@auth_required()
@permissions_accepted(perm.ENTRY_DELETE_OWN, perm.ENTRY_DELETE_ANY)
def confirm_delete_entry(entry_id: int):
    """Ask before deleting: the page every Delete link opens, with the button that
    posts to :func:`delete_entry`. It changes nothing and needs no script, so the
    question is asked in every browser; somebody else's entry is named by its
    author and date, not shown."""
    entry = _fetch(entry_id, entries.Action.DELETE)
    return render_template("web/delete_entry.html", entry=entry, delete_form=DeleteForm())


@bp.post("/delete_entry/<int:entry_id>")
@auth_required()
@permissions_accepted(perm.ENTRY_DELETE_OWN, perm.ENTRY_DELETE_ANY)
def delete_entry(entry_id: int):
    """Delete an entry: one's own with ``entry:delete-own``, anybody's with
    ``entry:delete-any``."""
    form = DeleteForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        entries.delete_entry(current_identity(), entry_id)
    except entries.EntryNotFound:
        abort(404)
    except entries.EntryAccessDenied:
        abort(403)
    flash("Entry deleted.", "success")
    return redirect(url_for("web.dashboard"))


@bp.get("/all")
@reads_only
@auth_required()
@permissions_required(perm.ENTRY_READ_ANY)
def all_entries():
    """Everybody's entries, newest first, for users who may read any entry."""
    try:
        page = entries.list_all_entries(current_identity(), request.args.get("before"))
    except entries.InvalidCursor:
        abort(400, "That page link is not valid.")
    # The list shows Edit/Delete by the one ownership rule, entries.may().
    return render_template(
        "web/all_entries.html",
        page=page,
        may_do=entries.may,
        actor=current_identity(),
        Action=entries.Action,
    )
