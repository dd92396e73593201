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


def test_empty_text_fields_render_once_as_wtforms_renders_them(app):
    """diary.web.forms.RenderedOnce: an empty text field's markup is kept and given
    again; it is exactly WTForms' own."""
    from wtforms.widgets import SearchInput, TextArea

    from diary.web.forms import _RENDERED, EntryForm, SearchForm

    attributes = {"rows": 3, "maxlength": 280, "placeholder": 'Up to "280"', "data_counter": True}
    with app.test_request_context("/"):
        first = EntryForm(formdata=None).content(**attributes)
        again = EntryForm(formdata=None).content(**attributes)
        assert first is again
        assert str(first) == str(TextArea()(EntryForm(formdata=None).content, **attributes))
        search = SearchForm(formdata=None).q(maxlength=200)
        assert str(search) == str(SearchInput()(SearchForm(formdata=None).q, maxlength=200))


def test_a_field_with_a_value_or_an_error_is_rendered_each_time(app):
    """What a user typed is never kept: a field with a value or an error is
    rendered by WTForms on every call, and the kept markup holds no value."""
    from diary.web.forms import _RENDERED, EntryForm

    with app.test_request_context("/"):
        typed = EntryForm(formdata=None, content="my secret <b>day</b>")
        html = str(typed.content(rows=3))
        assert "my secret &lt;b&gt;day&lt;/b&gt;" in html
        refused = EntryForm(formdata=None)
        refused.content.errors = ["Too long."]
        assert refused.content(rows=3) is not EntryForm(formdata=None).content(rows=3)
        assert not any("my secret" in str(markup) for markup in _RENDERED.values())


def test_blank_is_one_empty_form_per_app_without_a_token(app):
    from diary.web.forms import SearchForm, blank

    with app.test_request_context("/"):
        form = blank(EntryForm)
        assert blank(EntryForm) is form and blank(SearchForm) is not form
        assert not form.content.data and not form.content.errors
        assert "csrf_token" not in form._fields


def test_a_refused_entry_stays_on_its_own_page(client, auth, demo_users):
    # The dashboard renders the app's blank form; a refused entry is shown again
    # with its text and error by a form of its own request, never by the blank one.
    from tests.conftest import csrf_token

    auth.login("writer@example.com", "writerpass")
    refused = client.post("/new_entry", data={"content": "x" * 5000 + "mine",
                                               "csrf_token": csrf_token(client, "/")})
    assert refused.status_code == 422
    assert "field-error" in refused.get_data(as_text=True)
    again = client.get("/").get_data(as_text=True)
    assert "field-error" not in again and "xxxxmine" not in again
