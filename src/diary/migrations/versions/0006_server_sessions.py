"""Server-side sessions (issue 9): the session store, signed-in devices, and the
authentication strength of personal access tokens.

* ``session_store``: Flask-Session's data on the database (when Redis is not
  configured), keyed by a digest of the session id.
* ``user_session``: one row per signed-in browser, checked on every request; it
  also holds the "remember me" record.
* ``api_token.strength``: how strongly the session that made a token was signed in.
  Tokens made before this revision are marked "password": nobody can tell now, and
  the weaker value withholds the powers that need two-factor.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

import diary.models.types


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'session_store',
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('expires_at', diary.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_session_store')),
    )
    with op.batch_alter_table('session_store', schema=None) as batch_op:
        batch_op.create_index('ix_session_store_expires_at', ['expires_at'], unique=False)

    op.create_table(
        'user_session',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('signed_in_at', diary.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('session_started_at', diary.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', diary.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('last_ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=512), nullable=True),
        sa.Column('strength', sa.String(length=16), nullable=False),
        sa.Column('methods', sa.String(length=100), nullable=False),
        sa.Column('store_key', sa.String(length=128), nullable=True),
        sa.Column('remember_digest', sa.String(length=64), nullable=True),
        sa.Column('remember_until', diary.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'],
            name=op.f('fk_user_session_user_id_user'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index('ix_user_session_user_id', ['user_id'], unique=False)

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('strength', sa.String(length=16), nullable=False, server_default='password')
        )


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('strength')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index('ix_user_session_user_id')
    op.drop_table('user_session')
    with op.batch_alter_table('session_store', schema=None) as batch_op:
        batch_op.drop_index('ix_session_store_expires_at')
    op.drop_table('session_store')
