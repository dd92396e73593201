"""Every Diary setting, its default and a one-line note on what it does.

Any setting can be overridden from the environment with the ``DIARY_`` prefix:
``DIARY_ENTRY_MAX_LENGTH=500`` or ``DIARY_SECURITY_REGISTERABLE=false``. Values are
parsed as JSON where they can be (numbers, ``true``/``false``, lists), else taken as
strings; see :meth:`flask.Config.from_prefixed_env`. Precedence, lowest first: the
defaults below, then ``DIARY_*`` variables, then the mapping given to
``create_app(config)``. :func:`finalize` then fills in what is derived from the rest.

Every length of time is declared once, in :data:`DURATIONS`: from the environment it
is a number of seconds (``DIARY_SECURITY_FRESHNESS=300``), in ``create_app(config)``
seconds or a :class:`~datetime.timedelta`; :func:`finalize` converts each to what its
reader wants and refuses a negative or non-numeric one at start.

``SECRET_KEY`` and ``SECURITY_PASSWORD_SALT`` have no default here on purpose: they
come from the environment (``DIARY_SECRET_KEY``, ``DIARY_SECURITY_PASSWORD_SALT``) or
are generated once and kept in the instance folder (:mod:`diary.secrets`).
"""

from __future__ import annotations

import enum
import math
import os
import re
from datetime import timedelta


