"""Account self-service (issue 10): a display name and a time zone per account.

``name`` is the name the pages greet the user by (NULL: the email address is
used); ``time_zone`` is the IANA zone the pages show dates in, "UTC" for every
existing account.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column('time_zone', sa.String(length=64), nullable=False, server_default='UTC')
        )


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('name')
