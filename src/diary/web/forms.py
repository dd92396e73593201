"""Forms of the diary pages. Flask-WTF adds and checks the CSRF token; the content
rules themselves live in :mod:`diary.services.entries`, the rules of a reason in
:mod:`diary.services.receipts`."""

from flask_wtf import FlaskForm
from wtforms import SearchField, StringField, SubmitField, TextAreaField


class EntryForm(FlaskForm):
    """Write or edit one entry."""

    content = TextAreaField("What happened today?")
    submit = SubmitField("Save entry")


class EditEntryForm(EntryForm):
    """Edit one entry; somebody else's needs the reason too (kept with the receipt)."""

    reason = StringField("Why are you editing this entry? (the writer sees this)")


class ReasonForm(FlaskForm):
    """Say why you need somebody else's entry before it is shown."""

    reason = StringField("Why do you need this entry? (the writer sees this)")
    submit = SubmitField("Continue")


class DeleteForm(FlaskForm):
    """A button that deletes an entry (POST with a CSRF token); somebody else's
    needs a reason."""

    reason = StringField("Why are you deleting this entry? (the writer sees this)")
    submit = SubmitField("Delete")


class SearchForm(FlaskForm):
    """Search one's own entries: a GET form (it changes nothing), no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField("Search your entries")


class EveryoneSearchForm(FlaskForm):
    """Search everyone's entries: reading others' entries, so a POST with a reason
    (each of their entries shown is recorded for its owner with it)."""

    q = SearchField("Search everyone's entries")
    reason = StringField("Why are you searching others' entries? (their writers see this)")
    submit = SubmitField("Search")
