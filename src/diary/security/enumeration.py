"""No account oracle: ``/reset``, ``/confirm`` and ``/register`` answer alike *and
do the same work* whether or not the address asked about has an account (issue 9).

Flask-Security (``SECURITY_RETURN_GENERIC_RESPONSES``) gives the same page either
way, but in 5.9 its two paths do different work, and the time of the answer told
(0.32 s against 0.17 s for ``/reset``, 0.26 s against 0.008 s for ``/confirm``):

- ``/reset``: for an account that may reset, a reset token (a sha256_crypt digest
  of the password hash, the slowest step), the mail and Diary's audit event;
  otherwise a throwaway password hash.
- ``/confirm``: for an unconfirmed account, a confirmation token (a sha256_crypt
  digest of the address) and the mail; otherwise nothing.
- ``/register``: for a new address, the password hash, the account, a
  confirmation token and the welcome mail; for a known one, a throwaway password
  hash, a reset token (and a confirmation token if unconfirmed) and a mail to the
  owner.

After the library's view, :func:`even_out` adds to each path what only the other
one did, so that both do all of it:

- ``/reset`` that mailed: the same throwaway password hash. ``/reset`` that did not:
  a reset token for a stand-in (:class:`StandIn`, a password hash like the stored
  ones), its mail rendered and built and handed to the sink, and an audit event
  without a user (``{"mailed": false}``), committed like the real one.
- ``/confirm`` that did not mail: a confirmation token and mail for a stand-in, to
  the sink.
- ``/register``: whichever of the two tokens the library did not make, for a
  stand-in.

Sending itself leaves the request: every mail goes through
:func:`diary.mail.deliver`, from a background thread (``MAIL_IN_BACKGROUND``), so
neither the SMTP conversation nor the ``.eml`` file write nor a mail server's error
reaches the answer; stand-in mails are built there too and then dropped.

Registering an address that already has an account mails its owner a reset link
(the library's ``welcome_existing`` mail). That link counts toward the reset limits
like a ``POST /reset`` (:func:`diary.services.ratelimits.count_reset_mail`); over
them the mail is withheld (built, sent to the sink) and the answer stays the same.
A registration of a new address counts too, or the reset limits would later show
which registrations found an account. Each one for a known address is recorded on
the owner's account (``account:register:existing``).

In JSON the library adds an empty ``"user"`` to the answer of a new registration
only; :func:`_render_json` drops it, so both answers are the same bytes.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_security import user_not_registered, user_registered
from flask_security.confirmable import generate_confirmation_link
from flask_security.recoverable import generate_reset_link
from flask_security.utils import _td_format, hash_password, send_mail
from flask_security.views import default_render_json

from diary.extensions import db
from diary.security.client import client_info
from diary.security.mail_util import STAND_IN, MailNote, mails_of_this_request, withhold
from diary.security.ratelimits import posted_email
from diary.services import ratelimits
from diary.services.audit import AuditTag, record_event

FORGOT = "security.forgot_password"
CONFIRM = "security.send_confirmation"
REGISTER = "security.register"

# What the library hashes where it mails nothing (views.forgot_password,
# registerable.register_existing).
THROWAWAY_PASSWORD = "not-a-password"
# The address of a stand-in when the request named none.
PLACEHOLDER_EMAIL = "nobody@example.invalid"
_PASSWORD_KEY = "diary.stand_in_password"


@dataclass(frozen=True)
class StandIn:
    """Whom a stand-in token and mail are for: what the library's tokens and Diary's
    mail templates read of a user, with values of the same size as a real one's."""

    email: str
    fs_uniquifier: str
    password: str


def init_app(app: Flask) -> None:
    """Even out the work of ``app``'s reset, confirmation and registration requests
    and count registrations toward the reset limits (``even_out`` is an
    after-request hook: see diary.pipeline)."""
    user_registered.connect(_on_registered, app)
    user_not_registered.connect(_on_registered_again, app)
    # The app's Flask-Security (bound before this runs), wherever it was built.
    app.extensions["security"].render_json(_render_json)


def stand_in() -> StandIn:
    """Return a stand-in for the address this request asked about (for one that
    could not go into a mail header, a placeholder of the kind)."""
    email = (posted_email() or "").strip()[:254]
    if "@" not in email or not email.isprintable():
        email = PLACEHOLDER_EMAIL
    return StandIn(email=email, fs_uniquifier=uuid.uuid4().hex, password=_stand_in_password())