class Defaults:
    """Default settings. Upper-case class attributes become ``app.config`` keys."""

    # --- Deployment --------------------------------------------------------------
    # Database URL; empty means SQLite file ``diary.sqlite3`` in the instance folder.
    DATABASE_URL = ""
    # Served over HTTPS: production. Secure cookies, https:// in built URLs, and the
    # start checks of diary.production (secrets set, debug off, and without
    # SINGLE_PROCESS: REDIS_URL set and a database other than SQLite).
    HTTPS = False
    # Exactly one app process serves (gunicorn --workers 1, any --threads): in
    # production, SQLite and rate limits in memory are then allowed.
    SINGLE_PROCESS = False
    # How many worker processes the server runs: deploy/gunicorn.conf.py sets it
    # from its worker count (0: not known). More than 1 with SINGLE_PROCESS is
    # refused in production.
    SERVER_PROCESSES = 0
    # The site's public address: links in mails, WebAuthn relying party and origin
    # (make run sets it from HOST and PORT: http://localhost:PORT).
    BASE_URL = "http://localhost:5000"
    # Extra SQLAlchemy engine options. No pre-ping (a round trip on every request):
    # a connection the server dropped fails one request and the pool is replaced.
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # Seconds a new PostgreSQL connection may take before the request gets 503
    # (psycopg's connect_timeout): a server that does not answer at all (a host
    # gone, a firewall dropping packets) fails requests this fast. See docs/faults.md.
    DATABASE_CONNECT_TIMEOUT = 5
    # Seconds one PostgreSQL statement may run before the server cancels it and the
    # request gets 503 (statement_timeout, set per connection); 0: no limit. Above
    # the slowest legitimate statement (an import or export batch), at gunicorn's
    # default worker timeout. See docs/faults.md.
    DATABASE_STATEMENT_TIMEOUT = 30
    # Retry-After of a 503 while the database or Redis cannot be reached (seconds).
    UNAVAILABLE_RETRY_AFTER = 10
    # Largest request body read, in bytes (Flask's own setting); larger ones get 413.
    # The JSON API holds its requests to the smaller API_MAX_BODY_BYTES.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Seconds /readyz waits for Redis to connect and answer PING before it reports
    # Redis failing (the database check uses the engine's own connect timeout).
    HEALTH_CHECK_TIMEOUT = 2

    # --- Diary entries -----------------------------------------------------------
    # Longest diary entry accepted, in characters.
    ENTRY_MAX_LENGTH = 280
    # Entries shown on one dashboard page.
    ENTRIES_PER_PAGE = 20
    # Show Markdown images (![alt](https://…) or from this site) in entries; off: a
    # link with the alt text. The CSP's img-src still decides which hosts load.
    MARKDOWN_IMAGES = False
    # PostgreSQL text search configuration of full-text search (its stemming and
    # stop words): the search column is built with it by the migration, so set it
    # before ``flask db upgrade``. SQLite always uses FTS5's porter (English) stemmer.
    SEARCH_LANGUAGE = "english"
    # Search ranks the matches in windows of this many, newest first (rounded up to
    # whole pages): the best of the newest 200 matches, then of the next 200.
    # Ranking all of a common word's 10,000 matches reads all their rows.
    SEARCH_RANK_WINDOW = 200

    # --- Export and import (issue 11) --------------------------------------------
    # Largest file /account/import accepts, in bytes (its upload alone may exceed
    # MAX_CONTENT_LENGTH, by this much plus the form around the file).
    IMPORT_MAX_BYTES = 10 * 1024 * 1024
    # Most entries one imported file may hold.
    IMPORT_MAX_ENTRIES = 20000
    # How long an uploaded file waits for its import to be confirmed (seconds).
    IMPORT_PENDING_SECONDS = 3600
    # Entries read from the database per batch while an export streams.
    EXPORT_BATCH_SIZE = 500

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
    # Registration mails a welcome with the confirmation link (and, for an address
    # that already has an account, a note to its owner instead of an error).
    SECURITY_SEND_REGISTER_EMAIL = True
    # Registration asks for the password once more.
    SECURITY_PASSWORD_CONFIRM_REQUIRED = True
    # argon2id (libpass' argon2 default variant) over the library's salted HMAC.
    SECURITY_PASSWORD_HASH = "argon2"
    # Unknown email and wrong password get one and the same answer.
    SECURITY_RETURN_GENERIC_RESPONSES = True
    # Sign-out only by POST (a link or an image cannot log anybody out).
    SECURITY_LOGOUT_METHODS = ["POST"]
    # Where a successful login goes when no ``next`` was given.
    SECURITY_POST_LOGIN_VIEW = "/"
    # Where signing out goes.
    SECURITY_POST_LOGOUT_VIEW = "/login"
    # Where registration goes: the login page, which shows "check your mail".
    SECURITY_POST_REGISTER_VIEW = "/login"
    # Flask-Security's flashes appear in Diary's own message area.
    SECURITY_FLASH_MESSAGES = True
    # ``next`` may only point at this site, never at another host or subdomain.
    SECURITY_REDIRECT_ALLOW_SUBDOMAINS = False
    # The library's own "remember me" default; the checkbox is shown on login.
    SECURITY_DEFAULT_REMEMBER_ME = False
    # What every refused sign-in says, whatever the reason (no such account, wrong
    # password, locked, deactivated, unconfirmed): one plain sentence that tells none.
    SECURITY_MSG_GENERIC_AUTHN_FAILED = (
        "That email address and password don't match an account we can sign you in to.",
        "error",
    )

    # --- Mail, confirmation, recovery, change password/email (issue 3) ----------
    # SMTP server as a URL: smtp://user:pass@host:587?starttls=1 or
    # smtps://user:pass@host:465 (URL-encode @ : / in the password). Empty: every
    # mail is saved as an .eml file under MAIL_FILE_PATH and its links are logged
    # (not with HTTPS on: they hold live tokens).
    MAIL_URL = ""
    # The From: of every mail Diary sends.
    MAIL_DEFAULT_SENDER = "Diary <no-reply@localhost>"
    # Seconds to wait for the SMTP server before giving up.
    MAIL_TIMEOUT = 10
    # Folder for the .eml files when MAIL_URL is empty; empty: "mail" in the instance folder.
    MAIL_FILE_PATH = ""
    # Flask-Mailman backend; empty: "smtp" with MAIL_URL, else Diary's .eml file backend.
    MAIL_BACKEND = ""
    # Send mail from a background thread of each process, so no answer waits for (or
    # shows by its time) the mail server; failures are logged. false: within the request.
    MAIL_IN_BACKGROUND = True
    # New accounts must confirm their email address before they can log in.
    SECURITY_CONFIRMABLE = True
    # How long a confirmation link works.
    SECURITY_CONFIRM_EMAIL_WITHIN = timedelta(days=2)
    # "Forgot password" at /reset mails a reset link.
    SECURITY_RECOVERABLE = True
    # How long a reset link works. Each link works once: it names the account by
    # fs_uniquifier, which the reset rotates, so all earlier links die with it.
    SECURITY_RESET_PASSWORD_WITHIN = timedelta(hours=1)
    # What an expired or already used reset link says (the library's own wording
    # names neither the cause nor the way out).
    SECURITY_MSG_PASSWORD_RESET_EXPIRED = (
        "This reset link has expired: links work for %(within)s. Ask for a new one below.",
        "error",
    )
    # What a used, altered or incomplete reset link says.
    SECURITY_MSG_INVALID_RESET_PASSWORD_TOKEN = (
        "This reset link is not valid: each link works only once. Ask for a new one below.",
        "error",
    )
    # Where a completed reset goes: log in with the new password (no auto login).
    SECURITY_POST_RESET_VIEW = "/login"
    # Signed-in users can change their password at /change (current password needed);
    # this ends their other sessions and tokens.
    SECURITY_CHANGEABLE = True
    # Where a password change goes.
    SECURITY_POST_CHANGE_VIEW = "/account"
    # Signed-in users can change their address at /change-email, confirmed at the
    # new address; the old address gets a notice once the change is done.
    SECURITY_CHANGE_EMAIL = True
    # How long the link to confirm a new address works.
    SECURITY_CHANGE_EMAIL_WITHIN = timedelta(hours=2)
    # Where a confirmed email change goes.
    SECURITY_POST_CHANGE_EMAIL_VIEW = "/account"

    # Subjects of the account mails (bodies: templates/security/email/).
    SECURITY_EMAIL_SUBJECT_REGISTER = "Welcome to Diary: please confirm your email address"
    # Subject of a resent confirmation mail.
    SECURITY_EMAIL_SUBJECT_CONFIRM = "Confirm your Diary email address"
    # Subject of the reset-link mail.
    SECURITY_EMAIL_SUBJECT_PASSWORD_RESET = "Reset your Diary password"
    # Subject of the notice after a completed reset.
    SECURITY_EMAIL_SUBJECT_PASSWORD_NOTICE = "Your Diary password was reset"
    # Subject of the notice after a password change.
    SECURITY_EMAIL_SUBJECT_PASSWORD_CHANGE_NOTICE = "Your Diary password was changed"
    # Subject of the mail to a new address, to confirm an email change.
    SECURITY_CHANGE_EMAIL_SUBJECT = "Confirm your new Diary email address"

    # --- Password policy (issue 3) ----------------------------------------------
    # Shortest password accepted (NIST SP 800-63B asks for 8 at least; 12 by default).
    SECURITY_PASSWORD_LENGTH_MIN = 12
    # Longest password accepted (passphrases welcome; bounds the work of checking it).
    PASSWORD_LENGTH_MAX = 128
    # Lowest zxcvbn strength score (0-4) accepted; 3 is "safely unguessable".
    SECURITY_ZXCVBN_MINIMUM_SCORE = 3

    # --- Account lockout (issue 3) ----------------------------------------------
    # Consecutive failed sign-ins (password, passcode, passkey, second factor) that lock.
    LOCKOUT_THRESHOLD = 5
    # Seconds the first lockout lasts; each further one doubles it.
    LOCKOUT_DURATION = 15 * 60
    # Longest lockout, in seconds, however often the account was locked.
    LOCKOUT_MAX_DURATION = 24 * 60 * 60
    # Mail the owner when the account is locked (when, from where, until when).
    LOCKOUT_NOTIFY = True

    # --- Rate limits (issue 3) --------------------------------------------------
    # Redis URL shared by all app instances (rate limits and sessions); empty: rate
    # limits in memory, sessions in the database.
    REDIS_URL = ""
    # While the rate-limit storage (Redis) cannot be reached: let sign-ins through
    # uncounted (true), or refuse them with 503 (false). "Sign-ins" are everything
    # LIMIT_LOGIN_PER_IP guards (every form that checks a credential) and the
    # second-factor limit; refusing keeps guessing passwords bounded. See docs/faults.md.
    SIGN_IN_LIMITS_FAIL_OPEN = False
    # The same for every other limit (registration, reset and confirmation mails,
    # refused API credentials): through uncounted (true) or 503 (false).
    OTHER_LIMITS_FAIL_OPEN = True
    # Sign-in attempts (POSTs) per client IP, across all sign-in forms and the JSON API.
    LIMIT_LOGIN_PER_IP = "10 per minute"
    # Registrations (POSTs) per client IP.
    LIMIT_REGISTER_PER_IP = "5 per hour"
    # Password reset requests per client IP. Registrations count too: registering a
    # known address mails its owner a reset link (withheld once over the limit).
    LIMIT_RESET_PER_IP = "5 per hour"
    # Password reset requests per email address asked for; registrations count too.
    LIMIT_RESET_PER_EMAIL = "3 per hour"
    # Confirmation mail resends per client IP.
    LIMIT_CONFIRM_PER_IP = "5 per hour"
    # Confirmation mail resends per email address asked for.
    LIMIT_CONFIRM_PER_EMAIL = "3 per hour"
    # Refused API credentials per client IP; over it, API requests with a credential
    # from that IP get 429 until the window ends (each refusal is also audited).
    LIMIT_API_AUTH_FAILURES_PER_IP = "20 per minute"
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (ProxyFix).
    # 0: use the TCP peer address. Never more than there really are: clients could
    # then choose the IP address that rate limits and the audit log see.
    TRUSTED_PROXIES = 0

    # --- Sessions and security headers (issue 3) --------------------------------
    # Seconds without a request after which a session ends (its server-side record).
    SESSION_IDLE_TIMEOUT = 30 * 60
    # Seconds after sign-in after which a session ends however active (server-side).
    SESSION_ABSOLUTE_LIFETIME = 12 * 60 * 60
    # Offer "remember me" on the login form; false hides it and ignores it if posted.
    REMEMBER_ME = True
    # How long "remember me" lasts after sign-in (a server-side record, revocable).
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    # Prefix of the session records' keys in the store (Redis or the database).
    SESSION_KEY_PREFIX = "diary:session:"
    # Flask-Security's blueprint-only Cache-Control is off: Diary sets
    # "no-store, private" on every response to a signed-in user itself
    # (diary.security.headers), which also renders right with Werkzeug 3.1.
    SECURITY_CACHE_CONTROL = {}
    # Content-Security-Policy, directive -> sources. img-src allows data: for the
    # server-rendered QR code of authenticator setup; nothing inline runs.
    CONTENT_SECURITY_POLICY = {
        "default-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
        "base-uri": "'none'",
    }
    # Referrer-Policy: never tell other sites which diary page a link was on.
    REFERRER_POLICY = "same-origin"
    # Permissions-Policy: browser features no Diary page uses are switched off
    # (WebAuthn's publickey-credentials-* stay at their default, this site only).
    PERMISSIONS_POLICY = {
        "camera": "()",
        "microphone": "()",
        "geolocation": "()",
        "payment": "()",
        "usb": "()",
        "browsing-topics": "()",
    }
    # HSTS max-age in seconds, sent over HTTPS when HTTPS is on.
    HSTS_MAX_AGE = 365 * 24 * 60 * 60
    # HSTS covers subdomains of the site's host too.
    HSTS_INCLUDE_SUBDOMAINS = True

    # --- Multi-factor authentication (issue 4) ----------------------------------
    # SECURITY_TOTP_SECRETS and SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS are secrets:
    # from the environment or generated into the instance folder (instance_secrets).
    # Two-factor login: asked after the password whenever a method is set up.
    SECURITY_TWO_FACTOR = True
    # Methods offered at /tf-setup: an authenticator app, or codes sent by email.
    SECURITY_TWO_FACTOR_ENABLED_METHODS = ["authenticator", "email"]
    # Lost the app? /tf-validate offers to send the current code by email.
    SECURITY_TWO_FACTOR_RESCUE_EMAIL = True
    # Ask for the second factor at every login (no "trust this device for 30 days").
    SECURITY_TWO_FACTOR_ALWAYS_VALIDATE = True
    # How far (seconds) either side of now an authenticator code is looked for.
    SECURITY_TWO_FACTOR_AUTHENTICATOR_VALIDITY = 60
    # Where setting up (or switching off) a method goes: recovery codes, then /account.
    SECURITY_TWO_FACTOR_POST_SETUP_VIEW = "/account/factors/added"
    # The issuer name authenticator apps show next to the account.
    SECURITY_TOTP_ISSUER = "Diary"
    # One-time recovery codes for a lost second factor, stored encrypted.
    SECURITY_MULTI_FACTOR_RECOVERY_CODES = True
    # How many recovery codes one set has.
    SECURITY_MULTI_FACTOR_RECOVERY_CODES_N = 10
    # Passkeys and security keys (WebAuthn).
    SECURITY_WEBAUTHN = True
    # The name browsers show when creating a passkey.
    SECURITY_WAN_RP_NAME = "Diary"
    # Passkey sign-in never asks for an email first (no list of a user's keys leaks).
    SECURITY_WAN_ALLOW_USER_HINTS = False
    # Where registering a passkey goes: recovery codes, then /account.
    SECURITY_WAN_POST_REGISTER_VIEW = "/account/factors/added"
    # Turning a method off, new recovery codes, new passkeys: signed in within this long.
    SECURITY_FRESHNESS = timedelta(minutes=10)
    # No extra grace after a fresh sign-in: FRESHNESS alone decides.
    SECURITY_FRESHNESS_GRACE_PERIOD = timedelta(0)
    # Roles whose members must have a second factor before using their extra rights.
    MFA_REQUIRED_ROLES = ["Admin"]
    # Attempts at the second-factor step per user (Flask-Limiter syntax).
    MFA_RATELIMIT = "5 per 5 minutes"

    # --- JSON API and access tokens (issue 5) -----------------------------------
    # Requests per minute one personal access token may make to /api/v1.
    API_RATE_LIMIT_PER_TOKEN = "300 per minute"
    # Requests per minute one user may make to /api/v1, all ways of signing in together.
    API_RATE_LIMIT_PER_USER = "300 per minute"
    # Largest request body /api/v1 reads, in bytes; larger ones get 413.
    API_MAX_BODY_BYTES = 64 * 1024
    # Days a new personal access token lives unless its owner picks otherwise.
    API_TOKEN_DEFAULT_LIFETIME_DAYS = 90
    # Most unrevoked personal access tokens one user may hold at once.
    API_TOKENS_PER_USER_MAX = 50
    # Longest lifetime a new personal access token may be given, in days.
    API_TOKEN_MAX_LIFETIME_DAYS = 365
    # Offer tokens that never expire (an operator's choice; off: every token expires).
    API_TOKEN_NEVER_EXPIRES_ALLOWED = False
    # Flask-Security auth tokens (POST /login with include_auth_token) live 15 minutes.
    SECURITY_TOKEN_MAX_AGE = timedelta(minutes=15)
    # Login returns a refresh token too; POST /refresh-token swaps it for a new pair.
    SECURITY_REFRESH_TOKEN = True
    # The refresh token is returned in the JSON body (scripts and apps, not browsers).
    SECURITY_REFRESH_TOKEN_COOKIE_NAME = None
    # A refresh token family lives at most this long…
    SECURITY_REFRESH_TOKEN_MAX_AGE = timedelta(days=30)
    # …and dies after this long unused.
    SECURITY_REFRESH_TOKEN_MAX_IDLE = timedelta(days=7)

    # --- Logs (issue 12) ---------------------------------------------------------
    # json: one JSON object per line (python-json-logger); text: readable lines.
    # Empty: json when HTTPS is on, text otherwise. See docs/logging.md.
    LOG_FORMAT = ""
    # Lowest level logged: DEBUG, INFO, WARNING, ERROR or CRITICAL (SQLAlchemy's
    # statement log stays at WARNING: its parameters hold entry text and secrets).
    LOG_LEVEL = "INFO"


