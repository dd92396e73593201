"""``flask --app diary …`` commands of Diary's own (Flask-Security adds ``users`` and
``roles``, Flask-Migrate adds ``db``)."""

from __future__ import annotations

import re
from datetime import timedelta

import click
from flask import Flask
from flask.cli import with_appcontext

from diary.services import accounts, audit_log, backup, receipts, transfer


def init_app(app: Flask) -> None:
    """Register Diary's commands on ``app``."""
    app.cli.add_command(demo_data)
    app.cli.add_command(receipts_group)
    app.cli.add_command(audit)
    app.cli.add_command(import_entries)
    app.cli.add_command(backup_command)


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


@click.group("receipts")
def receipts_group() -> None:
    """Access receipts: mails about other people's access to users' entries."""


@receipts_group.command("send-digests")
@with_appcontext
def send_digests() -> None:
    """Mail every user the access to their entries not mailed yet, where their
    last such mail is a day old (run it from cron, say hourly: the first access
    after a quiet day is mailed at once without it)."""
    count = receipts.send_due_digests()
    click.echo(f"{count} digest{'s' if count != 1 else ''} mailed.")


# --- flask --app diary audit … ---------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class Duration(click.ParamType):
    """A length of time written as a number and a unit: ``365d``, ``12h``, ``30m``."""

    name = "duration"

    def convert(self, value, param, ctx) -> timedelta:
        if isinstance(value, timedelta):
            return value
        match = _DURATION.match(str(value))
        if not match or int(match.group(1)) == 0:
            self.fail(
                f"{value!r} is not a duration: write a number above 0 and d, h or m "
                "(365d, 12h, 30m)",
                param,
                ctx,
            )
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@click.group("audit")
def audit() -> None:
    """The security audit log."""


@audit.command("prune")
@click.option(
    "--older-than",
    "older_than",
    type=Duration(),
    required=True,
    help="Delete events older than this: 365d, 12h, 30m.",
)
@with_appcontext
def prune(older_than: timedelta) -> None:
    """Delete audit events older than --older-than (the pruning itself is recorded)."""
    count = audit_log.prune(older_than)
    click.echo(f"deleted {count} audit event{'s' if count != 1 else ''} older than {older_than}")


# --- flask --app diary import-entries … ------------------------------------------


@click.command("import-entries")
@click.argument("email")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Show what would be imported; import nothing.")
@with_appcontext
def import_entries(email: str, file, dry_run: bool) -> None:
    """Import FILE (a Diary JSON export or a Day One JSON export) into the diary of
    the account EMAIL, as /account/import does: duplicates are skipped, and a bad
    file is refused whole with its first problem."""
    user = transfer.find_user(email)
    if user is None:
        raise click.ClickException(f"No account has the address {email}.")
    actor = transfer.acting_as(user)
    data = file.read(transfer.max_bytes() + 1)
    try:
        found = transfer.read_file(data)
        if dry_run:
            plan = transfer.plan_import(actor, found)
            click.echo(
                f"{plan.source}: {len(plan.new)} to import, {plan.duplicates} duplicates "
                f"and {plan.empty} without text to skip."
            )
            if plan.first:
                click.echo(f"Written from {plan.first:%Y-%m-%d} to {plan.last:%Y-%m-%d} (UTC).")
            for entry in plan.new[:5]:
                first_line = entry.content.splitlines()[0][:60]
                click.echo(f"  {transfer.stamp(entry.created_at)}  {first_line}")
            click.echo("Dry run: nothing was imported.")
            return
        report = transfer.import_entries(actor, found, via="cli")
    except transfer.ImportInvalid as exc:
        raise click.ClickException(f"{exc} Nothing was imported.") from None
    except transfer.EntryAccessDenied:
        raise click.ClickException(f"{email} may not write entries (entry:create).") from None
    click.echo(
        f"Imported {report.imported} entries from the {report.source}; skipped "
        f"{report.duplicates} duplicates and {report.empty} without text."
    )


# --- flask --app diary backup PATH -----------------------------------------------


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(path: str) -> None:
    """Back up the database into the new file PATH, while the app keeps serving.

    SQLite: a consistent copy through SQLite's online backup API, one file.
    PostgreSQL: pg_dump --format=custom (pg_dump must be on the PATH; restore
    with pg_restore). docs/deploy.md says how to restore either.
    """
    from diary.extensions import db

    try:
        made = backup.backup(db.engine.url, path)
    except backup.BackupFailed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up the {made.engine} database to {made.path} ({made.size} bytes).")
