"""Every right is a permission (issue 10): entry:edit-own, entry:delete-own and
audit:read.

Owners used to edit and delete their own entries by a rule in the code; now those
are permissions a role holds, like every other right. The built-in roles follow
the tutorial's role demo: the Admin role gets the three new permissions (it holds
every permission); the Writer role keeps what it had, entry:create and
entry:read-own, so writers no longer edit or delete their entries unless an
operator grants it (``flask --app diary roles add_permissions Writer
entry:edit-own,entry:delete-own``, or the admin console). Other roles are left as
the operator made them. The downgrade takes the three permissions away from every
role.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Frozen here: later changes to diary.permissions do not alter this migration.
NEW = ("entry:edit-own", "entry:delete-own", "audit:read")
ADMIN = "Admin"

role = sa.table(
    "role",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("permissions", sa.UnicodeText),
)


def _split(value):
    return [p.strip() for p in (value or "").split(",") if p.strip()]


def upgrade():
    conn = op.get_bind()
    row = conn.execute(sa.select(role.c.id, role.c.permissions).where(role.c.name == ADMIN)).first()
    if row is not None:
        held = _split(row.permissions)
        held += [p for p in NEW if p not in held]
        conn.execute(role.update().where(role.c.id == row.id).values(permissions=",".join(held)))


def downgrade():
    conn = op.get_bind()
    for row in conn.execute(sa.select(role.c.id, role.c.permissions)).all():
        held = [p for p in _split(row.permissions) if p not in NEW]
        conn.execute(role.update().where(role.c.id == row.id).values(permissions=",".join(held)))
