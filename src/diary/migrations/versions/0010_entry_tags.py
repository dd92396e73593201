"""Entry tags (issue 11): table entry_tag, one row per entry and #tag.

Existing entries get their tags from their content with the same parser the app
uses (diary.services.tags.parse_tags), so old entries filter by tag at once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('entry_tag',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_entry_tag_entry_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_entry_tag_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'tag', name=op.f('pk_entry_tag'))
    )
    op.create_index('ix_entry_tag_tag', 'entry_tag', ['tag'], unique=False)
    op.create_index('ix_entry_tag_user_id_tag', 'entry_tag', ['user_id', 'tag', 'entry_id'], unique=False)
    _tag_existing_entries()


def _tag_existing_entries():
    from diary.services.tags import parse_tags

    bind = op.get_bind()
    entry = sa.table('entry', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                     sa.column('content', sa.Text))
    entry_tag = sa.table('entry_tag', sa.column('entry_id', sa.Integer),
                         sa.column('tag', sa.String), sa.column('user_id', sa.Integer))
    rows = bind.execute(sa.select(entry.c.id, entry.c.user_id, entry.c.content)
                        .where(entry.c.content.contains('#'))).all()
    batch = []
    for entry_id, user_id, content in rows:
        batch.extend({'entry_id': entry_id, 'tag': tag, 'user_id': user_id}
                     for tag in parse_tags(content))
        if len(batch) >= 1000:
            bind.execute(entry_tag.insert(), batch)
            batch = []
    if batch:
        bind.execute(entry_tag.insert(), batch)


def downgrade():
    op.drop_index('ix_entry_tag_user_id_tag', table_name='entry_tag')
    op.drop_index('ix_entry_tag_tag', table_name='entry_tag')
    op.drop_table('entry_tag')