class Duration(enum.Enum):
    """How ``app.config`` holds a duration setting, for the code that reads it."""

    TIMEDELTA = "timedelta"  # Flask, Flask-Login and Flask-Security want one
    SECONDS = "seconds"  # a number: Diary's own code, and some library settings
    SECONDS_OR_NONE = "seconds or none"  # the same, or None for no limit


# Every setting that is a length of time: the one list finalize() converts and checks.
# A new duration setting (a longest lifetime for access tokens, say) goes here too,
# under the kind its reader wants; tests/test_config.py then sets it from the
# environment like the others, and fails for a timedelta default left out.
DURATIONS: dict[str, Duration] = {
    # Flask and Flask-Login (PERMANENT_SESSION_LIFETIME is derived: see finalize)
    "REMEMBER_COOKIE_DURATION": Duration.TIMEDELTA,
    # Flask-WTF
    "WTF_CSRF_TIME_LIMIT": Duration.SECONDS_OR_NONE,
    # Flask-Security: links, freshness, tokens, second factors
    "SECURITY_CONFIRM_EMAIL_WITHIN": Duration.TIMEDELTA,
    "SECURITY_RESET_PASSWORD_WITHIN": Duration.TIMEDELTA,
    "SECURITY_CHANGE_EMAIL_WITHIN": Duration.TIMEDELTA,
    "SECURITY_LOGIN_WITHIN": Duration.TIMEDELTA,
    "SECURITY_FRESHNESS": Duration.TIMEDELTA,
    "SECURITY_FRESHNESS_GRACE_PERIOD": Duration.TIMEDELTA,
    "SECURITY_TOKEN_MAX_AGE": Duration.TIMEDELTA,
    "SECURITY_REFRESH_TOKEN_MAX_AGE": Duration.TIMEDELTA,
    "SECURITY_REFRESH_TOKEN_MAX_IDLE": Duration.TIMEDELTA,
    "SECURITY_TWO_FACTOR_LOGIN_VALIDITY": Duration.TIMEDELTA,
    "SECURITY_TWO_FACTOR_SETUP_WITHIN": Duration.TIMEDELTA,
    "SECURITY_US_SETUP_WITHIN": Duration.TIMEDELTA,
    "SECURITY_WAN_REGISTER_WITHIN": Duration.TIMEDELTA,
    "SECURITY_WAN_SIGNIN_WITHIN": Duration.TIMEDELTA,
    "SECURITY_TWO_FACTOR_AUTHENTICATOR_VALIDITY": Duration.SECONDS,
    "SECURITY_TWO_FACTOR_MAIL_VALIDITY": Duration.SECONDS,
    "SECURITY_TWO_FACTOR_SMS_VALIDITY": Duration.SECONDS,
    "SECURITY_US_TOKEN_VALIDITY": Duration.SECONDS,
    # Diary's own
    "MAIL_TIMEOUT": Duration.SECONDS,
    "LOCKOUT_DURATION": Duration.SECONDS,
    "LOCKOUT_MAX_DURATION": Duration.SECONDS,
    "SESSION_IDLE_TIMEOUT": Duration.SECONDS,
    "SESSION_ABSOLUTE_LIFETIME": Duration.SECONDS,
    "HSTS_MAX_AGE": Duration.SECONDS,
    "IMPORT_PENDING_SECONDS": Duration.SECONDS,
    "HEALTH_CHECK_TIMEOUT": Duration.SECONDS,
    "DATABASE_CONNECT_TIMEOUT": Duration.SECONDS,
    "DATABASE_STATEMENT_TIMEOUT": Duration.SECONDS,
    "UNAVAILABLE_RETRY_AFTER": Duration.SECONDS,
}


