"""Who is this request? The one path every credential takes in (issue 9).

:func:`resolve` runs once per request, early (:mod:`diary.security.policy` has
the order and the table of which endpoints take which credentials). It reads the
credential from the request, the policy's rules are applied by
:mod:`diary.services.credentials`, and the result is made the request's user for
everything that follows: Flask-Login's ``current_user``, Flask-Security's
decorators (``fs_authn_via``, ``fs_paa``), Flask-Principal's identity, the API,
the pages and their templates (:func:`current_identity`, ``may()``).

Flask-Login's own ways of loading a user (its session loader, its remember-me
cookie and Flask-Security's request loader, which also took auth tokens from the
query string and from any JSON body, on any page) are replaced: they return only
what :func:`resolve` decided.

Sign-in and sign-out, from the library's signals:

* every sign-in gets a new session id (the old record is deleted), a new CSRF
  token, and a signed-in device row (:mod:`diary.services.sessions`); "remember
  me" becomes a secret on that row and a cookie of Diary's own
  (``diary_remember``), never Flask-Login's cookie of a signed user id;
* signing out deletes the row and the session record, and forgets the cookie.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, flash, g, redirect, request, session
from flask_login import user_logged_out
from flask_principal import RoleNeed, identity_loaded
from flask_security import url_for_security, user_authenticated
from flask_security.core import _on_identity_loaded
from flask_security.decorators import default_unauthz_handler
from flask_security.proxies import _security
from flask_security.utils import set_request_attr

from diary.extensions import db
from diary.unavailable import session_store_down
from diary.security.core import security
from diary.models import User, UserSession
from diary.security.client import client_info
from diary.services import credentials, mfa, sessions
from diary.services.credentials import Identity, Kind, Reason, Refused

# The signed-in device row of a session (in the server-side session).
SESSION_KEY = "diary_session"
# Diary's remember-me cookie: "<device row id>.<secret>".
REMEMBER_COOKIE = "diary_remember"
# Cookies of the remember-me scheme this replaces (Flask-Login's signed user id
# and Diary's issue stamp): never honoured, deleted where a browser still sends them.
RETIRED_COOKIES = ("remember_token", "diary_remember_at")
# Flask-Login's and Flask-Security's keys of a signed-in session.
SIGNED_IN_KEYS = ("_user_id", "_fresh", "_id", "fs_paa", "fs_gexp", SESSION_KEY)

LOCKED_MESSAGE = (
    "Your account is locked for a while after failed sign-in attempts; the mail we "
    "sent you says until when. Resetting your password unlocks it at once."
)


NEEDS_SECOND_FACTOR = (
    "Your role needs a second factor. Set up an authenticator app or a passkey "
    "to continue."
)
NEEDS_STRONGER_SIGN_IN = (
    "These rights of your role need a sign-in with your second factor: sign out, "
    "then sign in again with it."
)


def init_app(app: Flask) -> None:
    """Connect sign-in and sign-out, make Flask-Login load users only through
    :func:`resolve`, and make Flask-Principal's identity and Flask-Security's
    refusals follow the identity's permissions (the request hook itself is
    installed by :mod:`diary.pipeline`)."""
    user_authenticated.connect(_on_signed_in, app)
    user_logged_out.connect(_on_signed_out, app)
    login_manager = app.login_manager
    login_manager.user_loader(_resolved_user)
    login_manager.request_loader(_resolved_token_user)
    # Flask-Security fills Flask-Principal's identity in ``_on_identity_loaded``;
    # blinker calls receivers in no fixed order, so wrap it rather than run beside it.
    identity_loaded.disconnect(_on_identity_loaded, sender=app)
    identity_loaded.connect(_principal_identity, app)
    security.unauthz_handler(_unauthorized)


def _principal_identity(sender, identity) -> None:
    """Flask-Principal's identity (what ``@permissions_required`` and
    ``@roles_required`` check) holds exactly the identity's permissions, and not
    the roles whose rights it may not use."""
    # ``identity`` is Flask-Principal's (blinker passes it by that name).
    _on_identity_loaded(sender, identity)
    ours = current_identity()
    if ours is None:
        return
    for need in list(identity.provides):
        if need.method == "fsperm" and need.value not in ours.permissions:
            identity.provides.discard(need)
    for role in credentials.withheld_roles(ours.user, ours.strength):
        identity.provides.discard(RoleNeed(role))


def _unauthorized(func_name: str, params: list[str] | None):
    """A page that needs a right the identity's role has, but a missing second
    factor withholds, says how to get it instead of a bare 403."""
    ours = current_identity()
    if ours is not None:
        held = {p for role in ours.user.roles for p in role.get_permissions()}
        withheld = (held - ours.permissions) | credentials.withheld_roles(
            ours.user, ours.strength
        )
        if withheld & set(params or []):
            if mfa.has_second_factor(ours.user):
                abort(403, NEEDS_STRONGER_SIGN_IN)
            if _security._want_json(request):
                abort(403, NEEDS_SECOND_FACTOR)
            flash(NEEDS_SECOND_FACTOR, "warning")
            return redirect(url_for_security("two_factor_setup"))
    return default_unauthz_handler(func_name, params)


# --- The request's identity --------------------------------------------------------


def current_identity() -> Identity | None:
    """Return this request's identity, or None for an anonymous request."""
    return g.get("diary_identity")


