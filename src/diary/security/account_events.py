"""Flask-Security's account signals, turned into audit events and notices.

The library runs the flows (register, confirm, reset, change password, change
email) and announces each step with a signal; here each step is recorded through
:func:`diary.services.audit.record_event` with the client's IP and user agent.

Where the library commits the change itself after the request (registration,
confirmation, password change and reset, email change), the event is added to the
same transaction, so the change and its record are stored together or not at all.
Requests for a reset or an email change store nothing else, so their event is
committed on its own.

A password change, a password reset and an email change also end the account's
other sessions and tokens (:mod:`diary.services.revocation`); the browser that made
a change stays signed in. The notice of each event is then mailed from here, so
that it can say what was ended: Flask-Security's own change and reset notices are
switched off (``config.finalize``). Flask-Security 5.9 does not tell the old
address that an email change happened (its ``CHANGE_EMAIL_NOTIFY_OLD`` exists only
in a docstring), so :func:`_on_email_changed` sends that notice too.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_security import (
    change_email_confirmed,
    change_email_instructions_sent,
    password_changed,
    password_reset,
    reset_password_instructions_sent,
    user_confirmed,
    user_registered,
)
from flask_security.utils import send_mail

from diary.extensions import db
from diary.security import identity
from diary.security.client import client_info
from diary.services import revocation
from diary.services.audit import AuditTag, record_event
from diary.services.revocation import Trigger

# The notice mailed to the old address after an email change (.txt and .html).
EMAIL_CHANGED_NOTICE_TEMPLATE = "security/email/change_email_notice"
EMAIL_CHANGED_NOTICE_SUBJECT = "Your Diary email address was changed"


def init_app(app: Flask) -> None:
    """Connect the handlers to ``app``'s Flask-Security signals."""
    user_registered.connect(_on_registered, app)
    user_confirmed.connect(_on_confirmed, app)
    password_changed.connect(_on_password_changed, app)
    reset_password_instructions_sent.connect(_on_reset_requested, app)
    password_reset.connect(_on_password_reset, app)
    change_email_instructions_sent.connect(_on_email_change_requested, app)
    change_email_confirmed.connect(_on_email_changed, app)


def _record(tag: AuditTag, user, *, commit: bool, details: dict | None = None) -> None:
    if user.id is None:  # a new account: give it its id inside the transaction
        db.session.flush()
    client = client_info()
    record_event(
        tag, user=user, ip=client.ip, user_agent=client.user_agent,
        details=details, commit=commit,
    )


def _on_registered(_app, user, **_extra) -> None:
    _record(AuditTag.ACCOUNT_REGISTERED, user, commit=False)


def _on_confirmed(_app, user, **_extra) -> None:
    _record(AuditTag.EMAIL_CONFIRMED, user, commit=False)


def _end_credentials(user, trigger: Trigger, *, keep_this_browser: bool):
    """End ``user``'s other sessions and tokens (this browser's too unless
    ``keep_this_browser``); return what was ended."""
    device = identity.current_device() if keep_this_browser else None
    keep = device.id if device is not None and device.user_id == user.id else None
    client = client_info()
    ended = revocation.end_credentials(
        user,
        trigger,
        keep_session=keep,
        ip=client.ip,
        user_agent=client.user_agent,
        commit=False,  # the library commits the change and all of this with it
    )
    if keep is not None:
        identity.keep_signed_in(user)
    return ended


def _send_notice(user, subject: str, template: str, ended) -> None:
    """Mail the library's notice (its ``SECURITY_EMAIL_SUBJECT_<subject>`` and
    ``SECURITY_EMAIL_TEMPLATE_<template>`` settings) with what the change ended."""
    config = current_app.config
    send_mail(
        config[f"SECURITY_EMAIL_SUBJECT_{subject}"],
        user.email,
        config[f"SECURITY_EMAIL_TEMPLATE_{template}"],
        user=user,
        ended=ended,
    )


def _on_password_changed(_app, user, **_extra) -> None:
    _record(AuditTag.PASSWORD_CHANGED, user, commit=False)
    ended = _end_credentials(user, Trigger.PASSWORD_CHANGED, keep_this_browser=True)
    _send_notice(user, "PASSWORD_CHANGE_NOTICE", "PASSWORD_CHANGE_NOTICE", ended)


def _on_reset_requested(_app, user, **_extra) -> None:
    # Only for an existing account (the library sends nothing for unknown
    # addresses, and the page says the same either way). The token is never stored.
    _record(AuditTag.PASSWORD_RESET_REQUESTED, user, commit=True)


def _on_password_reset(_app, user, **_extra) -> None:
    _record(AuditTag.PASSWORD_RESET, user, commit=False)
    ended = _end_credentials(user, Trigger.PASSWORD_RESET, keep_this_browser=False)
    _send_notice(user, "PASSWORD_NOTICE", "PASSWORD_RESET_NOTICE", ended)


def _on_email_change_requested(_app, user, new_email, **_extra) -> None:
    _record(AuditTag.EMAIL_CHANGE_REQUESTED, user, commit=True,
            details={"new_email": new_email})


def _on_email_changed(_app, user, old_email, **_extra) -> None:
    _record(AuditTag.EMAIL_CHANGED, user, commit=False,
            details={"old_email": old_email, "new_email": user.email})
    ended = _end_credentials(user, Trigger.EMAIL_CHANGED, keep_this_browser=True)
    # Tell the previous address, so a takeover through a stolen session does not
    # go unnoticed. It carries no link that could undo or confirm anything.
    send_mail(
        EMAIL_CHANGED_NOTICE_SUBJECT,
        old_email,
        EMAIL_CHANGED_NOTICE_TEMPLATE,
        user=user,
        old_email=old_email,
        new_email=user.email,
        ended=ended,
    )