def from_environment(config) -> None:
    """Apply ``DIARY_*`` environment variables onto ``config`` (a ``flask.Config``)."""
    config.from_prefixed_env("DIARY")


def finalize(config, instance_path: str) -> None:
    """Fill in the settings derived from others.

    :param config: the app's ``flask.Config``, already loaded.
    :param instance_path: the app's instance folder (holds the SQLite file).
    :raises ValueError: if ``MAIL_URL`` is malformed (see :mod:`diary.mail`).
    """
    from diary import mail

    url = config.get("DATABASE_URL") or "sqlite:///" + os.path.join(
        instance_path, "diary.sqlite3"
    )
    config["SQLALCHEMY_DATABASE_URI"] = url
    # Written into SQL (a regconfig name): a plain identifier, or refused at start.
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", str(config.get("SEARCH_LANGUAGE", "english"))):
        raise ValueError("SEARCH_LANGUAGE must be a text search configuration name, e.g. english.")
    if config.get("HTTPS"):
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
    config["RATELIMIT_STORAGE_URI"] = rate_limit_storage(config)
    # Flask-Limiter's own limits (the API's per-token and per-user budgets) follow
    # OTHER_LIMITS_FAIL_OPEN: through uncounted, or the storage's error (503).
    config["RATELIMIT_SWALLOW_ERRORS"] = bool(config.get("OTHER_LIMITS_FAIL_OPEN", True))
    mail.configure(config, instance_path)  # may set MAIL_TIMEOUT from MAIL_URL
    for name, kind in DURATIONS.items():
        if name in config:
            config[name] = duration(name, config[name], kind)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(config, url)
    # Server-side sessions (diary.security.session_store): a record lives the idle
    # timeout after its last write (Flask's PERMANENT_SESSION_LIFETIME is derived,
    # not set), and is written only when it changed (a signed-in session is
    # rewritten once a minute while in use).
    if "SESSION_IDLE_TIMEOUT" in config:
        config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=config["SESSION_IDLE_TIMEOUT"])
    config["SESSION_REFRESH_EACH_REQUEST"] = False
    # Diary mails these notices itself, once it has ended the account's other
    # sessions and tokens, so that the mail can say which (diary.security.account_events).
    config["SECURITY_SEND_PASSWORD_CHANGE_EMAIL"] = False
    config["SECURITY_SEND_PASSWORD_RESET_NOTICE_EMAIL"] = False


