"""The user's own account pages under ``/account``.

``/account`` is one page made of sections, each a template of its own under
``templates/account/`` (password and email, sessions, factors, tokens), so each
feature keeps its part of the page next to its code.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_security import auth_required, current_user, logout_user, url_for_security

from diary.database import reads_only
from diary.security.client import client_info
from diary.security.identity import current_device
from diary.services import audit, receipts, revocation, sessions
from diary.web import bp


@bp.get("/account")
@reads_only
@auth_required()
def account():
    """The account overview."""
    return render_template("account/index.html")


@bp.post("/account/sign-out-everywhere")
@auth_required()
def sign_out_everywhere():
    """End every session and token of the current user, this one included.

    This session ends too, on purpose: the request could come from the very device
    the user no longer trusts, and everything this browser holds was issued under
    the old identity key anyway. The user signs in again with the password.
    CSRF: checked by CSRFProtect for every POST.
    """
    user = current_user._get_current_object()
    client = client_info()
    revocation.sign_out_everywhere(user, ip=client.ip, user_agent=client.user_agent)
    logout_user()
    flash("You have been signed out on every device, this one included.", "info")
    return redirect(url_for_security("login"))


@bp.get("/account/sessions")
@reads_only
@auth_required()
def devices():
    """The browsers the user is signed in on or remembered by, with sign-out
    buttons."""
    this = current_device()
    return render_template(
        "account/sessions.html",
        devices=sessions.list_devices(current_user, this.id if this else None),
        short_user_agent=short_user_agent,
    )


@bp.post("/account/sessions/<string:device_id>/sign-out")
@auth_required()
def sign_out_device(device_id: str):
    """Sign one browser out: its session and its "remember me". This browser's own
    row signs this browser out, as the sign-out button does."""
    this = current_device()
    if this is not None and this.id == device_id:
        logout_user()
        flash("You have been signed out on this device.", "info")
        return redirect(url_for_security("login"))
    client = client_info()
    try:
        sessions.sign_out_device(
            current_user, device_id, ip=client.ip, user_agent=client.user_agent
        )
    except sessions.DeviceNotFound:
        abort(404)
    flash("That device has been signed out.", "success")
    return redirect(url_for("web.devices"))


@bp.post("/account/sessions/sign-out-others")
@auth_required()
def sign_out_other_devices():
    """Sign out every browser but this one (tokens stay: "sign out everywhere" ends
    those too)."""
    this = current_device()
    client = client_info()
    ended = sessions.sign_out_other_devices(
        current_user, this.id if this else "", ip=client.ip, user_agent=client.user_agent
    )
    count = ended.sessions + ended.remembered
    flash(
        f"Signed out of {count} other device{'s' if count != 1 else ''}."
        if count
        else "You were not signed in anywhere else.",
        "success",
    )
    return redirect(url_for("web.devices"))


@bp.get("/account/activity")
@reads_only
@auth_required()
def activity():
    """The user's own recent security events: sign-ins, failures, changes."""
    events = audit.recent_events(current_user, limit=ACTIVITY_LIMIT)
    return render_template(
        "account/activity.html",
        events=events,
        describe=audit.describe,
        # Other people's access to the user's entries: who, which entry, why.
        access=receipts.describe_events(events),
        short_user_agent=short_user_agent,
    )


# Events shown on the activity page.
ACTIVITY_LIMIT = 50

# (marker in the User-Agent, name shown), first match wins: Edge and Opera say
# "Chrome" too, Chrome says "Safari" too.
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-requests/", "Python requests"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def short_user_agent(user_agent: str | None) -> str:
    """Return a short, human name for ``user_agent``, e.g. "Firefox on Linux"; the
    first 40 characters of anything unrecognised; "unknown" for none."""
    if not user_agent:
        return "unknown"
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    return user_agent[:40] + ("…" if len(user_agent) > 40 else "")
