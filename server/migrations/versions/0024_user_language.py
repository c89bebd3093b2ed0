"""user language: the language Plaint speaks to each member of staff

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-06

Empty for everyone at first: they are served in the language their browser asks for
until they choose one in their profile or with the language switch.
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both backends: a batch copy of "user" would break what references it.
    op.add_column('user', sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # In place (SQLite 3.35+): a batch copy would drop "user", and with it (ON DELETE
        # CASCADE) the rows that reference it.
        op.execute('ALTER TABLE "user" DROP COLUMN language')
    else:
        op.drop_column('user', 'language')
