"""Server-side sessions with Flask-Session 0.8.

The session cookie holds nothing but a random session id (32 bytes from
:mod:`secrets`); the session's data lives on the server, in the database by
default (table ``session_store``) or in Redis when ``REDIS_URL`` is set, so that
every app instance shares it. Logging out deletes the record, so a copy of the
cookie taken before is worth nothing after; every sign-in gets a new id.

Diary uses Flask-Session's own session classes and interfaces; what it changes:

* **Store keys are digests.** A record is stored under the SHA-256 of its session
  id, never the id itself (as personal access tokens are): a copy of the store (a
  database backup, a Redis dump) gives nobody a cookie that works. The signed-in
  devices table keeps the same digest, to delete a device's record.
* **The database store is Diary's table, on its own connection.** Flask-Session's
  SQLAlchemy interface creates its table itself (Diary's schema comes from
  migrations only), defines a new model class per app, and commits the
  application's own database session when it saves, which would commit whatever
  the request left pending. Here the three storage methods of the library's base
  class run single statements on a connection of their own, in autocommit mode.
* **Expiry.** A record lives ``PERMANENT_SESSION_LIFETIME`` after its last write,
  which :func:`diary.config.finalize` sets to the idle timeout; a signed-in
  session is rewritten once a minute while in use (see
  :mod:`diary.security.identity`), so a record outlives its last request by the
  idle timeout at most. Expired records are deleted on read, and now and then when
  a new one is written (Redis drops them by itself).
"""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

from flask import Flask, has_request_context
from flask import session as request_session
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from flask_session.redis import RedisSessionInterface
from sqlalchemy import bindparam, delete, select

from diary import database, unavailable
from diary.extensions import db
from diary.models import StoredSession
from diary.models.types import dialect_insert, utcnow

# Random bytes in a session id (Flask-Session's default, 256 bits).
SID_BYTES = 32
# One new record in this many also deletes the expired ones (database store).
CLEANUP_ONE_IN = 100


class _DiarySessions:
    """What both of Diary's session interfaces add to Flask-Session's."""

    def _get_store_id(self, sid: str) -> str:
        return self.key_prefix + hashlib.sha256(sid.encode()).hexdigest()

    def store_key(self, session: ServerSideSession) -> str:
        """Return the key ``session`` is stored under."""
        return self._get_store_id(session.sid)

    def renew(self, session: ServerSideSession) -> None:
        """Give ``session`` a new id; its data is saved under the new id at the end
        of the request, and the record of the old id is deleted then.

        Flask-Session's ``regenerate`` does the same, but deletes at once (which on
        SQLite waits for the request's own write lock, if it holds one) and only
        for a session that holds data; this one also renews an empty one.
        """
        self._mark_stale(session, [self.store_key(session)])
        session.sid = self._generate_sid(self.sid_length)
        session.modified = True

    @staticmethod
    def _mark_stale(session: ServerSideSession, keys: list[str]) -> None:
        # Deleted by save_session, at the end of the request.
        stale = getattr(session, "stale_keys", None)
        if stale is None:
            stale = session.stale_keys = []
        stale.extend(keys)

    def discard(self, session: ServerSideSession) -> None:
        """Delete ``session``'s record, empty it and give it a new id: whatever the
        rest of the request puts in it (a flashed message) starts a new session."""
        session.clear()
        self.renew(session)

    def open_session(self, app, request) -> ServerSideSession:
        """Open the request's session as Flask-Session does, except for static
        files: they are the same for everyone, so no record is read for them."""
        if app.static_url_path and request.path.startswith(app.static_url_path + "/"):
            return self.session_class(sid=self._generate_sid(self.sid_length))
        try:
            return super().open_session(app, request)
        except unavailable.ERRORS as error:
            if not unavailable.is_unavailable(error):
                raise
            # The store (Redis, or the database) is down: an empty session that is
            # never saved, so nobody is signed out by it; a request that needs
            # the session gets 503 (diary.security.identity.resolve), which logs
            # this error as its cause.
            down = self.session_class(sid=self._generate_sid(self.sid_length))
            down.store_unavailable = error
            return down

    def save_session(self, app, session, response) -> None:
        """Delete the records of the ids the session had before (:meth:`renew`),
        then save it as Flask-Session does; a session whose store was down when
        the request began (:meth:`open_session`) is not saved.

        :raises: the store's error if it cannot be reached now (answered 503).
        """
        if getattr(session, "store_unavailable", False):
            return
        stale = getattr(session, "stale_keys", ())
        if stale or self.should_set_storage(app, session):
            # Only when the store will be written: most requests leave it as it is.
            self._finish_request_transaction()
        try:
            for key in stale:
                self._delete_session(key)
            super().save_session(app, session, response)
        except unavailable.ERRORS as error:
            if unavailable.is_unavailable(error):
                # Answered 503 instead (diary.errors); the 503 page is not saved again.
                session.store_unavailable = error
            raise

    def _finish_request_transaction(self) -> None:
        """Nothing to do for stores outside the database."""

    def forget(self, keys) -> None:
        """Delete the records stored under ``keys`` (other browsers' sessions):
        inside a request, once it is over (with the records :meth:`renew` left
        behind), so they go after the request's own changes are committed; else now."""
        keys = [key for key in keys if key]
        if has_request_context():
            self._mark_stale(request_session, keys)
            return
        for key in keys:
            self._delete_session(key)


