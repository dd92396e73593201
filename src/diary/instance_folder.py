"""The instance folder: the SQLite database (every diary), ``secrets.json`` and the
saved mails. Only the account Diary runs as may open it.

Diary creates it with mode 0700 and its files 0600 (:mod:`diary.instance_secrets`,
:mod:`diary.database`, :mod:`diary.mail`). A folder that already exists is an
operator's: Diary does not change its mode, but warns at start, once per process,
when other users of the machine may open it, and says what to run.
"""

from __future__ import annotations

import logging
import os
import shlex
import stat

# Owner only: read, write, enter.
MODE = 0o700

_warned: set[str] = set()


def create(path: str) -> None:
    """Create the folder ``path`` with mode 0700 if it does not exist.

    The umask can only take permissions away, so the folder is never more open
    than 0700; missing parent folders get the usual mode.

    :raises OSError: if it cannot be created.
    """
    os.makedirs(path, mode=MODE, exist_ok=True)


def prepare(path: str, logger: logging.Logger) -> None:
    """Create the instance folder at start, or warn if it exists and is too open.

    A folder that cannot be created is left to whatever needs it to say so: a
    deployment with its database, secrets and mail elsewhere never uses it.
    """
    try:
        existing = os.stat(path)
    except FileNotFoundError:
        try:
            create(path)
        except OSError:
            pass
        return
    folder_mode = stat.S_IMODE(existing.st_mode)
    if too_open(folder_mode) and path not in _warned:
        _warned.add(path)
        logger.warning(
            "The instance folder %s (mode %04o) can be opened by other users of this "
            "machine, and it holds the database and the secrets; to make it the owner's "
            "alone, run: chmod -R go= %s",
            path,
            folder_mode,
            shlex.quote(path),
        )


def too_open(folder_mode: int) -> bool:
    """Return whether ``folder_mode`` gives its group or others any access."""
    return bool(folder_mode & (stat.S_IRWXG | stat.S_IRWXO))
