"""Indexes on roles_users (user_id, role_id) and webauthn (user_id).

Flask-Security's association table of users and roles has no primary key and no
index: every signed-in request loads its user's roles through it (the session,
personal access token and auth token lookups of diary.services.credentials), and
each of those read the whole table, one row per role grant of every account.
Passkeys, found by their user (the account page, an auth token's strength), had
no index on user_id either.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('roles_users', schema=None) as batch_op:
        batch_op.create_index('ix_roles_users_user_id_role_id', ['user_id', 'role_id'], unique=False)
    with op.batch_alter_table('webauthn', schema=None) as batch_op:
        batch_op.create_index('ix_webauthn_user_id', ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('webauthn', schema=None) as batch_op:
        batch_op.drop_index('ix_webauthn_user_id')
    with op.batch_alter_table('roles_users', schema=None) as batch_op:
        batch_op.drop_index('ix_roles_users_user_id_role_id')