def _stand_in_password() -> str:
    # The reset token digests the account's password hash, and the digest's cost
    # grows with its length: the stand-in has a hash made like the stored ones,
    # once per app.
    extensions = current_app.extensions
    if _PASSWORD_KEY not in extensions:
        extensions[_PASSWORD_KEY] = hash_password(secrets.token_urlsafe(16))
    return extensions[_PASSWORD_KEY]


def even_out(response):
    """After-request hook: add to a POST of these forms the work the library did
    only on its other path; return ``response`` unchanged."""
    if request.method != "POST" or not 200 <= response.status_code < 400:
        return response  # the view did not answer (CSRF, rate limit): nothing to match
    top_up = _TOP_UPS.get(request.endpoint)
    if top_up is None:
        return response
    try:
        top_up(mails_of_this_request())
    except Exception:
        # The answer must stay the same whatever happens here: log, do not fail.
        db.session.rollback()
        current_app.logger.exception("Could not even out the work of %s", request.endpoint)
    return response


def _after_reset_request(mails: list[MailNote]) -> None:
    config = current_app.config
    if any(m.template == config["SECURITY_EMAIL_TEMPLATE_PASSWORD_RESET"] for m in mails):
        # The library mailed a link and Diary recorded it; the other path pays this.
        hash_password(THROWAWAY_PASSWORD)
        return
    user = stand_in()
    link, token = generate_reset_link(user)
    send_mail(
        config["SECURITY_EMAIL_SUBJECT_PASSWORD_RESET"],
        user.email,
        config["SECURITY_EMAIL_TEMPLATE_PASSWORD_RESET"],
        user=user,
        reset_link=link,
        reset_token=token,
        within=_td_format(config["SECURITY_RESET_PASSWORD_WITHIN"]),
        **{STAND_IN: True},
    )
    # The mailing path commits an event on the account; this one has none. It also
    # leaves a trace of requests for addresses that get nothing.
    client = client_info()
    record_event(
        AuditTag.PASSWORD_RESET_REQUESTED, ip=client.ip, user_agent=client.user_agent,
        details={"mailed": False},
    )


def _after_confirmation_request(mails: list[MailNote]) -> None:
    config = current_app.config
    if any(m.template == config["SECURITY_EMAIL_TEMPLATE_CONFIRM"] for m in mails):
        return
    user = stand_in()
    link, token = generate_confirmation_link(user)
    send_mail(
        config["SECURITY_EMAIL_SUBJECT_CONFIRM"],
        user.email,
        config["SECURITY_EMAIL_TEMPLATE_CONFIRM"],
        user=user,
        confirmation_link=link,
        confirmation_token=token,
        within=_td_format(config["SECURITY_CONFIRM_EMAIL_WITHIN"]),
        **{STAND_IN: True},
    )


def _after_registration(mails: list[MailNote]) -> None:
    if not mails:
        return  # the form was refused (the same errors either way): nothing to match
    made = frozenset().union(*(m.tokens for m in mails))
    user = stand_in()
    security = current_app.extensions["security"]
    if security.recoverable and "reset" not in made:
        generate_reset_link(user)
    if security.confirmable and "confirm" not in made:
        generate_confirmation_link(user)


_TOP_UPS = {
    FORGOT: _after_reset_request,
    CONFIRM: _after_confirmation_request,
    REGISTER: _after_registration,
}


def _on_registered(_app, user, **_extra) -> None:
    # A new account: its welcome mail has no reset link, but the registration
    # counts all the same, so that the reset limits do not tell it from one that
    # found an existing account.
    if current_app.config["SECURITY_SEND_REGISTER_EMAIL"]:
        ratelimits.count_reset_mail(client_info().ip or "unknown", user.email)


def _on_registered_again(_app, user=None, existing_email=False, **_extra) -> None:
    """Somebody registered an address that has an account: the library mails its
    owner a reset link next. Count it toward the reset limits (withhold it when
    over them) and record it on the owner's account."""
    if user is None or not existing_email:
        return
    if not current_app.config["SECURITY_SEND_REGISTER_EMAIL"]:
        return
    client = client_info()
    mailed = ratelimits.count_reset_mail(client.ip or "unknown", user.email)
    if not mailed:
        withhold(current_app.config["SECURITY_REGISTER_EMAIL_EXISTING_TEMPLATE"], user.email)
    record_event(
        AuditTag.REGISTERED_AGAIN, user=user, ip=client.ip, user_agent=client.user_agent,
        details={"mailed": mailed},
    )


def _render_json(payload, code, headers, user):
    if request.endpoint == REGISTER:
        # The library adds the new account's (empty) payload; an existing address
        # gets none. Without it both answers are the same.
        payload = {key: value for key, value in payload.items() if key != "user"}
    return default_render_json(payload, code, headers, user)
