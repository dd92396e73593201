"""The ApiToken model."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import ApiToken, User


def test_scope_set_and_repr(app, demo_users):
    with app.app_context():
        token = ApiToken(
            user_id=demo_users["writer@example.com"], name="n", token_hash="0" * 64,
            scopes="entries:read entries:write",
        )
        db.session.add(token)
        db.session.commit()
        assert token.scope_set == {"entries:read", "entries:write"}
        assert repr(token) == f"<ApiToken {token.id} of user {token.user_id}>"
        assert token.created_at.tzinfo is not None


def test_token_hash_is_unique(app, demo_users):
    with app.app_context():
        for name in ("a", "b"):
            db.session.add(ApiToken(user_id=demo_users["writer@example.com"], name=name,
                                    token_hash="1" * 64, scopes="entries:read"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_tokens_go_with_their_user(app, demo_users):
    with app.app_context():
        user_id = demo_users["writer@example.com"]
        db.session.add(ApiToken(user_id=user_id, name="a", token_hash="2" * 64, scopes="entries:read"))
        db.session.commit()
        db.session.delete(db.session.get(User, user_id))  # the database cascades
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0