def engine_options(config, url: str) -> dict:
    """Return ``SQLALCHEMY_ENGINE_OPTIONS`` with the timeouts of PostgreSQL
    connections added (``connect_timeout``, and ``statement_timeout`` through the
    connection's startup options), unless those options already set them.

    libpq counts ``connect_timeout`` in whole seconds, at least 2: rounded up.
    """
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if not url.startswith(("postgresql", "postgres")):
        return options
    connect_args = dict(options.get("connect_args") or {})
    connect = config.get("DATABASE_CONNECT_TIMEOUT")
    if connect:
        connect_args.setdefault("connect_timeout", max(2, math.ceil(connect)))
    statement = config.get("DATABASE_STATEMENT_TIMEOUT")
    if statement:
        connect_args.setdefault("options", f"-c statement_timeout={math.ceil(statement * 1000)}")
    options["connect_args"] = connect_args
    return options


def rate_limit_storage(config) -> str:
    """Return where the rate limits are counted: ``RATELIMIT_STORAGE_URI`` if set
    (Flask-Limiter's own setting), else ``REDIS_URL``, else ``memory://`` (each
    process on its own)."""
    return config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"


def duration(name: str, value: object, kind: Duration) -> timedelta | int | float | None:
    """Return the setting ``name`` as ``kind`` wants it.

    :param value: a number of seconds (int or float) or a timedelta.
    :raises ValueError: one line naming the variable, if ``value`` is negative, not a
        number, not finite or too long for a timedelta.
    """
    if value is None and kind is Duration.SECONDS_OR_NONE:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int longer than any float
            seconds = math.inf
    else:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        wanted = "a number of seconds, 0 or more"
        if kind is Duration.SECONDS_OR_NONE:
            wanted += ", or null for no limit"
        raise ValueError(f"{name} (DIARY_{name}) must be {wanted}; got {value!r}")
    if kind is Duration.TIMEDELTA and not isinstance(value, timedelta):
        try:
            value = timedelta(seconds=seconds)
        except OverflowError:
            most = int(timedelta.max.total_seconds())
            raise ValueError(
                f"{name} (DIARY_{name}) must be at most {most} seconds; got {value!r}"
            ) from None
    if kind is Duration.TIMEDELTA or isinstance(value, int):
        return value
    return int(seconds) if seconds.is_integer() else seconds
