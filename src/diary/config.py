"""Every Diary setting, its default and a one-line note on what it does.

Any setting can be overridden from the environment with the ``DIARY_`` prefix:
``DIARY_ENTRY_MAX_LENGTH=500`` or ``DIARY_SECURITY_REGISTERABLE=false``. Values are
parsed as JSON where they can be (numbers, ``true``/``false``, lists), else taken as
strings; see :meth:`flask.Config.from_prefixed_env`. Precedence, lowest first: the
defaults below, then ``DIARY_*`` variables, then the mapping given to
``create_app(config)``. :func:`finalize` then fills in what is derived from the rest.

``SECRET_KEY`` and ``SECURITY_PASSWORD_SALT`` have no default here on purpose: they
come from the environment (``DIARY_SECRET_KEY``, ``DIARY_SECURITY_PASSWORD_SALT``) or
are generated once and kept in the instance folder (:mod:`diary.secrets`).
"""

from __future__ import annotations

import os
from datetime import timedelta


class Defaults:
    """Default settings. Upper-case class attributes become ``app.config`` keys."""

    # --- Deployment --------------------------------------------------------------
    # Database URL; empty means SQLite file ``diary.sqlite3`` in the instance folder.
    DATABASE_URL = ""
    # Served over HTTPS (production): Secure cookies and https:// in built URLs.
    HTTPS = False
    # The site's public address: links in mails, WebAuthn relying party and origin.
    BASE_URL = "http://localhost:5000"
    # Extra SQLAlchemy engine options. No pre-ping (a round trip on every request):
    # a connection the server dropped fails one request and the pool is replaced.
    SQLALCHEMY_ENGINE_OPTIONS = {}

    # --- Diary entries -----------------------------------------------------------
    # Longest diary entry accepted, in characters.
    ENTRY_MAX_LENGTH = 280
    # Entries shown on one dashboard page.
    ENTRIES_PER_PAGE = 20

    # --- Cookies and CSRF --------------------------------------------------------
    # The session cookie is never readable from JavaScript.
    SESSION_COOKIE_HTTPONLY = True
    # Lax: sent on top-level navigation to the site, not on cross-site POSTs.
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure flag on the session cookie; set automatically when HTTPS is on.
    SESSION_COOKIE_SECURE = False
    # Same rules for Flask-Login's "remember me" cookie.
    REMEMBER_COOKIE_HTTPONLY = True
    # SameSite for the "remember me" cookie.
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Secure flag on the "remember me" cookie; set automatically when HTTPS is on.
    REMEMBER_COOKIE_SECURE = False
    # CSRF tokens live as long as the session instead of expiring after an hour,
    # so a page left open does not lose what was typed into it.
    WTF_CSRF_TIME_LIMIT = None

    # --- Accounts (Flask-Security) -----------------------------------------------
    # Role every newly registered account receives.
    DEFAULT_ROLE = "Writer"
    # Check that an email's domain exists (DNS) at registration; off works offline.
    EMAIL_CHECK_DELIVERABILITY = False
    # People can create their own accounts at /register.
    SECURITY_REGISTERABLE = True
    # No welcome mail yet: Diary has no mail transport configured in the core app.
    SECURITY_SEND_REGISTER_EMAIL = False
    # Registration asks for the password once more.
    SECURITY_PASSWORD_CONFIRM_REQUIRED = True
    # argon2id (libpass' argon2 default variant) over the library's salted HMAC.
    SECURITY_PASSWORD_HASH = "argon2"
    # Shortest password accepted.
    SECURITY_PASSWORD_LENGTH_MIN = 8
    # Unknown email and wrong password get one and the same answer.
    SECURITY_RETURN_GENERIC_RESPONSES = True
    # Sign-out only by POST (a link or an image cannot log anybody out).
    SECURITY_LOGOUT_METHODS = ["POST"]
    # Where a successful login goes when no ``next`` was given.
    SECURITY_POST_LOGIN_VIEW = "/"
    # Where signing out goes.
    SECURITY_POST_LOGOUT_VIEW = "/login"
    # Where registration goes (the user is logged in straight away).
    SECURITY_POST_REGISTER_VIEW = "/"
    # Flask-Security's flashes appear in Diary's own message area.
    SECURITY_FLASH_MESSAGES = True
    # ``next`` may only point at this site, never at another host or subdomain.
    SECURITY_REDIRECT_ALLOW_SUBDOMAINS = False
    # The library's own "remember me" default; the checkbox is shown on login.
    SECURITY_DEFAULT_REMEMBER_ME = False

    # --- Mail, confirmation, recovery, change password/email (issue 3) ----------

    # --- Password policy (issue 3) ----------------------------------------------

    # --- Account lockout (issue 3) ----------------------------------------------

    # --- Rate limits (issue 3) --------------------------------------------------
    # Redis URL shared by all app instances (rate limits); empty: in memory.
    REDIS_URL = ""

    # --- Sessions and security headers (issue 3) --------------------------------

    # --- Multi-factor authentication (issue 4) ----------------------------------

    # --- JSON API and access tokens (issue 5) -----------------------------------


def from_environment(config) -> None:
    """Apply ``DIARY_*`` environment variables onto ``config`` (a ``flask.Config``)."""
    config.from_prefixed_env("DIARY")


def finalize(config, instance_path: str) -> None:
    """Fill in the settings derived from others.

    :param config: the app's ``flask.Config``, already loaded.
    :param instance_path: the app's instance folder (holds the SQLite file).
    """
    url = config.get("DATABASE_URL") or "sqlite:///" + os.path.join(
        instance_path, "diary.sqlite3"
    )
    config["SQLALCHEMY_DATABASE_URI"] = url
    if config.get("HTTPS"):
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
    config.setdefault("RATELIMIT_STORAGE_URI", config.get("REDIS_URL") or "memory://")
    if isinstance(config.get("PERMANENT_SESSION_LIFETIME"), (int, float)):
        config["PERMANENT_SESSION_LIFETIME"] = timedelta(
            seconds=config["PERMANENT_SESSION_LIFETIME"]
        )
