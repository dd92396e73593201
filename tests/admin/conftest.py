"""Fixtures of the admin console's tests: a browser signed in as the demo Admin
(the two-factor rule off, as tests of other features do; its own test switches
it on), and a helper that posts a console form with its CSRF token."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, Role
from tests.conftest import AuthActions, csrf_token


@pytest.fixture
def admin_browser(app, demo_users, mfa_policy_off):
    """A test client signed in as admin@example.com, freshly."""
    browser = app.test_client()
    assert AuthActions(browser).login("admin@example.com", "adminpass").status_code == 302
    return browser


@pytest.fixture
def writer_browser(app, demo_users):
    """A test client signed in as writer@example.com."""
    browser = app.test_client()
    assert AuthActions(browser).login().status_code == 302
    return browser


def submit(browser, path, data=None, form_page=None):
    """POST ``data`` to ``path`` with the CSRF token of the form on ``form_page``
    (default: ``path``); return the response."""
    token = csrf_token(browser, form_page or path)
    return browser.post(path, data={**(data or {}), "csrf_token": token})


def events(app, tag=None):
    """Return every audit event (of ``tag``), oldest first."""
    with app.app_context():
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        if tag is not None:
            query = query.where(AuditEvent.tag == str(tag))
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def role_id(app, name):
    with app.app_context():
        return db.session.scalar(sa.select(Role.id).where(Role.name == name))
