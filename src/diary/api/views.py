"""The API's endpoints: parse (flask-smorest does, from the schemas), call one
service, render. Who may touch which entry is decided by
:mod:`diary.services.entries`, exactly as for the pages."""

from __future__ import annotations

import http
from urllib.parse import unquote

from flask import Response, request, stream_with_context
from flask_smorest import Blueprint
from werkzeug.exceptions import (
    Conflict,
    Forbidden,
    NotFound,
    UnprocessableEntity,
)

from diary import permissions as perm
from diary.api import errors
from diary.api.auth import authenticated, current_caller
from diary.api.errors import ApiProblem
from diary.api.schemas import (
    EntryInSchema,
    EntryListArgsSchema,
    EntryPageSchema,
    EntryPatchSchema,
    EntrySchema,
    ExportArgsSchema,
    MeSchema,
    TagListSchema,
)
from diary.database import reads_only, reads_only_unless
from diary.security.client import client_info
from diary.services import archive, entries, profile, receipts, search, tags, transfer
from diary.services.receipts import Access
from diary.services.tokens import Scope

blp = Blueprint(
    "api_v1",
    __name__,
    url_prefix="/api/v1",
    description="Your diary entries and your account.",
)
errors.register(blp)

READ = (perm.ENTRY_READ_OWN, perm.ENTRY_READ_ANY)
# Entry ids are 32-bit integers in every database; larger ones cannot exist.
ENTRY_ID = f"<int(min=1, max={entries.ENTRY_ID_MAX}):entry_id>"


@blp.after_request
def _no_store(response):
    """Diary entries are private: no shared or browser cache keeps an API answer."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _problems(*codes: int):
    """Document the error responses an endpoint can give (all problem+json)."""

    def decorator(view):
        for code in codes:
            view = blp.alt_response(code, response=http.HTTPStatus(code).name)(view)
        return view

    return decorator


COMMON = (401, 403, 413, 429)

# Why the caller reaches another user's entries (entry:*-any); the owner sees it.
REASON_HEADER = "Diary-Access-Reason"
_REASON_PARAMETER = {
    "in": "header",
    "name": REASON_HEADER,
    "required": False,
    "schema": {"type": "string"},
    "description": (
        "Why you need another user's entry (one line, at most "
        f"{receipts.REASON_MAX_LENGTH} characters, percent-encoded UTF-8 where not "
        "ASCII). Required for another user's entries, which an entry:*-any permission "
        "reaches; the owner sees it with your name in their account activity. "
        "Ignored where only your own entries are concerned (and by POST, which writes yours)."
    ),
}


def _with_reason(view):
    """Document the Diary-Access-Reason header of an endpoint."""
    return blp.doc(parameters=[_REASON_PARAMETER])(view)


def _access() -> Access:
    """Return the request's reason (header, percent-decoded) and client."""
    raw = request.headers.get(REASON_HEADER)
    client = client_info()
    return Access(unquote(raw) if raw is not None else None, client.ip, client.user_agent)


@blp.route("/me")
@reads_only
@authenticated()
@blp.response(200, MeSchema)
@_problems(*COMMON)
def me():
    """The signed-in user, their permissions and how they signed in."""
    caller = current_caller()
    user = caller.user
    return {
        "id": user.id,
        "email": user.email,
        "username": user.username,
        "roles": sorted(role.name for role in user.roles),
        # What this credential may use (the two-factor rule included), not
        # everything the roles hold.
        "permissions": sorted(caller.permissions),
        "auth_method": str(caller.kind),
        "scopes": sorted(caller.scopes) if caller.scopes is not None else None,
    }