# The statements of every signed-in request, built once (building them per request
# cost about as much as running them on SQLite).
_STORE = StoredSession.__table__
_READ = select(_STORE.c.data, _STORE.c.expires_at).where(_STORE.c.key == bindparam("key"))
_DELETE = delete(_STORE).where(_STORE.c.key == bindparam("key"))


class DatabaseSessionInterface(_DiarySessions, ServerSideSessionInterface):
    """Sessions in Diary's ``session_store`` table."""

    ttl = False

    def __init__(self, app: Flask, key_prefix: str):
        super().__init__(
            app,
            key_prefix=key_prefix,
            use_signer=False,
            permanent=False,
            sid_length=SID_BYTES,
            # Deleting expired records from a hook on every request would be one
            # more before_request function; see _upsert_session instead.
            cleanup_n_requests=None,
        )

    @staticmethod
    def _connect():
        # Each use stands alone, and a read opens no transaction: autocommit where
        # that pays (PostgreSQL); elsewhere (SQLite, whose driver opens no
        # transaction for a SELECT) a block that commits what it writes at its end.
        if database.autocommit_pays(db.engine):
            return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return db.engine.begin()

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        with self._connect() as conn:
            row = conn.execute(_READ, {"key": store_id}).first()
            if row is None:
                return None
            if row.expires_at <= utcnow():
                conn.execute(_DELETE, {"key": store_id})
                return None
        return self.serializer.decode(row.data)

    def _delete_session(self, store_id: str) -> None:
        with self._connect() as conn:
            conn.execute(_DELETE, {"key": store_id})

    def _finish_request_transaction(self) -> None:
        # The request is over: whatever its own transaction still holds uncommitted
        # is rolled back at teardown anyway. End it now if it holds SQLite's write
        # lock (it wrote and did not commit), so that the store's writes cannot wait
        # for it. Only then: rolling back expires every object the request loaded,
        # which cost about 4% of a page that only read (bench/profile), and a
        # transaction that only read holds no lock in WAL mode.
        if not db.session.registry.has():
            return
        session = db.session()
        if session.in_transaction() and _holds_write_lock(session):
            session.rollback()

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        table = StoredSession.__table__
        now = utcnow()
        values = {
            "key": store_id,
            "data": self.serializer.encode(session),
            "expires_at": now + session_lifetime,
        }
        insert = dialect_insert(db.engine.dialect.name)
        statement = insert(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"data": statement.excluded.data, "expires_at": statement.excluded.expires_at},
        )
        with self._connect() as conn:
            conn.execute(statement)
            if random.randrange(CLEANUP_ONE_IN) == 0:
                conn.execute(delete(table).where(table.c.expires_at <= now))

    def _delete_expired_sessions(self) -> None:
        """Delete every expired record (Flask-Session's ``flask session_cleanup``)."""
        table = StoredSession.__table__
        with self._connect() as conn:
            conn.execute(delete(table).where(table.c.expires_at <= utcnow()))


def _holds_write_lock(session) -> bool:
    """Return whether ``session``'s transaction holds a write lock: on SQLite, the
    driver begins a transaction only before a statement that writes (and never on
    an autocommit connection); on other databases the store's table is its own,
    so no lock of the request's can make its writes wait."""
    if db.engine.dialect.name != "sqlite":
        return False
    return bool(session.connection().connection.dbapi_connection.in_transaction)


class RedisSessions(_DiarySessions, RedisSessionInterface):
    """Sessions in Redis, shared by every app instance; Redis expires them."""

    def __init__(self, app: Flask, url: str, key_prefix: str):
        import redis

        super().__init__(
            app,
            client=redis.Redis.from_url(url),
            key_prefix=key_prefix,
            use_signer=False,
            permanent=False,
            sid_length=SID_BYTES,
        )


def init_app(app: Flask) -> None:
    """Make ``app`` keep its sessions on the server: in Redis when ``REDIS_URL``
    is set, else in the database."""
    prefix = app.config["SESSION_KEY_PREFIX"]
    if app.config.get("REDIS_URL"):
        app.session_interface = RedisSessions(app, app.config["REDIS_URL"], prefix)
    else:
        app.session_interface = DatabaseSessionInterface(app, prefix)
