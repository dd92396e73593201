"""A second yardstick for ``bench/dashboard`` and ``bench/speed``: the least a
Flask-Security page costs.

Flask, Flask-SQLAlchemy and Flask-Security with its ``fsqla_v4`` models on the same
database server as Diary (PostgreSQL; ``bench/speed`` also serves it on SQLite),
nothing else: no rate limits, no security headers, no
templates. ``GET /`` is an empty ``@auth_required()`` view, so its requests/s is
what any page of any app that signs its users in with Flask-Security and loads them
from PostgreSQL can reach on this machine at best: the session cookie read, the
user loaded by Flask-Login in one query (without a transaction around it), the
identity built by Flask-Principal. Diary's dashboard does all that and then reads
and renders the entries.

Bench code only: ``bench/dashboard`` and ``bench/speed`` give it a database of its own
(``DIARY_BENCH_FS_DATABASE_URL``) and a random secret (``DIARY_BENCH_SECRET``: the
secret key, the salt and the user's password), and ``python fs_floor_app.py`` makes
the tables with ``create_all``, as Flask-Security's own quick start does, and the user.
"""

import os

from flask import Flask
from flask_security import Security, SQLAlchemyUserDatastore, auth_required, hash_password
from flask_security.models import fsqla_v4 as fsqla
from flask_security.utils import naive_utcnow
from flask_sqlalchemy import SQLAlchemy

EMAIL = "bench-floor@example.com"

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["DIARY_BENCH_SECRET"],
    SECURITY_PASSWORD_SALT=os.environ["DIARY_BENCH_SECRET"],
    SQLALCHEMY_DATABASE_URI=os.environ["DIARY_BENCH_FS_DATABASE_URL"],
    # No transaction around the page's one query (the user): the cheapest way to
    # run it, as Diary's pages that only read do (diary.database.reads_only).
    SQLALCHEMY_ENGINE_OPTIONS={"isolation_level": "AUTOCOMMIT"},
)
db = SQLAlchemy(app)
fsqla.FsModels.set_db_info(db)


class Role(db.Model, fsqla.FsRoleMixin):
    """Flask-Security's role."""


class User(db.Model, fsqla.FsUserMixin):
    """Flask-Security's user."""


class WebAuthn(db.Model, fsqla.FsWebAuthnMixin):
    """Flask-Security's passkey (the user model refers to it)."""


class FsRefreshTracker(db.Model, fsqla.FsRefreshTrackerMixin):
    """Flask-Security's refresh-token tracker (the user model refers to it)."""


security = Security(app, SQLAlchemyUserDatastore(db, User, Role))


@app.get("/")
@auth_required()
def hello():
    """Return a constant greeting to a signed-in user."""
    return "Hello, signed-in user!"


def seed(password: str) -> None:
    """Create the tables and the one user the bench signs in as."""
    with app.app_context():
        db.create_all()
        security.datastore.create_user(
            email=EMAIL, password=hash_password(password), confirmed_at=naive_utcnow()
        )
        db.session.commit()
        db.engine.dispose()


if __name__ == "__main__":
    seed(os.environ["DIARY_BENCH_SECRET"])