@blp.route("/entries", parameters=[_REASON_PARAMETER])
@reads_only_unless(REASON_HEADER)
@authenticated(scope=Scope.ENTRIES_READ, permissions=READ)
# Schema instances, not classes: webargs builds a new schema on every request from
# a class (about 3% of an API read, bench/profile); loading keeps no state in one.
@blp.arguments(EntryListArgsSchema(), location="query")
@blp.response(200, EntryPageSchema)
@_problems(*COMMON, 400)
def list_entries(args):
    """Your entries, newest first, a page at a time; with `q`, those that match
    the search, best match first.

    Pass the page's `next_cursor` as `cursor` to get the next page. `q` is a
    full-text search (words stemmed and all required, `"a phrase"`, `-word`,
    `or`), the same as the search box's. Without `q`, `tag` keeps entries with that
    #tag, and `from` and `to` the entries written from one day to another, both
    included, days of your time zone. `user` lists another user's entries and
    needs the `entry:read-any` permission.
    """
    caller = current_caller()
    filters = [name for name in ("tag", "from_", "to") if args[name] is not None]
    if args["q"] is not None and filters:
        # A search is ordered by relevance, the filters narrow the list by date order:
        # one or the other.
        raise ApiProblem(
            "invalid-query",
            "A search (q) takes no tag, from or to: use one or the other.",
            errors={name.rstrip("_"): ["Not together with q."] for name in filters},
        )
    since, until = archive.day_range(
        profile.zone(caller.user.time_zone), args["from_"], args["to"]
    )
    try:
        if args["q"] is not None:
            # Relevance pages: the cursor is the next page's number, opaque.
            results = search.search(
                caller,
                args["q"],
                user_id=args["user"],
                page=search.decode_cursor(args["cursor"]) if args["cursor"] else 1,
                limit=args["limit"],
                access=_access(),
            )
            return {"items": results.entries, "next_cursor": results.next_cursor}
        if args["user"] is None:
            page = entries.list_own_entries(
                caller, args["cursor"], args["limit"], tag=args["tag"],
                since=since, until=until,
            )
        else:
            page = entries.list_user_entries(
                caller, args["user"], args["cursor"], args["limit"],
                access=_access(), tag=args["tag"], since=since, until=until,
            )
    except entries.InvalidCursor:
        raise ApiProblem(
            "invalid-cursor",
            "Pass a next_cursor from a previous page, unchanged.",
            errors={"cursor": ["Not a cursor from a previous page."]},
        ) from None
    except search.InvalidQuery as exc:
        raise ApiProblem("invalid-query", str(exc), errors={"q": [str(exc)]}) from None
    except entries.EntryAccessDenied:
        raise Forbidden(
            "Listing your entries needs entry:read-own, another user's entry:read-any."
        ) from None
    except entries.ReasonRequired as exc:
        raise _reason_required(exc) from None
    return {"items": page.entries, "next_cursor": page.next_cursor}


@blp.route("/tags")
@reads_only
@authenticated(scope=Scope.ENTRIES_READ, permissions=READ)
@blp.response(200, TagListSchema)
@_problems(*COMMON)
def list_tags():
    """Your tags, by name, with the number of your entries that have each.

    Only your own entries' tags, whatever your roles.
    """
    caller = current_caller()
    return {"items": [{"tag": tag, "count": count} for tag, count in tags.user_tags(caller.id)]}


@blp.route("/entries", methods=["POST"])
@authenticated(scope=Scope.ENTRIES_WRITE, permissions=(perm.ENTRY_CREATE,))
@blp.arguments(EntryInSchema())
@blp.response(201, EntrySchema)
@_problems(*COMMON)
def create_entry(data):
    """Write a new entry."""
    entry = _fetch(lambda: entries.create_entry(current_caller(), data["content"]))
    return entry, 201, {"Location": f"/api/v1/entries/{entry.id}"}


@blp.route(f"/entries/{ENTRY_ID}")
@reads_only_unless(REASON_HEADER)
@authenticated(scope=Scope.ENTRIES_READ, permissions=READ)
@blp.response(200, EntrySchema)
@_problems(*COMMON, 400, 404)
@_with_reason
def get_entry(entry_id: int):
    """One entry: your own, or anybody's with `entry:read-any` and a
    `Diary-Access-Reason` header (the read is recorded for its owner)."""
    return _fetch(
        lambda: entries.get_entry(current_caller(), entry_id, access=_access())
    )


