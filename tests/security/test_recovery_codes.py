"""DiaryMfRecoveryCodesUtil and DiaryMfRecoveryForm (flows: tests/functional)."""

from __future__ import annotations

import sqlalchemy as sa

from diary.extensions import db
from diary.security.core import security
from diary.models import AuditEvent, User
from diary.services.audit import AuditTag


def test_codes_are_encrypted_checked_and_used_once_with_events(app, make_user):
    uid = make_user("r@example.com")
    with app.test_request_context("/"):
        util = security.mf_recovery_codes_util
        user = db.session.get(User, uid)
        codes = util.create_recovery_codes(user)
        db.session.commit()
        assert len(codes) == 10 and not set(codes) & set(user.mf_recovery_codes)
        assert util.check_recovery_code(user, codes[3])
        assert util.delete_recovery_code(user, codes[3])
        db.session.commit()
        assert not util.check_recovery_code(user, codes[3])
        assert util.check_recovery_code(user, codes[4])

        util.create_recovery_codes(user)  # a new set replaces the old one
        db.session.commit()
        assert not util.check_recovery_code(user, codes[4])
        events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.tag, e.details) for e in events] == [
            (str(AuditTag.RECOVERY_CODES_GENERATED), {"replaced": False}),
            (str(AuditTag.RECOVERY_CODE_USED), {"remaining": 9}),
            (str(AuditTag.RECOVERY_CODES_GENERATED), {"replaced": True}),
        ]


def test_form_ignores_case_and_spaces_and_reports_wrong_codes(app, make_user):
    from flask_security import user_failed_authn

    from diary.security.recovery_codes import DiaryMfRecoveryForm

    uid = make_user("r@example.com")
    seen = []
    user_failed_authn.connect(
        lambda _a, user, auth_type, tfa=False, **_: seen.append((auth_type, tfa)), app, weak=False
    )
    with app.test_request_context("/"):
        user = db.session.get(User, uid)
        code = security.mf_recovery_codes_util.create_recovery_codes(user)[0]
        db.session.commit()
        form = DiaryMfRecoveryForm(meta={"csrf": False}, data={"code": f"  {code.upper()} "})
        form.user = user
        assert form.validate()
        wrong = DiaryMfRecoveryForm(meta={"csrf": False}, data={"code": "0000-0000-0000"})
        wrong.user = user
        assert not wrong.validate()
    assert seen == [("recovery_code", True)]
