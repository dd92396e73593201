"""``flask --app diary …`` commands of Diary's own (Flask-Security adds ``users`` and
``roles``, Flask-Migrate adds ``db``)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from diary.services import accounts


def init_app(app: Flask) -> None:
    """Register Diary's commands on ``app``."""
    app.cli.add_command(demo_data)


@click.command("demo-data")
@with_appcontext
def demo_data() -> None:
    """Create the roles and the tutorial's demo accounts (idempotent).

    The accounts have well-known passwords: never run this on a server that
    real people use.
    """
    for account, created in accounts.seed_demo_accounts():
        state = "created" if created else "exists "
        click.echo(f"{state}  {account.email:<22} {account.password:<12} {account.role}")
    click.secho(
        "WARNING: these are demo credentials, published in the README. "
        "Do not use them on a server reachable by anyone else.",
        fg="yellow",
        err=True,
    )
