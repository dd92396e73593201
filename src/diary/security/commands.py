"""``flask --app diary users unlock EMAIL``: added to Flask-Security's ``users``
command group, beside its ``create``, ``activate`` and ``deactivate``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_security.cli import users

from diary.security.core import security
from diary.services import lockout


@click.command("unlock")
@click.argument("email")
@with_appcontext
def unlock(email: str) -> None:
    """Unlock an account locked after failed sign-ins and forget its failures.

    An account deactivated by an administrator stays deactivated: that is
    ``flask users activate``.
    """
    user = security.datastore.find_user(case_insensitive=True, email=email)
    if user is None:
        raise click.ClickException(f"no account with email {email}")
    if lockout.unlock(user, reason="cli"):
        click.echo(f"unlocked {user.email}")
    else:
        click.echo(f"{user.email} was not locked; failed attempts forgotten")


def init_app(app: Flask) -> None:
    """Make ``unlock`` part of the ``users`` group (one group object, shared by
    every app, so it is added once)."""
    if "unlock" not in users.commands:
        users.add_command(unlock)
