"""The console's audit log (``audit:read``): everybody's events, filtered, a page
at a time, and the same selection downloaded as CSV or JSON Lines."""

from __future__ import annotations

from flask import Response, abort, render_template, request, stream_with_context
from flask_security import auth_required, permissions_required

from diary import permissions as perm
from diary.admin import bp
from diary.admin.forms import AuditFilterForm
from diary.database import reads_only
from diary.services import audit, audit_log

INVALID_STATUS = 422


def _query(form: AuditFilterForm) -> audit_log.EventQuery:
    return audit_log.EventQuery(
        email=form.email.data or "",
        tag=form.tag.data or "",
        ip=form.ip.data or "",
        since=form.since.data,
        until=form.until.data,
        page=request.args.get("page", 1, type=int),
    )


@bp.get("/audit", endpoint="audit_log")
@reads_only
@auth_required()
@permissions_required(perm.AUDIT_READ)
def audit_log_page():
    """Everybody's audit events, newest first, filtered by user, event, IP, days."""
    form = AuditFilterForm(request.args)
    page = None
    status = 200
    if form.validate():
        try:
            page = audit_log.search(_query(form))
        except audit_log.InvalidFilter as exc:
            form.until.errors = [*form.until.errors, str(exc)]
            status = INVALID_STATUS
    else:
        status = INVALID_STATUS
    args = {k: v for k, v in request.args.items() if k != "page"}
    return (
        render_template(
            "admin/audit.html", form=form, page=page, args=args, describe=audit.describe
        ),
        status,
    )


def _export(kind: str):
    form = AuditFilterForm(request.args)
    if not form.validate():
        abort(400, "Those filters are not valid: " + "; ".join(
            f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items()
        ))
    query = _query(form)
    try:
        lines = (audit_log.export_csv if kind == "csv" else audit_log.export_jsonl)(query)
    except audit_log.InvalidFilter as exc:
        abort(400, str(exc))
    mimetype = "text/csv" if kind == "csv" else "application/jsonl"
    return Response(
        stream_with_context(lines),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="diary-audit.{kind}"'},
    )


@bp.get("/audit.csv")
@auth_required()
@permissions_required(perm.AUDIT_READ)
def audit_csv():
    """The filtered events as CSV, streamed."""
    return _export("csv")


@bp.get("/audit.jsonl")
@auth_required()
@permissions_required(perm.AUDIT_READ)
def audit_jsonl():
    """The filtered events as JSON Lines, streamed."""
    return _export("jsonl")
