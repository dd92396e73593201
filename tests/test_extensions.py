"""The unbound extension objects and the constraint naming convention."""

from __future__ import annotations

from diary import extensions


def test_constraints_and_indexes_are_named(app):
    with app.app_context():
        for table in extensions.db.metadata.sorted_tables:
            for constraint in table.constraints:
                assert constraint.name, (table.name, constraint)
            for index in table.indexes:
                assert index.name, (table.name, index)


def test_extensions_are_bound_by_the_factory(app):
    from diary.security.core import security

    for name in ("sqlalchemy", "migrate", "csrf", "security", "mailman", "limiter"):
        assert name in app.extensions, name
    assert app.extensions["security"].datastore is security.datastore
    with app.app_context():
        assert extensions.datastore() is security.datastore

