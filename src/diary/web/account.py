"""The user's own account pages under ``/account``.

``/account`` is one page made of sections, each a template of its own under
``templates/account/`` (name and time zone, password and email, sessions,
factors, tokens, deleting the account), so each feature keeps its part of the
page next to its code.

Deleting the account has a page of its own (``/account/delete``) that needs a
fresh sign-in, as creating a token does (:mod:`diary.web.tokens`), and the email
address typed in as confirmation; the rule (what goes, what stays, the last
Admin) is :func:`diary.services.accounts.delete_account`.
"""

from __future__ import annotations

from functools import lru_cache

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_security import auth_required, current_user, logout_user, url_for_security
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import SelectField, StringField, SubmitField, ValidationError
from wtforms.widgets import Select, html_params

from diary.database import reads_only
from diary.security.client import client_info
from diary.security.identity import current_device
from diary.services import accounts, audit, profile, receipts, revocation, sessions
from diary.web import bp
from diary.web.tokens import _freshness, _grace


class TimeZoneSelect(Select):
    """WTForms' ``<select>`` for the time zone, its ~600 ``<option>`` elements
    rendered once per process instead of once per view of ``/account``: WTForms
    builds each option through ``html_params`` and ``Markup``, and doing that for
    every zone was three quarters of the page's time (bench/profile). The output
    is the same markup WTForms' own widget gives; the choices are
    :func:`diary.services.profile.time_zones`, which never change while the
    process runs, and the field still validates against them."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if getattr(field.flags, "required", False) and "required" not in kwargs:
            kwargs["required"] = True
        options = _time_zone_options()
        if profile.is_time_zone(field.data):
            plain = f'<option value="{escape(field.data)}">'
            options = options.replace(plain, f'<option selected value="{escape(field.data)}">', 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


@lru_cache(maxsize=1)
def _time_zone_options() -> str:
    return "".join(
        f'<option value="{escape(name)}">{escape(name)}</option>' for name in profile.time_zones()
    )


class ProfileForm(FlaskForm):
    """The user's display name and time zone."""

    name = StringField(
        "Display name",
        description=(
            f"Optional, up to {profile.NAME_MAX_LENGTH} characters. "
            "Leave it empty to be greeted by your email address."
        ),
        render_kw={"autocomplete": "name", "maxlength": profile.NAME_MAX_LENGTH},
    )
    time_zone = SelectField(
        "Time zone", description="Dates on every page are shown in it.", widget=TimeZoneSelect()
    )
    submit = SubmitField("Save")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = list(profile.time_zones())

    def validate_name(self, field) -> None:
        try:
            field.data = profile.clean_name(field.data)
        except profile.ProfileInvalid as exc:
            raise ValidationError(str(exc)) from None


class DeleteAccountForm(FlaskForm):
    """Delete the account, confirmed by typing its email address."""

    confirmation = StringField(
        "Type your email address to confirm",
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    submit = SubmitField("Delete my account and all my entries")

    def validate_confirmation(self, field) -> None:
        typed = (field.data or "").strip().casefold()
        if not typed or typed != current_user.email.casefold():
            raise ValidationError(
                "That is not your email address: type it exactly to delete your account."
            )


def _account_page(form: ProfileForm | None = None, status: int = 200):
    if form is None:
        form = ProfileForm(
            formdata=None, name=current_user.name, time_zone=current_user.time_zone
        )
    return render_template("account/index.html", profile_form=form), status


@bp.get("/account")
@reads_only
@auth_required()
def account():
    """The account overview."""
    return _account_page()


@bp.post("/account/profile")
@auth_required()
def update_profile():
    """Set the display name (empty clears it) and the time zone."""
    form = ProfileForm()
    if not form.validate_on_submit():
        return _account_page(form, status=422)
    client = client_info()
    try:
        changed = profile.update_profile(
            current_user,
            name=form.name.data,
            time_zone=form.time_zone.data,
            ip=client.ip,
            user_agent=client.user_agent,
        )
    except profile.ProfileInvalid as exc:
        getattr(form, exc.field).errors.append(str(exc))
        return _account_page(form, status=422)
    flash("Your profile has been saved." if changed else "Nothing to change.", "success")
    return redirect(url_for("web.account"))


def _delete_page(form: DeleteAccountForm, status: int = 200, last_admin: bool | None = None):
    if last_admin is None:
        last_admin = accounts.is_last_active_admin(current_user)
    response = current_app.make_response(
        (render_template("account/delete.html", form=form, last_admin=last_admin), status)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/account/delete")
@reads_only
@auth_required(within=_freshness, grace=_grace)
def delete_account_page():
    """What deleting the account does, and the form that does it (after a fresh
    sign-in: a stale session confirms the password first, then comes back)."""
    return _delete_page(DeleteAccountForm(formdata=None))


@bp.post("/account/delete")
@auth_required(within=_freshness, grace=_grace)
def delete_account():
    """Delete the account, its entries and every way into it; sign this browser
    out. CSRF: checked by CSRFProtect for every POST."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _delete_page(form, status=422)
    client = client_info()
    try:
        deleted = accounts.delete_account(
            current_user._get_current_object(), ip=client.ip, user_agent=client.user_agent
        )
    except accounts.LastAdmin:
        return _delete_page(form, status=409, last_admin=True)
    # The user row is gone: this browser's session goes with it (no sign-out
    # event is recorded for an account that no longer exists).
    logout_user()
    flash(
        f"Your account {deleted.email} and its entries have been deleted. "
        "A confirmation is on its way to that address.",
        "info",
    )
    return redirect(url_for_security("login"))


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
        # What an administrator did to the account: who, and why.
        acted_by=audit.acted_by(events),
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
