"""The diary's forms: labelled, with a CSRF token."""

from __future__ import annotations

from diary.web.forms import DeleteForm, EntryForm


def test_entry_form_is_labelled_and_carries_a_token(app):
    with app.test_request_context():
        form = EntryForm()
        assert form.content.label.text == "What happened today?"
        assert "csrf_token" in form._fields
        assert 'for="content"' in str(form.content.label)


def test_forms_refuse_a_post_without_token(app):
    with app.test_request_context(method="POST", data={"content": "x"}):
        assert not EntryForm().validate_on_submit()
        assert not DeleteForm().validate_on_submit()
