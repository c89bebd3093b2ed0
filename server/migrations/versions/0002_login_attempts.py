"""login attempts, for sign-in throttling

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('succeeded', sa.Boolean(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempt_username'), ['username'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempt_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempt_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_login_attempt_address'))
        batch_op.drop_index(batch_op.f('ix_login_attempt_username'))
    op.drop_table('login_attempt')
