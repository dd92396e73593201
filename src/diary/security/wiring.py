"""Flask-Security wiring: the user datastore, Diary's mail utility and the signal
handlers that connect the library's events to Diary's services."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, redirect, request
from flask_security import user_registered
from flask_security.utils import validate_redirect_url

from diary.extensions import db
from diary.security.core import security
from diary.models import FsRefreshTracker, Role, User, WebAuthn
from diary.security import account_security, flows, mfa_events
from diary.security.datastore import DiaryUserDatastore
from diary.services import accounts, revocation


def init_app(app: Flask) -> None:
    """Bind Flask-Security to ``app`` with Diary's models and hooks."""
    # FsRefreshTracker: refresh tokens for the API's auth tokens (issue 5).
    datastore = DiaryUserDatastore(db, User, Role, WebAuthn, FsRefreshTracker)
    security.init_app(app, datastore)
    # Static files are the same for everyone: Flask-Principal need not load the
    # signed-in user (a database query) for each stylesheet and icon.
    security.principal.skip_static = True
    user_registered.connect(_on_user_registered, app)
    mfa_events.init_app(app)
    account_security.init_app(app)
    flows.init_app(app)
    # Deactivating an account ends its sessions and tokens, however it happens.
    revocation.watch_deactivations()


def _on_user_registered(_app, user, **_extra) -> None:
    accounts.assign_default_role(user)


def drop_offsite_next():
    """Open a login/register page without a ``next`` that points off this site.

    Flask-Security refuses such a ``next`` when the form is posted, which would
    leave a visitor who followed a bad link unable to log in from that page. On
    GET the bad target is simply dropped; a crafted POST is still refused by the
    library.
    """
    if request.blueprint != "security" or request.method not in ("GET", "HEAD"):
        return None
    target = request.args.get("next")
    if target is None or is_local_path(target):
        return None
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "next"]
    return redirect(request.path + ("?" + urlencode(args) if args else ""))


def is_local_path(target: str) -> bool:
    """Return whether ``target`` is a path on this site that every browser reads the
    same way: one leading slash, no backslash (browsers turn ``/\\host`` into
    ``//host``), no control characters, and accepted by Flask-Security's own check."""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
        and validate_redirect_url(target)
    )
