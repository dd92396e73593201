"""No inline scripts or styles anywhere, so a strict Content-Security-Policy can
forbid them: neither in Diary's templates nor in any page as served (which
includes Flask-Security's own login and registration templates)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import diary
from tests.conftest import csrf_token

TEMPLATES = Path(diary.__file__).resolve().parent / "templates"

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
JS_URL = re.compile(r"(href|src|action)\s*=\s*[\"']\s*javascript:", re.IGNORECASE)


def inline_code(html: str) -> list[str]:
    """Return every inline script, style or event handler found in ``html``."""
    found = []
    for pattern in (INLINE_SCRIPT, STYLE_ELEMENT, STYLE_ATTRIBUTE, EVENT_HANDLER, JS_URL):
        found += [m.group(0) for m in pattern.finditer(html)]
    return found


def test_the_checker_finds_what_it_looks_for():
    assert inline_code('<script>alert(1)</script>')
    assert inline_code('<SCRIPT type="module">x</SCRIPT>')
    assert inline_code('<style>p{}</style>')
    assert inline_code('<p style="color: red">')
    assert inline_code('<button onclick="go()">')
    assert inline_code('<a href="javascript:go()">')
    assert not inline_code('<script src="/static/app.js"></script>')
    assert not inline_code('<link rel="stylesheet" href="/static/css/diary.css">')
    assert not inline_code('<p class="stylesheet">onward = fine</p>')


def all_templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_there_are_templates_to_check():
    names = {p.relative_to(TEMPLATES).as_posix() for p in all_templates()}
    assert {"base.html", "web/dashboard.html", "errors/error.html"} <= names


@pytest.mark.parametrize("template", all_templates(), ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_no_inline_script_or_style_in_templates(template):
    assert inline_code(template.read_text()) == []


def test_no_inline_script_or_style_in_any_served_page(client, auth, demo_users):
    pages = ["/login", "/register", "/no/such/page"]
    anonymous = {path: client.get(path).get_data(as_text=True) for path in pages}
    auth.login("admin@example.com", "adminpass")
    response = client.post("/new_entry", data={"content": "An ordinary day.",
                                                "csrf_token": csrf_token(client, "/")})
    entry = response.headers["Location"]
    signed_in = {path: client.get(path).get_data(as_text=True)
                 for path in ["/", "/all", entry, entry.replace("/entry/", "/edit_entry/"),
                              "/account"]}
    for path, html in {**anonymous, **signed_in}.items():
        assert inline_code(html) == [], path
