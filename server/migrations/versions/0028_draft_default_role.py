"""draft default role: the role a draft's tasks outside any lane go to once deployed

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06

A deployed version keeps that role in its role_map under "*"; the draft only remembers
the process owner's choice until it is deployed. Empty: the role of the start event's
lane, else PLAINT_DEFAULT_TASK_ROLE.
"""
import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('process_draft', sa.Column('default_role', sa.String(64), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # In place (SQLite 3.35+): a batch copy would drop "process_draft", and with it (ON
        # DELETE CASCADE) its files.
        op.execute('ALTER TABLE "process_draft" DROP COLUMN default_role')
    else:
        op.drop_column('process_draft', 'default_role')
