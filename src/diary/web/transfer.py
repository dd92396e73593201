"""Export and import pages under ``/account``: parse, call
:mod:`diary.services.transfer`, render.

The download is a POST (a form with its CSRF token), not a link: each export is
recorded in the audit log, and nothing is written on a GET. The import is two
steps: the upload is checked and previewed, and kept in the instance folder
under a random name that only this session knows (``session["diary_import"]``)
until it is confirmed, cancelled, or ``IMPORT_PENDING_SECONDS`` old.
"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    stream_with_context,
    url_for,
)
from flask_security import auth_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, RadioField, SubmitField

from diary.database import reads_only
from diary.security.client import client_info
from diary.security.identity import current_identity
from diary.services import entries, transfer
from diary.web import bp

PENDING_KEY = "diary_import"
INVALID_STATUS = 422
# How the page names each export format.
FORMAT_LABELS = {
    "json": "JSON (all entries in one file)",
    "zip": "Markdown files in a zip",
}


class ExportForm(FlaskForm):
    """Download the diary in one of the formats."""

    format = RadioField(
        "Format", choices=list(FORMAT_LABELS.items()), default="json"
    )
    submit = SubmitField("Download")


class ImportForm(FlaskForm):
    """Upload a file to import."""

    file = FileField(
        "File to import",
        validators=[FileRequired("Choose a file to import.")],
        render_kw={"accept": ".json,application/json"},
    )
    submit = SubmitField("Check the file")


class ConfirmImportForm(FlaskForm):
    """Import the previewed upload, or drop it."""

    upload = HiddenField()
    confirm = SubmitField("Import these entries")
    cancel = SubmitField("Cancel")


def streamed(export: transfer.Export) -> Response:
    """Return a response that sends ``export`` as a file download, piece by piece
    as the database is read (the request context stays for the generator)."""
    response = Response(stream_with_context(export.chunks), mimetype=export.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/account/export")
@reads_only
@auth_required()
def export_page():
    """What the export holds, and the buttons that download it."""
    _may(transfer.check_may_export)
    return render_template("account/export.html", form=ExportForm(formdata=None))


@bp.post("/account/export")
@auth_required()
def export_download():
    """Download every entry as JSON or as a zip of Markdown files."""
    actor = current_identity()
    _may(transfer.check_may_export)
    form = ExportForm()
    if not form.validate_on_submit():
        return render_template("account/export.html", form=form), INVALID_STATUS
    client = client_info()
    return streamed(
        transfer.export(actor, form.format.data, ip=client.ip, user_agent=client.user_agent)
    )


@bp.get("/account/import")
@reads_only
@auth_required()
def import_page():
    """The upload form."""
    _may(transfer.check_may_import)
    return _import_page(ImportForm(formdata=None))


def _import_page(form: ImportForm, error: str | None = None, status: int = 200):
    return (
        render_template(
            "account/import.html",
            form=form,
            error=error,
            max_bytes=transfer.max_bytes(),
            max_entries=int(current_app.config["IMPORT_MAX_ENTRIES"]),
        ),
        status,
    )


@bp.post("/account/import")
@auth_required()
def import_upload():
    """Check an uploaded file and show what importing it would do; keep it until
    it is confirmed. A bad file is refused with its first problem, and kept nowhere."""
    actor = current_identity()
    _may(transfer.check_may_import)
    form = ImportForm()
    if not form.validate_on_submit():
        return _import_page(form, status=INVALID_STATUS)
    data = form.file.data.read(transfer.max_bytes() + 1)
    try:
        plan = transfer.plan_import(actor, transfer.read_file(data))
    except transfer.ImportInvalid as exc:
        return _import_page(form, error=str(exc), status=INVALID_STATUS)
    max_age = float(current_app.config["IMPORT_PENDING_SECONDS"])
    # A new upload replaces the one this session had waiting.
    transfer.discard_pending(current_app.instance_path, session.get(PENDING_KEY))
    name = transfer.save_pending(current_app.instance_path, data, max_age)
    session[PENDING_KEY] = name
    return render_template(
        "account/import_preview.html",
        plan=plan,
        form=ConfirmImportForm(formdata=None, upload=name),
        sample=plan.new[:5],
    )


@bp.post("/account/import/confirm")
@auth_required()
def import_confirm():
    """Import the previewed file (or drop it, with Cancel), then say what was done."""
    actor = current_identity()
    _may(transfer.check_may_import)
    form = ConfirmImportForm()
    name = session.get(PENDING_KEY)
    if not form.validate_on_submit() or not name or form.upload.data != name:
        flash("That import is no longer waiting: upload the file again.", "error")
        return redirect(url_for("web.import_page"))
    session.pop(PENDING_KEY, None)
    if form.cancel.data:
        transfer.discard_pending(current_app.instance_path, name)
        flash("Nothing was imported.", "info")
        return redirect(url_for("web.import_page"))
    max_age = float(current_app.config["IMPORT_PENDING_SECONDS"])
    data = transfer.load_pending(current_app.instance_path, name, max_age)
    transfer.discard_pending(current_app.instance_path, name)
    # Uploads nobody confirmed (a closed tab, a session that ended) go too.
    transfer.sweep_pending(current_app.instance_path, max_age)
    if data is None:
        flash("That upload has expired: upload the file again.", "error")
        return redirect(url_for("web.import_page"))
    client = client_info()
    try:
        report = transfer.import_entries(
            actor, transfer.read_file(data), ip=client.ip, user_agent=client.user_agent
        )
    except transfer.ImportInvalid as exc:  # the settings changed since the preview
        return _import_page(ImportForm(formdata=None), error=str(exc), status=INVALID_STATUS)
    flash(describe_report(report), "success")
    return redirect(url_for("web.dashboard"))


def describe_report(report: transfer.ImportReport) -> str:
    """Return what an import did, in a sentence."""
    text = f"Imported {_n(report.imported, 'entry', 'entries')} from the {report.source}"
    skipped = []
    if report.duplicates:
        skipped.append(f"{_n(report.duplicates, 'duplicate', 'duplicates')} you already had")
    if report.empty:
        skipped.append(f"{_n(report.empty, 'entry', 'entries')} without text")
    return text + (f"; skipped {' and '.join(skipped)}." if skipped else ".")


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _may(check) -> None:
    try:
        check(current_identity())
    except entries.EntryAccessDenied:
        abort(403)
