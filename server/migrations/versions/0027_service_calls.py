"""service calls: a service task's call written with its step, made later by a worker with
retries (issue 16, SpiffArena's connector-proxy protocol)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'service_call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('bpmn_id', sa.String(length=255), nullable=False),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('operator', sa.String(length=255), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'task_id', name='uq_service_call_task'),
    )
    with op.batch_alter_table('service_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_call_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_call_next_attempt_at'),
                              ['next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('service_call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_call_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_service_call_status'))
    op.drop_table('service_call')
