"""The entry-tags migration (migrations/versions/*_entry_tags.py): entries written
before it get their tags from their content, by the app's own rule."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from diary.extensions import db
from tests.support.migrations import fresh_app, migration_named


def test_existing_entries_are_tagged_and_downgrade_drops_the_table(tmp_path):
    app = fresh_app(tmp_path)
    with app.app_context():
        migration = migration_named(app, "_entry_tags.py")
        upgrade(revision=migration.down_revision)
        now = "2026-01-01 00:00:00.000000"
        db.session.execute(sa.text(
            "INSERT INTO user (id, email, active, fs_uniquifier) VALUES "
            "(1, 'a@example.com', 1, 'u1'), (2, 'b@example.com', 1, 'u2')"))
        db.session.execute(sa.text(
            "INSERT INTO entry (id, user_id, content, created_at, updated_at) VALUES "
            f"(1, 1, 'Saw #Herons and #ducks `#code`', '{now}', '{now}'),"
            f"(2, 1, 'no tags', '{now}', '{now}'),"
            f"(3, 2, '# Heading #herons', '{now}', '{now}')"))
        db.session.commit()
        upgrade(revision=migration.revision)
        rows = db.session.execute(sa.text(
            "SELECT entry_id, tag, user_id FROM entry_tag ORDER BY entry_id, tag")).all()
        assert [tuple(row) for row in rows] == [
            (1, "ducks", 1), (1, "herons", 1), (3, "herons", 2)
        ]
        downgrade(revision=migration.down_revision)
        assert "entry_tag" not in sa.inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()
