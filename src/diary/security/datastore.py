"""Flask-Security's user datastore, with the lookup every signed-in request makes
built once.

Flask-Login loads the user of each request by ``fs_uniquifier`` (the session's user
id, the "remember me" cookie and the library's auth tokens all carry it), through
``find_user(fs_uniquifier=…)``. The library builds that SELECT, its joined load of
the roles and its cache key anew on every call, which cost more than running it
(bench/dashboard). Here it is built once per datastore, with the value as a bound
parameter; the query and its result are exactly the library's: the user with the
given ``fs_uniquifier`` and, when ``SECURITY_JOIN_USER_ROLES`` is on (the default),
its roles in the same round trip, so the permission checks that follow run no query
of their own. Nothing is cached between requests: each request reads the user
afresh, so a deactivated account or a rotated ``fs_uniquifier`` takes effect at once.
Every other lookup goes to the library unchanged.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_security import SQLAlchemyUserDatastore
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload


class DiaryUserDatastore(SQLAlchemyUserDatastore):
    """:class:`flask_security.SQLAlchemyUserDatastore` with a prepared lookup by
    ``fs_uniquifier``."""

    _by_uniquifier: Select | None = None

    def find_user(self, case_insensitive: bool = False, **kwargs: Any):
        """Return the user matching the one ``attribute=value`` given, or None."""
        if case_insensitive or kwargs.keys() != {"fs_uniquifier"}:
            return super().find_user(case_insensitive, **kwargs)
        if self._by_uniquifier is None:
            self._by_uniquifier = self._uniquifier_statement()
        return self.db.session.scalar(
            self._by_uniquifier, {"fs_uniquifier": str(kwargs["fs_uniquifier"])}
        )

    def _uniquifier_statement(self) -> Select:
        user = self.user_model
        stmt = select(user).where(user.fs_uniquifier == bindparam("fs_uniquifier"))
        # The switch the library's own find_user reads (Flask-Security fills in its
        # default at init_app; read once, settings do not change after start-up).
        if current_app.config["SECURITY_JOIN_USER_ROLES"] and hasattr(user, "roles"):
            stmt = stmt.options(joinedload(user.roles))
        return stmt
