"""Forms of the admin console. Flask-WTF adds and checks the CSRF token of every
POST; the rules themselves live in :mod:`diary.services.admin`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from diary import permissions
from diary.services import admin
from diary.services.audit import AuditTag, describe


def reason_field() -> StringField:
    return StringField(
        "Reason (one line: kept in the audit log and sent to the user)",
        validators=[
            InputRequired("Give a reason."),
            Length(max=admin.REASON_MAX_LENGTH),
        ],
    )


class UserSearchForm(FlaskForm):
    """The user list's search and filters (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    q = StringField("Email or name", validators=[Optional(), Length(max=254)])
    role = SelectField("Role", validators=[Optional()])
    only = SelectMultipleField(
        "Only",
        choices=[(f.value, label) for f, label in admin.FILTER_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[Optional()],
    )

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [("", "Any role")] + [(name, name) for name in roles]


class ActionForm(FlaskForm):
    """One action on a user: the reason, and the role for the role actions."""

    role = SelectField("Role", validators=[Optional()])
    reason = reason_field()
    submit = SubmitField("Confirm")


class PermissionForm(FlaskForm):
    """Grant a permission to a role, or revoke one. Two of these share the role's
    page under prefixes ("grant-", "revoke-"); the page's CSRF token is the plain
    ``csrf_token`` field that CSRFProtect checks on every POST."""

    class Meta:
        csrf = False

    permission = SelectField("Permission", validators=[InputRequired()])
    reason = reason_field()
    submit = SubmitField("Confirm")

    def __init__(self, *args, offered: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.permission.choices = [
            (p, f"{p} — {permissions.DESCRIPTIONS[p]}") for p in offered
        ]


class RoleForm(FlaskForm):
    """Create a role."""

    name = StringField(
        "Name", validators=[InputRequired(), Length(max=admin.ROLE_NAME_MAX_LENGTH)]
    )
    description = StringField("Description", validators=[Optional(), Length(max=255)])
    reason = reason_field()
    submit = SubmitField("Create role")


class AuditFilterForm(FlaskForm):
    """The audit log's filters (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    email = StringField("User's email", validators=[Optional(), Length(max=254)])
    tag = SelectField(
        "Event",
        choices=[("", "Any event")] + [(t.value, f"{describe(t)} ({t.value})") for t in AuditTag],
        validators=[Optional()],
    )
    ip = StringField("IP address", validators=[Optional(), Length(max=64)])
    since = DateField("From (UTC)", validators=[Optional()])
    until = DateField("To (UTC)", validators=[Optional()])
