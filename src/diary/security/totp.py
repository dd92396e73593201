"""Flask-Security's TOTP factory with replay protection (``totp_cls``).

The library's :class:`~flask_security.Totp` leaves ``get_last_counter`` and
``set_last_counter`` empty, so a code stays valid for its whole window and can be
used again. Here the time step (counter) of the last accepted code is kept per user
in the database, where every app instance sees it, and claimed with one conditional
UPDATE: of two requests racing with the same code, exactly one wins.

The counter belongs to the user's stored secret. A code of a new secret being
confirmed at /tf-setup starts from no counter (else switching methods within one
30-second step would refuse the new method's first code); once confirmed, its step
is stored, so the confirming code cannot sign in afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import g
from flask_security import Totp
from passlib.exc import UsedTokenError
from passlib.totp import TotpMatch
from sqlalchemy import or_, select, true, update
from sqlalchemy.orm.attributes import set_committed_value


class DiaryTotp(Totp):
    """TOTP codes (authenticator app and email) accepted once only."""

    def verify_totp(self, token: str, totp_secret: str, user, window: int = 0) -> bool:
        """Return whether ``token`` is a new code of ``totp_secret`` (the library's
        check, which calls the two methods below)."""
        g._diary_totp_new_secret = totp_secret != getattr(user, "tf_totp_secret", None)
        try:
            return super().verify_totp(token, totp_secret, user, window)
        finally:
            g.pop("_diary_totp_new_secret", None)

    def get_last_counter(self, user) -> int | None:
        """Return the time step of ``user``'s last accepted code, read from the
        database (not from a possibly stale object)."""
        from diary.extensions import db
        from diary.models import User

        if getattr(user, "id", None) is None or g.get("_diary_totp_new_secret"):
            return None
        return db.session.scalar(
            select(User.tf_totp_last_counter).where(User.id == user.id)
        )

    def set_last_counter(self, user, tmatch: TotpMatch) -> None:
        """Claim ``tmatch``'s time step for ``user``.

        :raises UsedTokenError: another request claimed this step (or a later one)
            first. The library's ``verify_totp`` turns that into a refused code.
        """
        from diary.extensions import db
        from diary.models import User

        counter = int(tmatch.counter)
        fresh = or_(User.tf_totp_last_counter.is_(None), User.tf_totp_last_counter < counter)
        if g.get("_diary_totp_new_secret"):
            fresh = true()  # confirming a new secret: its own first code
        result = db.session.execute(
            update(User)
            .where(User.id == user.id, fresh)
            .values(tf_totp_last_counter=counter)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise UsedTokenError()
        set_committed_value(user, "tf_totp_last_counter", counter)

    def set_clock(self, clock: Callable[[], float]) -> None:
        """Use ``clock()`` (seconds since the epoch) as the time of every code made
        or checked. Tests use it to control time; production keeps ``time.time``."""
        self._totp.now = staticmethod(clock)