def current_refusal() -> Refused | None:
    """Return why this request's credential was refused, if it was."""
    return g.get("diary_refusal")


def may(permission: str) -> bool:
    """Return whether this request's identity holds ``permission`` (templates)."""
    identity = current_identity()
    return identity is not None and identity.may(permission)


def resolve(accepted: frozenset[Kind]) -> None:
    """Find this request's identity among the credentials in ``accepted`` and make
    it the current user (or nobody).

    A request that carries a token header where tokens are accepted is judged by
    that token alone; else the session, then "remember me". Why a credential was
    refused is kept for the API's answer (:func:`current_refusal`).

    :raises diary.unavailable.Unavailable: the request sent a session cookie but
        the session store cannot be reached (answered 503).
    """
    identity = refusal = None
    client = client_info()
    try:
        if accepted & credentials.TOKEN_KINDS and _token_headers_sent():
            identity = _from_token_headers(client)
        else:
            store_error = getattr(session, "store_unavailable", None)
            if Kind.SESSION in accepted and store_error:
                # A session was sent but its store is down: neither signed in nor
                # signed out can be told, so 503 (diary.unavailable), not a page
                # for nobody that would lose what a form posted.
                raise session_store_down(store_error)
            if Kind.SESSION in accepted:
                identity = _from_session(client)
            if identity is None and Kind.REMEMBER_ME in accepted:
                identity = _from_remember_me(client)
    except Refused as exc:
        refusal = exc
    g.diary_refusal = refusal
    _make_current(identity)


def _make_current(identity: Identity | None) -> None:
    g.diary_identity = identity
    current_app.login_manager._update_request_context_with_user(
        identity.user if identity else None
    )
    if identity is None:
        return
    if identity.kind in (Kind.SESSION, Kind.REMEMBER_ME):
        set_request_attr("fs_authn_via", "session")
        set_request_attr("fs_paa", session.get("fs_paa", 0))
    else:
        # Tokens never count as a fresh sign-in.
        set_request_attr("fs_authn_via", "token")
        set_request_attr("fs_paa", 0)


def _resolved_user(_user_id):
    """Flask-Login's user loader: only what :func:`resolve` decided."""
    identity = current_identity()
    return identity.user if identity else None


def _resolved_token_user(_request):
    """Flask-Security's request loader (also called by ``@auth_required("token")``):
    the user of a token :func:`resolve` accepted, else nobody."""
    identity = current_identity()
    if identity is None or identity.kind not in credentials.TOKEN_KINDS:
        return None
    return identity.user


# --- Session and remember me -------------------------------------------------------


def _from_session(client) -> Identity | None:
    uniquifier = session.get("_user_id")
    if not uniquifier:
        return None
    device_id = session.get(SESSION_KEY)
    try:
        if not device_id:
            raise Refused(Kind.SESSION, Reason.ENDED)
        check = credentials.from_session(uniquifier, device_id, ip=client.ip)
    except Refused as refused:
        if refused.reason == Reason.LOCKED:
            # Refused, not ended: the session works again once the lock is over.
            flash(LOCKED_MESSAGE, "error")
            raise
        # Ended, expired, deactivated, unconfirmed: this session is over.
        current_app.session_interface.discard(session)
        if refused.reason in (Reason.ENDED, Reason.EXPIRED):
            return None  # remember me may start a new one
        raise
    if check.touched:
        # Rewrite the record, so the store's own expiry moves with the last use.
        session.modified = True
    return check.identity


def _from_remember_me(client) -> Identity | None:
    cookie = request.cookies.get(REMEMBER_COOKIE)
    if not cookie:
        return None
    interface = current_app.session_interface

    def new_session() -> str:
        # A new session with a new id (and so a new CSRF token): whatever the
        # browser's old session held is gone.
        interface.discard(session)
        _forget_csrf_token()
        return interface.store_key(session)

    try:
        identity = credentials.from_remember_me(
            cookie, new_session=new_session, ip=client.ip, user_agent=client.user_agent
        )
    except Refused as refused:
        if refused.reason != Reason.LOCKED:
            g.diary_forget_remember = True
        raise
    user = identity.user
    session["_user_id"] = user.fs_uniquifier
    session["_fresh"] = False
    session[SESSION_KEY] = identity.session.id
    return identity


# --- Tokens ----------------------------------------------------------------------


def _token_headers_sent() -> bool:
    header = current_app.config["SECURITY_TOKEN_AUTHENTICATION_HEADER"]
    return "Authorization" in request.headers or header in request.headers