@blp.route(f"/entries/{ENTRY_ID}", methods=["PATCH"])
@authenticated(scope=Scope.ENTRIES_WRITE, permissions=(perm.ENTRY_EDIT_OWN, perm.ENTRY_EDIT_ANY))
@blp.arguments(EntryPatchSchema())
@blp.response(200, EntrySchema)
@_problems(*COMMON, 400, 404, 409)
@_with_reason
def update_entry(data, entry_id: int):
    """Change an entry's text: your own with `entry:edit-own`, anybody's with
    `entry:edit-any` and a `Diary-Access-Reason` header (the edit is recorded).

    Send `expected_updated_at` (the `updated_at` you read) to be told 409
    instead of overwriting a change made since.
    """
    return _fetch(
        lambda: entries.update_entry(
            current_caller(),
            entry_id,
            data["content"],
            expected_updated_at=data.get("expected_updated_at"),
            access=_access(),
        )
    )


@blp.route(f"/entries/{ENTRY_ID}", methods=["DELETE"])
@authenticated(scope=Scope.ENTRIES_WRITE, permissions=(perm.ENTRY_DELETE_OWN, perm.ENTRY_DELETE_ANY))
@blp.response(204)
@_problems(*COMMON, 400, 404)
@_with_reason
def delete_entry(entry_id: int):
    """Delete an entry: your own with `entry:delete-own`, anybody's with
    `entry:delete-any` and a `Diary-Access-Reason` header (the deletion is recorded)."""
    _fetch(lambda: entries.delete_entry(current_caller(), entry_id, _access()))
    return None


@blp.route("/export")
@authenticated(scope=Scope.ENTRIES_READ, permissions=READ)
@blp.arguments(ExportArgsSchema(), location="query")
@blp.doc(
    responses={
        "200": {
            "description": "Every one of your entries, oldest first, streamed as a file "
            "download (Content-Disposition: attachment).",
            "content": {
                "application/json": {"schema": {
                    "type": "object",
                    "required": ["format", "version", "exported_at", "entries"],
                    "properties": {
                        "format": {"type": "string", "enum": ["diary-export"]},
                        "version": {"type": "integer", "enum": [1]},
                        "exported_at": {"type": "string", "format": "date-time"},
                        "entries": {"type": "array", "items": {"type": "object"}},
                    },
                }},
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
)
@_problems(*COMMON, 422)
def export(args):
    """Download all your entries: `format=json` (default; the versioned
    `diary-export` format of docs/export.md) or `format=zip` (one Markdown file
    per entry with YAML front matter). The export is recorded in your account
    activity."""
    client = client_info()
    exported = transfer.export(
        current_caller(), args["format"], ip=client.ip, user_agent=client.user_agent
    )
    response = Response(stream_with_context(exported.chunks), mimetype=exported.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response


def _fetch(call):
    """Run one entries-service call, turning its refusals into HTTP errors.

    Another user's entry is 403, not 404: the ids are sequential, so hiding which
    exist would protect nothing, and an honest 403 tells a client its token works
    but this entry is not its to touch.
    """
    try:
        return call()
    except entries.EntryNotFound:
        raise NotFound("No entry has that id.") from None
    except entries.EntryAccessDenied:
        raise Forbidden("This entry is not yours, and your roles do not allow this.") from None
    except entries.ReasonRequired as exc:
        raise _reason_required(exc) from None
    except entries.EntryConflict:
        raise Conflict(
            "The entry changed after expected_updated_at; read it again and retry."
        ) from None
    except entries.EntryInvalid as exc:
        raise _invalid(exc) from None


def _reason_required(exc: entries.ReasonRequired) -> ApiProblem:
    return ApiProblem(
        "access-reason-required",
        f"{exc} Send it in the {REASON_HEADER} header.",
        errors={REASON_HEADER: [str(exc)]},
    )


def _invalid(exc: entries.EntryInvalid) -> UnprocessableEntity:
    # The same shape as a schema validation failure: the failing field and why.
    error = UnprocessableEntity(str(exc))
    error.data = {"messages": {"json": {"content": [str(exc)]}}}
    return error
