"""The datastore's prepared lookup by fs_uniquifier: same answers as the library's,
roles in the same query, nothing kept from one request to the next."""

from __future__ import annotations

import sqlalchemy as sa

from diary.extensions import db
from diary.security.core import security
from diary.models import Role, User
from diary.security.datastore import DiaryUserDatastore


def _statements(app):
    """Return a list that collects the SQL statements run from now on."""
    seen: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_the_app_uses_the_diary_datastore(app):
    assert isinstance(security.datastore, DiaryUserDatastore)


def test_lookup_by_uniquifier_loads_the_roles_in_the_same_query(app, make_user):
    make_user("w@example.com")
    with app.app_context():
        uniquifier = db.session.scalar(sa.select(User.fs_uniquifier))
        db.session.remove()
        seen = _statements(app)
        user = security.datastore.find_user(fs_uniquifier=uniquifier)
        assert [role.name for role in user.roles] == ["Writer"]
        assert user.has_permission("entry:create")
        assert len(seen) == 1


def test_unknown_uniquifier_finds_nobody(app, make_user):
    make_user("w@example.com")
    with app.app_context():
        assert security.datastore.find_user(fs_uniquifier="no-such-user") is None


def test_other_lookups_are_the_librarys(app, make_user):
    user_id = make_user("Someone@Example.com")
    with app.app_context():
        datastore = security.datastore
        assert datastore.find_user(email="Someone@Example.com").id == user_id
        assert datastore.find_user(case_insensitive=True, email="someone@example.com").id == user_id
        assert datastore.find_user(id=user_id).email == "Someone@Example.com"


def test_each_request_reads_the_user_afresh(client, auth, app, make_user):
    make_user("w@example.com", "a-long-password")
    auth.login("w@example.com", "a-long-password")
    assert client.get("/").status_code == 200

    # A permission taken from the role in between is gone at the next request.
    with app.app_context():
        role = db.session.scalar(sa.select(Role).where(Role.name == "Writer"))
        security.datastore.remove_permissions_from_role(role, "entry:read-own")
        db.session.commit()
    assert client.get("/").status_code == 403

    # A deactivated account is signed out at the next request.
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "w@example.com"))
        user.active = False
        db.session.commit()
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
