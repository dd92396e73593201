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
from diary.security.client import client_info
from diary.services import archive, entries, receipts, search
from diary.services.receipts import Access
from diary.web import bp
from diary.web.filters import user_zone
from diary.web.forms import (
    DeleteForm,
    EditEntryForm,
    EntryForm,
    EveryoneSearchForm,
    ReasonForm,
    SearchForm,
    blank,
)

# The HTTP status of a form shown again because its content was refused.
INVALID_STATUS = 422


def pager_args() -> tuple[str | None, str | None]:
    """Return the list cursors of this request: ``before`` (older entries) and
    ``after`` (newer ones); both at once is no link this app makes (400)."""
    before, after = request.args.get("before"), request.args.get("after")
    if before and after:
        abort(400, "That page link is not valid.")
    return before, after


def _open(entry_id: int, action: entries.Action):
    """The actor's own entry, or the header of somebody else's (the page asks why)."""
    try:
        return entries.entry_or_header(current_identity(), entry_id, action)
    except entries.EntryNotFound:
        abort(404)
    except entries.EntryAccessDenied:
        abort(403)


def _dashboard(form: EntryForm, status: int = 200):
    actor = current_identity()
    before, after = pager_args()
    # ?tag=herons: only the entries tagged #herons (the links of rendered tags).
    tag = request.args.get("tag") or None
    try:
        if before or after or tag:
            page, earlier = entries.list_own_entries(actor, before, tag=tag, after=after), []
        else:
            # "On this day" on the first page of all entries only, in the same
            # statement as the page.
            page, earlier = archive.first_page(actor, user_zone())
    except entries.InvalidCursor:
        abort(400, "That page link is not valid.")
    except entries.EntryAccessDenied:
        abort(403)
    return (
        render_template(
            "web/dashboard.html",
            form=form,
            page=page,
            on_this_day=earlier,
            tag=tag,
            search_box=blank(SearchForm),
            query_max_length=search.QUERY_MAX_LENGTH,
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
    return _dashboard(blank(EntryForm))


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


@bp.route("/entry/<int:entry_id>", methods=["GET", "POST"])
@reads_only
@auth_required()
@permissions_accepted(perm.ENTRY_READ_OWN, perm.ENTRY_READ_ANY)
def view_entry(entry_id: int):
    """One entry: the owner's, or anybody's for ``entry:read-any``.

    Somebody else's entry is not shown on GET: the page asks why, and the POST of
    the reason records the access (diary.services.receipts) and shows the entry.
    """
    actor = current_identity()
    if request.method == "GET":
        found = _open(entry_id, entries.Action.READ)
        if isinstance(found, entries.EntryHeader):
            return _ask_reason(found, ReasonForm(), "read")
        return _show_entry(found)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        entry = entries.get_entry(actor, entry_id, entries.Action.READ, _access(form.reason.data))
    except entries.EntryNotFound:
        abort(404)
    except entries.EntryAccessDenied:
        abort(403)
    except entries.ReasonRequired as exc:
        form.reason.errors.append(str(exc))
        return _ask_reason(exc.entry, form, "read", INVALID_STATUS)
    return _show_entry(entry, reason=form.reason.data)


@bp.route("/edit_entry/<int:entry_id>", methods=["GET", "POST"])
@reads_only
@auth_required()
@permissions_accepted(perm.ENTRY_EDIT_OWN, perm.ENTRY_EDIT_ANY)
def edit_entry(entry_id: int):
    """Edit an entry: one's own with ``entry:edit-own``, anybody's with
    ``entry:edit-any``.

    Somebody else's entry: GET asks why; posting the reason alone opens the
    editor (a recorded read, the content is shown); posting the content with the
    reason saves it and records the edit.
    """
    actor = current_identity()
    if request.method == "GET":
        found = _open(entry_id, entries.Action.EDIT)
        if isinstance(found, entries.EntryHeader):
            return _ask_reason(found, ReasonForm(), "edit")
        return _editor(EditEntryForm(obj=found), found)
    if "content" not in request.form:
        # The reason step of somebody else's entry: open the editor.
        reason_form = ReasonForm()
        if not reason_form.validate_on_submit():
            abort(400)
        reason = reason_form.reason.data
        try:
            entry = entries.get_entry(actor, entry_id, entries.Action.EDIT, _access(reason))
        except entries.ReasonRequired as exc:
            reason_form.reason.errors.append(str(exc))
            return _ask_reason(exc.entry, reason_form, "edit", INVALID_STATUS)
        except entries.EntryNotFound:
            abort(404)
        except entries.EntryAccessDenied:
            abort(403)
        return _editor(EditEntryForm(formdata=None, obj=entry, reason=reason), entry)
    form = EditEntryForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        entry = entries.update_entry(
            actor, entry_id, form.content.data, access=_access(form.reason.data)
        )
    except entries.EntryNotFound:
        abort(404)
    except entries.EntryAccessDenied:
        abort(403)
    except entries.ReasonRequired as exc:
        form.reason.errors.append(str(exc))
        header = exc.entry
    except entries.EntryInvalid as exc:
        form.content.errors.append(str(exc))
        header = exc.entry
    else:
        flash("Entry updated.", "success")
        if entries.needs_reason(actor, entry):
            # The entry page would ask for a reason again: the list instead.
            return redirect(url_for("web.all_entries"))
        return redirect(url_for("web.view_entry", entry_id=entry_id))
    # The editor again, with the header of the entry the service read.
    return _editor(form, header, INVALID_STATUS)


@bp.get("/delete_entry/<int:entry_id>")
@reads_only
@auth_required()
@permissions_accepted(perm.ENTRY_DELETE_OWN, perm.ENTRY_DELETE_ANY)
def confirm_delete_entry(entry_id: int):
    """Ask before deleting: the page every Delete link of a list opens, with the
    button that posts to :func:`delete_entry`. It changes nothing and needs no
    script, so the question is asked in every browser. One's own entry is shown
    with "This cannot be undone."; somebody else's is not shown: the page asks why,
    as its Delete button would."""
    found = _open(entry_id, entries.Action.DELETE)
    if isinstance(found, entries.EntryHeader):
        return _ask_reason(found, DeleteForm(), "delete")
    return render_template("web/delete_entry.html", entry=found, delete_form=DeleteForm())


@bp.post("/delete_entry/<int:entry_id>")
@auth_required()
@permissions_accepted(perm.ENTRY_DELETE_OWN, perm.ENTRY_DELETE_ANY)
def delete_entry(entry_id: int):
    """Delete an entry: one's own with ``entry:delete-own``, anybody's with
    ``entry:delete-any`` and a reason (asked for if the button came without one)."""
    form = DeleteForm()
    if not form.validate_on_submit():
        abort(400)
    actor = current_identity()
    try:
        others = entries.delete_entry(actor, entry_id, _access(form.reason.data))
    except entries.EntryNotFound:
        abort(404)
    except entries.EntryAccessDenied:
        abort(403)
    except entries.ReasonRequired as exc:
        if form.reason.data:  # a button without the field only asks, it is no mistake
            form.reason.errors.append(str(exc))
        return _ask_reason(exc.entry, form, "delete", INVALID_STATUS)
    flash("Entry deleted.", "success")
    if others and actor.may(perm.ENTRY_READ_ANY):
        return redirect(url_for("web.all_entries"))
    return redirect(url_for("web.dashboard"))


def _access(reason: str | None) -> Access:
    client = client_info()
    return Access(reason, client.ip, client.user_agent)


def _ask_reason(entry: entries.EntryHeader, form, purpose: str, status: int = 200):
    """The page that asks why before somebody else's entry is shown or changed."""
    return (
        render_template(
            "web/access_reason.html",
            entry=entry,
            form=form,
            purpose=purpose,
            max_length=receipts.REASON_MAX_LENGTH,
        ),
        status,
    )


def _show_entry(entry, reason: str | None = None):
    actor = current_identity()
    delete_form = DeleteForm(formdata=None, reason=reason)
    return render_template(
        "web/entry.html",
        entry=entry,
        may_edit=entries.may(actor, entries.Action.EDIT, entry),
        may_delete=entries.may(actor, entries.Action.DELETE, entry),
        needs_reason=entries.needs_reason(actor, entry),
        delete_form=delete_form,
        reason_max_length=receipts.REASON_MAX_LENGTH,
    )


def _editor(form: EditEntryForm, entry, status: int = 200):
    return (
        render_template(
            "web/edit_entry.html",
            form=form,
            entry=entry,
            needs_reason=entries.needs_reason(current_identity(), entry),
            max_length=entries.max_length(),
            reason_max_length=receipts.REASON_MAX_LENGTH,
        ),
        status,
    )


@bp.get("/all")
@reads_only
@auth_required()
@permissions_required(perm.ENTRY_READ_ANY)
def all_entries():
    """Everybody's entries, newest first, for users who may read any entry."""
    before, after = pager_args()
    try:
        page = entries.list_all_entries(current_identity(), before, after=after)
    except entries.InvalidCursor:
        abort(400, "That page link is not valid.")
    # The list shows Edit/Delete by the one ownership rule, entries.may().
    return render_template(
        "web/all_entries.html",
        page=page,
        search_box=EveryoneSearchForm(formdata=None),
        reason_max_length=receipts.REASON_MAX_LENGTH,
        query_max_length=search.QUERY_MAX_LENGTH,
        may_do=entries.may,
        actor=current_identity(),
        Action=entries.Action,
    )


@bp.get("/search")
@reads_only
@auth_required()
@permissions_accepted(perm.ENTRY_READ_OWN, perm.ENTRY_READ_ANY)
def search_entries():
    """Search the user's own entries (full text, best match first, by pages)."""
    form = SearchForm(request.args)
    results, status = None, 200
    if "q" not in request.args:
        # The search page itself, before anything was asked: its form, no error.
        return _search_page(form, None, everyone=False)
    try:
        results = search.search(current_identity(), form.q.data, page=_page_number())
    except entries.EntryAccessDenied:
        abort(403)
    except search.InvalidQuery as exc:
        form.q.errors = [str(exc)]
        status = 400
    return _search_page(form, results, everyone=False, status=status)


@bp.route("/all/search", methods=["GET", "POST"])
@reads_only
@auth_required()
@permissions_required(perm.ENTRY_READ_ANY)
def search_everyone():
    """Search everyone's entries: GET shows the form; its POST needs a reason, and
    each of other users' entries among the results is recorded as read for its
    owner (diary.services.receipts), since a match and its snippet show what
    they wrote."""
    if request.method == "GET":
        # Only shown here (validated on the POST), so it carries its CSRF token.
        return _search_page(EveryoneSearchForm(request.args), None, everyone=True)
    form = EveryoneSearchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        results = search.search(
            current_identity(),
            form.q.data,
            scope=search.Scope.EVERYONE,
            page=_page_number(),
            access=_access(form.reason.data),
        )
    except entries.EntryAccessDenied:
        abort(403)
    except entries.ReasonRequired as exc:
        form.reason.errors = [str(exc)]
    except search.InvalidQuery as exc:
        form.q.errors = [str(exc)]
    else:
        return _search_page(form, results, everyone=True)
    return _search_page(form, None, everyone=True, status=INVALID_STATUS)


def _page_number() -> int:
    """The requested page of results, 1 when absent; one that is no number is out
    of range (the service refuses it)."""
    raw = request.values.get("page")
    if raw in (None, ""):
        return 1
    try:
        return int(raw)
    except ValueError:
        return 0


def _search_page(form, results, everyone: bool, status: int = 200):
    actor = current_identity()
    return (
        render_template(
            "web/search.html",
            form=form,
            results=results,
            everyone=everyone,
            actor=actor,
            may_do=entries.may,
            Action=entries.Action,
            reason_max_length=receipts.REASON_MAX_LENGTH,
            query_max_length=search.QUERY_MAX_LENGTH,
        ),
        status,
    )
