"""Access receipts (issue 10): table access_digest, one row per user who has been
mailed a digest of other people's access to their entries.

The access events themselves are audit events (entry:access:read/edit/delete);
this table only remembers when each owner was last mailed, and up to which event,
so that nobody gets more than one such mail a day.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa

import diary.models.types  # noqa: F401  (UTCDateTime columns)


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('access_digest',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_mailed_at', diary.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_access_digest_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_access_digest'))
    )


def downgrade():
    op.drop_table('access_digest')
