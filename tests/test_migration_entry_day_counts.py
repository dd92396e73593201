"""The entry-day-counts migration (migrations/versions/*_entry_day_counts.py):
entries written before it are counted, and its triggers count what comes after."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from diary.extensions import db
from tests.support.migrations import fresh_app, migration_named


def test_existing_entries_are_counted_and_downgrade_drops_the_table(tmp_path):
    app = fresh_app(tmp_path)
    with app.app_context():
        migration = migration_named(app, "_entry_day_counts.py")
        upgrade(revision=migration.down_revision)
        db.session.execute(sa.text(
            "INSERT INTO user (id, email, active, fs_uniquifier) VALUES "
            "(1, 'a@example.com', 1, 'u1'), (2, 'b@example.com', 1, 'u2')"))
        db.session.execute(sa.text(
            "INSERT INTO entry (user_id, content, created_at, updated_at) VALUES "
            "(1, 'a', '2026-01-01 23:59:59.999999', '2026-01-01 23:59:59.999999'),"
            "(1, 'b', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'),"
            "(1, 'c', '2026-01-02 00:00:00.000000', '2026-01-02 00:00:00.000000'),"
            "(2, 'd', '2026-01-01 12:00:00.000000', '2026-01-01 12:00:00.000000')"))
        db.session.commit()
        upgrade(revision=migration.revision)
        day_counts = "SELECT user_id, day, count FROM entry_day_count ORDER BY user_id, day"
        assert [tuple(row) for row in db.session.execute(sa.text(day_counts))] == [
            (1, "2026-01-01", 2), (1, "2026-01-02", 1), (2, "2026-01-01", 1)
        ]
        db.session.execute(sa.text(
            "INSERT INTO entry (user_id, content, created_at, updated_at) VALUES "
            "(2, 'e', '2026-01-01 18:00:00.000000', '2026-01-01 18:00:00.000000')"))
        db.session.execute(sa.text("DELETE FROM entry WHERE content = 'c'"))
        db.session.commit()
        assert [tuple(row) for row in db.session.execute(sa.text(day_counts))] == [
            (1, "2026-01-01", 2), (1, "2026-01-02", 0), (2, "2026-01-01", 2)
        ]
        downgrade(revision=migration.down_revision)
        assert "entry_day_count" not in sa.inspect(db.engine).get_table_names()
        db.session.execute(sa.text("DELETE FROM entry"))  # no trigger left behind
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
