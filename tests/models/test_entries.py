"""The Entry model."""

from __future__ import annotations

from diary.extensions import db
from diary.models import Entry, User
from diary.models.types import utcnow


def test_defaults_and_author(app, make_user):
    uid = make_user("alice@example.com")
    with app.app_context():
        before = utcnow()
        entry = Entry(user_id=uid, content="hello")
        db.session.add(entry)
        db.session.commit()
        assert before <= entry.created_at <= utcnow()
        assert entry.updated_at >= entry.created_at
        assert entry.author is db.session.get(User, uid)
        assert repr(entry) == f"<Entry {entry.id} by user {uid}>"


def test_updated_at_moves_on_update(app, make_user):
    uid = make_user("alice@example.com")
    with app.app_context():
        entry = Entry(user_id=uid, content="hello")
        db.session.add(entry)
        db.session.commit()
        first = entry.updated_at
        entry.content = "changed"
        db.session.commit()
        assert entry.updated_at >= first
        assert entry.created_at <= entry.updated_at


def test_indexes_for_the_pages():
    indexes = {ix.name: [c.name for c in ix.columns] for ix in Entry.__table__.indexes}
    assert indexes == {
        "ix_entry_user_id_created_at_id": ["user_id", "created_at", "id"],
        "ix_entry_created_at_id": ["created_at", "id"],
    }
