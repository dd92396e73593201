"""Diary's password policy, after NIST SP 800-63B section 5.1.1 and OWASP ASVS 6.2.

- Length: at least ``PASSWORD_LENGTH_MIN`` characters (default 12), at most
  ``PASSWORD_LENGTH_MAX`` (128), counted after Unicode normalization.
- No composition rules (no "one digit, one capital"): they push people to
  ``Summer2026!`` and add no strength.
- Strength judged offline with zxcvbn, which knows common and breached-style
  passwords, names, keyboard walks, dates and l33t substitutions. The account's
  own email address, its local part and the parts of that, its username and the
  site's name count as known words, so ``alice.smith@…`` cannot use
  ``alicesmith2026``. The score must reach ``ZXCVBN_MINIMUM_SCORE`` (default 3,
  "safely unguessable": about 10^8 guesses and more).

Every refusal says why, in words meant to be shown next to the password field.
The rules apply wherever a person picks a password (registration, change, reset);
accounts created by the demo-data command do not pass through here by design.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import current_app

# zxcvbn's matching grows steeply with length (a random 128-character string takes
# over a second on a small server): only this many leading characters are judged.
# A password whose first 72 characters are hard to guess is hard to guess.
ZXCVBN_MAX_LENGTH = 72

# Words anybody attacking this site would try first.
SITE_WORDS = ("diary", "journal")

_SPLIT_RE = re.compile(r"[^\w]+|_|\d+")
_SQUASH_RE = re.compile(r"[^a-z]+")


def context_words(email: str | None, username: str | None) -> list[str]:
    """Return the words an attacker knows about the account: the email address,
    its local part (also with dots, digits and the like squeezed out) and
    domain, the pieces of those (split at dots, dashes, digits and the like), the username and the site's own name. Pieces shorter than three
    characters are left out (they would match too much)."""
    words: list[str] = []
    for value in (email, username):
        if not value:
            continue
        value = value.strip().lower()
        words.append(value)
        local, _, domain = value.partition("@")
        words.extend([local, domain] if domain else [])
        words.append(_SQUASH_RE.sub("", local))  # alice.smith -> alicesmith
        words.extend(_SPLIT_RE.split(local))
        if domain:
            words.extend(_SPLIT_RE.split(domain.rsplit(".", 1)[0]))
    words.extend(SITE_WORDS)
    return [w for w in dict.fromkeys(words) if len(w) >= 3]


def password_problems(
    password: str,
    *,
    email: str | None = None,
    username: str | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    min_score: int | None = None,
) -> list[str]:
    """Return why ``password`` is refused, as sentences for the person choosing it;
    an empty list means it is accepted.

    :param password: the password, already normalized (Flask-Security normalizes
        to NFKD first, so length counts what is hashed).
    :param email: the account's email address (known to attackers).
    :param username: the account's username, if any.
    :param min_length: default: setting ``SECURITY_PASSWORD_LENGTH_MIN``.
    :param max_length: default: setting ``PASSWORD_LENGTH_MAX``.
    :param min_score: lowest zxcvbn score accepted (0-4); default: setting
        ``SECURITY_ZXCVBN_MINIMUM_SCORE``.
    """
    import zxcvbn

    config = current_app.config
    min_length = config["SECURITY_PASSWORD_LENGTH_MIN"] if min_length is None else min_length
    max_length = config["PASSWORD_LENGTH_MAX"] if max_length is None else max_length
    min_score = config["SECURITY_ZXCVBN_MINIMUM_SCORE"] if min_score is None else min_score

    if len(password) < min_length:
        return [f"Use at least {min_length} characters; a few unrelated words are easy "
                "to remember and hard to guess."]
    if len(password) > max_length:
        return [f"Use at most {max_length} characters."]

    words = context_words(email, username)
    lowered = password.lower()
    if any(lowered == w for w in words if "@" in w):
        return ["Do not use your email address as your password."]

    result = zxcvbn.zxcvbn(
        password[:ZXCVBN_MAX_LENGTH], user_inputs=words, max_length=ZXCVBN_MAX_LENGTH
    )
    if result["score"] >= min_score:
        return []
    return [_explain(result, words)]


def _explain(result: dict, words: Iterable[str]) -> str:
    """Turn zxcvbn's verdict into one sentence that says why and what to do."""
    known = set(words)
    uses_own = any(
        m.get("dictionary_name") == "user_inputs" and m.get("matched_word") in known
        for m in result.get("sequence", [])
    )
    if uses_own:
        reason = "It is built from your email address, username or this site's name."
    else:
        reason = result["feedback"].get("warning") or "It would be easy to guess."
    reason = reason.rstrip(".") + "."
    return f"This password is too easy to guess. {reason} " \
        "Try a few unrelated words, or a longer phrase."