def _from_token_headers(client) -> Identity:
    """The token in the request's headers (never the query string or the body:
    URLs end up in logs and histories)."""
    authorization = request.headers.get("Authorization")
    auth_token = request.headers.get(current_app.config["SECURITY_TOKEN_AUTHENTICATION_HEADER"])
    credentials.check_failure_budget(client.ip)
    kind = Kind.PERSONAL_ACCESS_TOKEN if authorization is not None else Kind.AUTH_TOKEN
    if authorization is not None and auth_token is not None:
        # Two credentials: which one counts would be a guess (RFC 6750 forbids a
        # client to send more than one), so neither does.
        raise credentials.refuse(
            kind, Reason.TWO_CREDENTIALS, ip=client.ip, user_agent=client.user_agent
        )
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise credentials.refuse(
                kind, Reason.MALFORMED, ip=client.ip, user_agent=client.user_agent
            )
        return credentials.from_personal_access_token(
            secret.strip(), ip=client.ip, user_agent=client.user_agent
        )
    return credentials.from_auth_token(auth_token, ip=client.ip, user_agent=client.user_agent)


# --- Sign-in and sign-out ----------------------------------------------------------


def current_device() -> UserSession | None:
    """Return the device row of this request's session, if it is signed in."""
    identity = current_identity()
    return identity.session if identity is not None else None


def keep_signed_in(user: User) -> None:
    """Let this browser's session stay signed in as ``user`` after the user's
    ``fs_uniquifier`` changed (the other sessions and tokens end with the old one)."""
    if session.get("_user_id"):
        session["_user_id"] = user.fs_uniquifier


def _forget_csrf_token() -> None:
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)  # Flask-WTF's per-request copy


def _on_signed_in(_app, user, authn_via=None, **_extra) -> None:
    """A sign-in (password, passkey, second factor, "remember me" excepted, which
    :func:`_from_remember_me` handles): give the browser a new session and a device
    row; or, after a password change, a new session id on the same device."""
    methods = _methods(user, authn_via)
    # Flask-Login's remember-me cookie is never set: Diary's replaces it.
    remember = session.pop("_remember", None) == "set"
    session.pop("_remember_seconds", None)
    interface = current_app.session_interface
    device = _device_of_this_browser(user)
    if methods == ["change"] and device is not None:
        # Flask-Security signs the user in again after a password change: same
        # browser, same device, a new session id after the change of privilege.
        interface.renew(session)
        device.store_key = interface.store_key(session)
        _make_current(credentials.signed_in(user, device))
        return
    if device is not None:
        sessions.end_session(device)
    _forget_csrf_token()
    interface.renew(session)
    client = client_info()
    started = sessions.start(
        user,
        methods=methods,
        store_key=interface.store_key(session),
        remember=remember and bool(current_app.config["REMEMBER_ME"]),
        ip=client.ip,
        user_agent=client.user_agent,
    )
    session[SESSION_KEY] = started.row.id
    if started.remember_cookie:
        g.diary_remember_cookie = started.remember_cookie
    _make_current(credentials.signed_in(user, started.row))


def _methods(user, authn_via) -> list[str]:
    """Return how ``user`` signed in. Flask-Security names the way for most
    sign-ins, but ends a sign-in at the second-factor step (code, recovery code,
    passkey as second factor) with no name at all; the half-done sign-in it kept in
    the session, for this very user, tells that one apart."""
    if authn_via:
        return list(authn_via)
    if session.get("tf_user_id") == user.fs_uniquifier:
        return ["password", "second_factor"]
    return []


def _device_of_this_browser(user) -> UserSession | None:
    device_id = session.get(SESSION_KEY)
    if not device_id:
        return None
    device = db.session.get(UserSession, device_id)
    return device if device is not None and device.user_id == user.id else None


def _on_signed_out(_app, user=None, **_extra) -> None:
    """Signing out ends this browser's session on the server: its device row (and
    so "remember me") and its record; the cookie is forgotten too."""
    if user is not None and getattr(user, "id", None):
        device = _device_of_this_browser(user)
        if device is not None:
            db.session.delete(device)
            db.session.commit()
    g.diary_forget_remember = True
    g.diary_identity = None
    current_app.session_interface.discard(session)


def write_remember_cookie(response):
    """Set Diary's remember-me cookie after a sign-in that asked for it, delete it
    after a sign-out or a refused one, and delete retired cookies; return
    ``response``."""
    config = current_app.config
    if value := g.get("diary_remember_cookie"):
        response.set_cookie(
            REMEMBER_COOKIE,
            value,
            max_age=int(sessions.remember_duration().total_seconds()),
            secure=bool(config["REMEMBER_COOKIE_SECURE"]),
            httponly=True,
            samesite=config["REMEMBER_COOKIE_SAMESITE"],
        )
    elif g.get("diary_forget_remember") and REMEMBER_COOKIE in request.cookies:
        response.delete_cookie(REMEMBER_COOKIE)
    for name in RETIRED_COOKIES:
        if name in request.cookies:
            response.delete_cookie(name)
    return response
