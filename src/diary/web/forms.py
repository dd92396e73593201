"""Forms of the diary pages. Flask-WTF adds and checks the CSRF token; the content
rules themselves live in :mod:`diary.services.entries`, the rules of a reason in
:mod:`diary.services.receipts`."""

from flask import current_app
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import SearchField, StringField, SubmitField, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.widgets import SearchInput, TextArea, TextInput

# Widgets whose markup is a function of the field's name, id, flags and the
# attributes it is rendered with alone, when the field holds no value.
_PLAIN_WIDGETS = (TextArea, TextInput, SearchInput)


class RenderedOnce(DefaultMeta):
    """Render an empty text field once per process: the dashboard's new-entry box
    and search box look the same on every view, and WTForms builds their markup
    anew each time (``html_params`` and ``Markup`` for each attribute: about 5% of
    the dashboard's time under gunicorn, py-spy). A field with a value or an
    error, or of any other widget, renders as WTForms renders it; the cache holds
    no user data (an empty field's markup has none)."""

    def render_field(self, field, render_kw):
        widget = field.widget
        if (
            type(widget) not in _PLAIN_WIDGETS
            or field.errors
            or field._value()
            or field.render_kw
            or not all(isinstance(v, (str, int, bool)) for v in render_kw.values())
        ):
            return super().render_field(field, render_kw)
        return _rendered(field, tuple(sorted(render_kw.items())))


# (widget type, name, id, flags, attributes) -> markup; a few dozen at most (the
# text fields of these forms, each with the attributes its templates pass).
_RENDERED: dict[tuple, Markup] = {}
_RENDERED_MAX = 256


def _rendered(field, render_kw: tuple) -> Markup:
    flags = tuple(sorted(name for name in vars(field.flags) if getattr(field.flags, name)))
    key = (type(field.widget), field.name, field.id, flags, render_kw)
    markup = _RENDERED.get(key)
    if markup is None:
        markup = field.widget(field, **dict(render_kw))
        if len(_RENDERED) < _RENDERED_MAX:
            _RENDERED[key] = markup
    return markup


class DiaryForm(FlaskForm):
    """A form of the diary pages: Flask-WTF's, its empty text fields rendered once
    (:class:`RenderedOnce`)."""

    class Meta(RenderedOnce):
        pass


class EntryForm(DiaryForm):
    """Write or edit one entry."""

    content = TextAreaField("What happened today?")
    submit = SubmitField("Save entry")


class EditEntryForm(EntryForm):
    """Edit one entry; somebody else's needs the reason too (kept with the receipt)."""

    reason = StringField("Why are you editing this entry? (the writer sees this)")


class ReasonForm(DiaryForm):
    """Say why you need somebody else's entry before it is shown."""

    reason = StringField("Why do you need this entry? (the writer sees this)")
    submit = SubmitField("Continue")


class DeleteForm(DiaryForm):
    """A button that deletes an entry (POST with a CSRF token); somebody else's
    needs a reason."""

    reason = StringField("Why are you deleting this entry? (the writer sees this)")
    submit = SubmitField("Delete")


class SearchForm(DiaryForm):
    """Search one's own entries: a GET form (it changes nothing), no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField("Search your entries")


class EveryoneSearchForm(DiaryForm):
    """Search everyone's entries: reading others' entries, so a POST with a reason
    (each of their entries shown is recorded for its owner with it)."""

    q = SearchField("Search everyone's entries")
    reason = StringField("Why are you searching others' entries? (their writers see this)")
    submit = SubmitField("Search")


def blank(form_class: type[DiaryForm]) -> DiaryForm:
    """Return the app's one empty instance of ``form_class``, to render only.

    The dashboard shows an empty new-entry form and search box on every view, and
    building the two forms (WTForms binds and processes every field) was about 4%
    of its time (bench/profile, py-spy). An empty form renders the same for
    everybody, so each app builds it once, without data and without a CSRF token
    (the page writes the token out, ``csrf_token()``). Never validate or fill it:
    it is shared by every request; a submitted form is built from its request.
    """
    forms = current_app.extensions.setdefault("diary.blank_forms", {})
    form = forms.get(form_class)
    if form is None:
        form = forms[form_class] = form_class(formdata=None, meta={"csrf": False})
    return form
