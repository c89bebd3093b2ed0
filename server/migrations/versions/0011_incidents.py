"""incidents: a case whose timer step failed, what failed, where, how often, and its retry

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'incident',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('element_id', sa.String(length=255), nullable=True),
        sa.Column('element_title', sa.String(length=255), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('failed_at', sa.DateTime(), nullable=False),
        sa.Column('retry_at', sa.DateTime(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('closed_by', sa.String(length=255), nullable=True),
        sa.Column('resolution', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index('uq_incident_open_case', ['case_id'], unique=True,
                              sqlite_where=sa.text('closed_at IS NULL'),
                              postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.create_index('ix_incident_closed_at_opened_at', ['closed_at', 'opened_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_closed_at_opened_at')
        batch_op.drop_index('uq_incident_open_case')
    op.drop_table('incident')
