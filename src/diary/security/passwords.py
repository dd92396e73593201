"""Flask-Security's password check, replaced by Diary's policy
(:mod:`diary.services.passwords`).

Why not the library's ``SECURITY_PASSWORD_COMPLEXITY_CHECKER = "zxcvbn"`` alone:
in Flask-Security 5.9 it passes zxcvbn the registration form's values (the whole
email address, not its local part) or, on change and reset, every string attribute
of the user object that happens to be loaded (password hash and uniquifiers
included, the email missing if the attribute was expired). It also calls zxcvbn
without ``max_length``, so with zxcvbn 4.5 any password over 72 characters raises
``ValueError`` (a server error) instead of being judged, and its length message
says "at least N" for a password that is too long. This class keeps the library's
normalization and its call sites (register, change, reset) and gives the policy
plain, known facts: the email address and username.
"""

from __future__ import annotations

import typing as t

from flask_security import PasswordUtil

from diary.services import passwords


class DiaryPasswordUtil(PasswordUtil):
    """Normalize like the library, then apply Diary's password policy."""

    def validate(self, password: str, is_register: bool, **kwargs: t.Any):
        """Return ``(problems or None, normalized password)``.

        :param is_register: True on registration, where ``kwargs`` are the form's
            user fields (``email``, maybe ``username``); otherwise ``kwargs`` has
            ``user``, the account whose password is being set (change, reset).
        """
        normalized = self.normalize(password)
        if is_register:
            email, username = kwargs.get("email"), kwargs.get("username")
        else:
            user = kwargs.get("user")
            email = getattr(user, "email", None)
            username = getattr(user, "username", None)
        problems = passwords.password_problems(
            normalized,
            email=email if isinstance(email, str) else None,
            username=username if isinstance(username, str) else None,
        )
        return (problems or None), normalized
