"""tracking links: the hash of each case's secret tracking token

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracking_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_tracking_token_hash'), ['tracking_token_hash'],
                              unique=True)


def downgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_tracking_token_hash'))
        batch_op.drop_column('tracking_token_hash')
