"""Forms of the diary pages. Flask-WTF adds and checks the CSRF token; the content
rules themselves live in :mod:`diary.services.entries`."""

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField


class EntryForm(FlaskForm):
    """Write or edit one entry."""

    content = TextAreaField("What happened today?")
    submit = SubmitField("Save entry")


class DeleteForm(FlaskForm):
    """A button that deletes an entry (POST with a CSRF token)."""

    submit = SubmitField("Delete")
