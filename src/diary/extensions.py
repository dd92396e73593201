"""Extension objects, created unbound so any module can import them without
importing the app; :func:`diary.create_app` binds them.

Flask-Security is the exception: it takes Diary's pluggable classes (forms, mail,
passwords, TOTP, recovery codes, WebAuthn) when it is constructed, so the
configured object is built where those classes live, in
:mod:`diary.security.core`. Code below the security package (services) reaches
the library's user datastore through :func:`datastore`.
"""

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints, so Alembic migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
csrf = CSRFProtect()
mail = Mail()
# Named limits are applied where they belong (see diary.security.ratelimits); the
# storage (memory, or Redis when REDIS_URL is set) comes from the app's config.
limiter = Limiter(key_func=get_remote_address)


def datastore():
    """Return the current app's Flask-Security user datastore (users, roles,
    refresh tokens)."""
    return current_app.extensions["security"].datastore
