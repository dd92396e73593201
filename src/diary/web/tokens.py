"""The user's personal access tokens, at ``/account/tokens``: create one (shown
once, on the page that answers the form), see the others, revoke one.

Creating a token needs a fresh sign-in (``SECURITY_FRESHNESS``, as turning off
two-factor does): a token outlives the session that makes it, so a session left
open on a shared computer must not be enough to mint one. The token keeps the
strength of that session (see :mod:`diary.services.credentials`), and its lifetime
is bounded (``API_TOKEN_MAX_LIFETIME_DAYS``; "never" only where
``API_TOKEN_NEVER_EXPIRES_ALLOWED``).

The new token is rendered straight into the response to the POST, never put in the
session or a flash message: Flask's session is a signed cookie, readable by
anyone who holds it, and a flash would keep the secret in it until displayed.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_security import auth_required, current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from diary.database import reads_only
from diary.security.client import client_info
from diary.security.identity import current_identity
from diary.services import tokens
from diary.web import bp

NEVER = "never"
LIFETIME_CHOICES_DAYS = (7, 30, 90, 365)


class TokenForm(FlaskForm):
    """Create a personal access token."""

    name = StringField(
        "Name", validators=[InputRequired(), Length(max=tokens.NAME_MAX_LENGTH)]
    )
    scopes = SelectMultipleField(
        "Scopes",
        choices=[
            SelectChoice(s.value, f"{s.value} — {d}")
            for s, d in tokens.SCOPE_DESCRIPTIONS.items()
        ],
        default=[tokens.Scope.ENTRIES_READ.value],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    lifetime = SelectField("Expires")
    submit = SubmitField("Create token")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        longest = tokens.max_lifetime().days
        default_days = min(int(current_app.config["API_TOKEN_DEFAULT_LIFETIME_DAYS"]), longest)
        days = sorted(d for d in {*LIFETIME_CHOICES_DAYS, default_days, longest} if d <= longest)
        self.lifetime.choices = [SelectChoice(str(d), f"in {d} days") for d in days]
        if tokens.never_expires_allowed():
            self.lifetime.choices.append(SelectChoice(NEVER, "never"))
        if not self.lifetime.data:
            self.lifetime.data = str(default_days)

    def lifetime_delta(self) -> timedelta | None:
        """Return the chosen lifetime; None for a token that never expires."""
        if self.lifetime.data == NEVER:
            return None
        return timedelta(days=int(self.lifetime.data))


class RevokeForm(FlaskForm):
    """A button that revokes one token (POST with a CSRF token)."""

    submit = SubmitField("Revoke")


def _page(form: TokenForm, new_token: tokens.NewToken | None = None, status: int = 200):
    response = current_app.make_response(
        (
            render_template(
                "account/tokens.html",
                form=form,
                revoke_form=RevokeForm(),
                tokens=tokens.list_tokens(current_user),
                new_token=new_token,
                now=tokens.utcnow(),
            ),
            status,
        )
    )
    # The page may show a token once: keep it out of every cache and history.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/account/tokens")
@reads_only
@auth_required()
def tokens_page():
    """The user's tokens and the form to create one."""
    return _page(TokenForm())


def _freshness() -> timedelta:
    return current_app.config["SECURITY_FRESHNESS"]


def _grace() -> timedelta:
    return current_app.config["SECURITY_FRESHNESS_GRACE_PERIOD"]


@bp.post("/account/tokens")
@auth_required(within=_freshness, grace=_grace)
def create_token():
    """Create a token and show it, this once (after a fresh sign-in: a stale one is
    sent to confirm the password first, then back here)."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    client = client_info()
    try:
        new = tokens.create_token(
            current_user,
            form.name.data,
            form.scopes.data or [],
            form.lifetime_delta(),
            strength=current_identity().strength,
            ip=client.ip,
            user_agent=client.user_agent,
        )
    except tokens.TokenInvalid as exc:
        form.name.errors = [*form.name.errors, str(exc)]
        return _page(form, status=422)
    return _page(TokenForm(formdata=None), new_token=new, status=201)


@bp.post("/account/tokens/<int:token_id>/revoke")
@auth_required()
def revoke_token(token_id: int):
    """Revoke one of the user's tokens."""
    if not RevokeForm().validate_on_submit():
        abort(400)
    client = client_info()
    try:
        token = tokens.revoke_token(
            current_user, token_id, ip=client.ip, user_agent=client.user_agent
        )
    except tokens.TokenNotFound:
        abort(404)
    flash(f"Token “{token.name}” revoked: it no longer works.", "success")
    return redirect(url_for("web.tokens_page"))
