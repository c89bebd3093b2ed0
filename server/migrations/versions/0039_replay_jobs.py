"""preview by replay: background jobs that replay recent cases through a draft (issue 20)

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'replay_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=True),
        sa.Column('draft_title', sa.String(length=255), nullable=False),
        sa.Column('started_by_id', sa.Integer(), nullable=True),
        sa.Column('started_by', sa.String(length=255), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('report', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['draft_id'], ['process_draft.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_replay_job_draft_id', 'replay_job', ['draft_id'])
    op.create_index('ix_replay_job_started_by_id', 'replay_job', ['started_by_id'])
    op.create_index('ix_replay_job_status', 'replay_job', ['status'])


def downgrade():
    op.drop_index('ix_replay_job_status', table_name='replay_job')
    op.drop_index('ix_replay_job_started_by_id', table_name='replay_job')
    op.drop_index('ix_replay_job_draft_id', table_name='replay_job')
    op.drop_table('replay_job')
