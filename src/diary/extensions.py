"""Extension objects, created unbound so any module can import them without
importing the app; :func:`diary.create_app` binds them."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

from diary.security.login_form import DiaryLoginForm
from diary.security.mail_util import DiaryMailUtil
from diary.security.passwords import DiaryPasswordUtil
from diary.security.recovery_codes import DiaryMfRecoveryCodesUtil, DiaryMfRecoveryForm
from diary.security.totp import DiaryTotp
from diary.security.webauthn_util import DiaryWebAuthnSigninResponseForm, DiaryWebauthnUtil

# Named constraints, so Alembic migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
csrf = CSRFProtect()
# Flask-Security takes its pluggable classes here, at construction, not in init_app.
security = Security(
    mail_util_cls=DiaryMailUtil,
    password_util_cls=DiaryPasswordUtil,
    login_form=DiaryLoginForm,
    # Multi-factor authentication (issue 4): replay-proof TOTP, audited recovery
    # codes, passkeys bound to BASE_URL.
    totp_cls=DiaryTotp,
    mf_recovery_codes_util_cls=DiaryMfRecoveryCodesUtil,
    mf_recovery_form=DiaryMfRecoveryForm,
    webauthn_util_cls=DiaryWebauthnUtil,
    wan_signin_response_form=DiaryWebAuthnSigninResponseForm,
)
mail = Mail()
# Named limits are applied where they belong (see diary.security.ratelimits); the
# storage (memory, or Redis when REDIS_URL is set) comes from the app's config.
limiter = Limiter(key_func=get_remote_address)
