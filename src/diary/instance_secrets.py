"""The secrets Diary must never ship in its source: ``SECRET_KEY``,
``SECURITY_PASSWORD_SALT``, ``SECURITY_TOTP_SECRETS`` (encrypt the authenticator-app
keys stored per user; a JSON object ``{"tag": "secret"}``) and
``SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS`` (Fernet keys that encrypt recovery
codes; a JSON list, newest first, so keys can be rotated).

Each is taken from the environment (``DIARY_SECRET_KEY``,
``DIARY_SECURITY_PASSWORD_SALT``) or from the mapping given to ``create_app``. A
missing one is generated once with :mod:`secrets` and kept in ``secrets.json`` in
the instance folder (mode 0600, in a folder of mode 0700), so a restart or a second worker process keeps
everyone's sessions and password hashes valid.

In production (``DIARY_HTTPS=true``) nothing is generated: all four must be set
(:mod:`diary.production`), so that every instance has the same.
``python -m diary.instance_secrets`` prints a fresh set as ``DIARY_*=`` lines for
an environment file.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import tempfile
from collections.abc import Callable
from typing import Any

from diary import instance_folder

FILE_NAME = "secrets.json"


def _token() -> str:
    return secrets.token_urlsafe(48)


def _totp_secrets() -> dict[str, str]:
    # passlib's TOTP wallet: tag -> secret; the first tag encrypts new keys.
    return {"1": secrets.token_urlsafe(48)}


def _fernet_keys() -> list[str]:
    # A Fernet key is 32 random bytes, urlsafe base64 (cryptography's generate_key).
    from cryptography.fernet import Fernet

    return [Fernet.generate_key().decode()]


# Each secret and how a fresh one is made.
GENERATORS: dict[str, Callable[[], Any]] = {
    "SECRET_KEY": _token,
    "SECURITY_PASSWORD_SALT": _token,
    "SECURITY_TOTP_SECRETS": _totp_secrets,
    "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS": _fernet_keys,
}
SECRET_NAMES = tuple(GENERATORS)


def load_or_create(instance_path: str) -> dict[str, Any]:
    """Return the stored secrets, generating and storing any that are missing.

    Creation is race-free between processes: the file is written under a temporary
    name and hard-linked into place, which fails if another process got there first;
    the loser then reads the winner's file.

    :raises OSError: if the instance folder cannot be created or read.
    """
    instance_folder.create(instance_path)
    path = os.path.join(instance_path, FILE_NAME)
    stored = _read(path)
    if all(stored.get(name) for name in SECRET_NAMES):
        return stored
    fresh = {name: stored.get(name) or GENERATORS[name]() for name in SECRET_NAMES}
    fd, tmp = tempfile.mkstemp(dir=instance_path, prefix=".secrets-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(fresh, fh)
        if stored:  # incomplete file from an older version: replace it
            os.replace(tmp, path)
            return fresh
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read(path)
        return fresh
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return {}


def apply(config, instance_path: str) -> None:
    """Put every secret into ``config``, keeping any that are already set there."""
    if all(config.get(name) for name in SECRET_NAMES):
        return
    stored = load_or_create(instance_path)
    for name in SECRET_NAMES:
        if not config.get(name):
            config[name] = stored[name]


def environment_lines() -> list[str]:
    """Return one ``DIARY_<NAME>=<value>`` line per secret, freshly generated and
    quoted for a shell or an environment file (JSON for the object and the list,
    as ``DIARY_*`` variables are read)."""
    lines = []
    for name in SECRET_NAMES:
        value = GENERATORS[name]()
        text = value if isinstance(value, str) else json.dumps(value)
        lines.append(f"DIARY_{name}={shlex.quote(text)}")
    return lines


if __name__ == "__main__":
    print("\n".join(environment_lines()))
