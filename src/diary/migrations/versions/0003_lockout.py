"""Placeholder for account lockout state (issue 3).

Kept empty so that revisions stay one straight line while this work is under way;
the work that needs this schema change fills it in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
