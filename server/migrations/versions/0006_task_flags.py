"""task flags: what fired on a task's boundary (a reminder, an overdue alert), for the inbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('flag')
