"""entry_url is url_for for the entry pages, however it builds the URL."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from diary.web.urls import entry_url


@pytest.mark.parametrize("endpoint", ["web.view_entry", "web.edit_entry", "web.delete_entry"])
def test_entry_url_is_url_for(app, endpoint):
    with app.test_request_context("/"):
        for entry_id in (0, 1, 7, 10, 12345):
            assert entry_url(endpoint, entry_id) == url_for(endpoint, entry_id=entry_id)


def test_entry_url_under_a_path_prefix(app):
    with app.test_request_context("/", base_url="http://localhost/diary/"):
        assert entry_url("web.view_entry", 42) == "/diary/entry/42" == url_for(
            "web.view_entry", entry_id=42
        )


def test_an_id_inside_the_url_falls_back_to_url_for(app):
    app.add_url_rule("/entry/<int:entry_id>/history", "entry_history", lambda entry_id: "")
    with app.test_request_context("/"):
        assert entry_url("entry_history", 5) == "/entry/5/history"
        assert entry_url("entry_history", 6) == "/entry/6/history"


def test_entry_url_is_a_template_global(app):
    assert app.jinja_env.globals["entry_url"] is entry_url


@pytest.mark.parametrize(
    ("may_edit", "may_delete", "links"),
    [
        (True, True, ["Open", "Edit", "Delete"]),
        (False, True, ["Open", "Delete"]),
        (True, False, ["Open", "Edit"]),
        (False, False, ["Open"]),
    ],
)
def test_entry_actions_link_only_what_the_viewer_may_do(app, may_edit, may_delete, links):
    from types import SimpleNamespace

    from diary.web.urls import entry_actions

    assert app.jinja_env.globals["entry_actions"] is entry_actions
    with app.test_request_context("/"):
        html = str(entry_actions(SimpleNamespace(id=9), may_edit, may_delete))
    found = re.findall(r'<a href="([^"]+)">(\w+)</a>', html)
    assert [label for _, label in found] == links
    urls = {"Open": "/entry/9", "Edit": "/edit_entry/9", "Delete": "/delete_entry/9"}
    assert found == [(urls[label], label) for label in links]
    assert html.startswith('<div class="entry-actions">')
