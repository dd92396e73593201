"""Multi-factor authentication: the last accepted TOTP time step (replay
protection), when the two-factor method was switched on, and when the current
recovery codes were generated.

Flask-Security's own two-factor, recovery-code and WebAuthn columns came with the
fsqla_v4 schema in 0001.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

"""
from alembic import op
import sqlalchemy as sa

import diary.models.types


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tf_totp_last_counter', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('tf_added_at', diary.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('mf_recovery_codes_generated_at', diary.models.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('mf_recovery_codes_generated_at')
        batch_op.drop_column('tf_added_at')
        batch_op.drop_column('tf_totp_last_counter')
