"""case report: one typed row of reporting facts per case

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

The dashboard, the regulator returns and the ISO 10002 evidence read these rows only
(server/models/report.py); the write path rewrites a case's row after every step.
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_report',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
        sa.Column('responded_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('is_open', sa.Boolean(), nullable=False),
        sa.Column('priority', sa.String(length=32), nullable=True),
        sa.Column('channel', sa.String(length=32), nullable=True),
        sa.Column('product', sa.String(length=64), nullable=True),
        sa.Column('category', sa.String(length=64), nullable=True),
        sa.Column('cause', sa.String(length=64), nullable=True),
        sa.Column('outcome', sa.String(length=32), nullable=True),
        sa.Column('remedy_type', sa.String(length=64), nullable=True),
        sa.Column('remedy_amount', sa.Numeric(14, 2), nullable=True),
        sa.Column('remedy_currency', sa.String(length=3), nullable=True),
        sa.Column('vulnerable', sa.Boolean(), nullable=True),
        sa.Column('regulator', sa.Boolean(), nullable=True),
        sa.Column('first_contact_resolution', sa.Boolean(), nullable=True),
        sa.Column('acknowledge_hours', sa.Float(), nullable=True),
        sa.Column('response_hours', sa.Float(), nullable=True),
        sa.Column('resolution_hours', sa.Float(), nullable=True),
        sa.Column('close_hours', sa.Float(), nullable=True),
        sa.Column('paused_hours', sa.Float(), nullable=False),
        sa.Column('acknowledgement_on_target', sa.Boolean(), nullable=True),
        sa.Column('response_on_target', sa.Boolean(), nullable=True),
        sa.Column('resolution_on_target', sa.Boolean(), nullable=True),
        sa.Column('escalation_level', sa.Integer(), nullable=False),
        sa.Column('reopen_count', sa.Integer(), nullable=False),
        sa.Column('satisfaction', sa.Integer(), nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['owner_id'], ['user.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    with op.batch_alter_table('case_report', schema=None) as batch_op:
        batch_op.create_index('ix_case_report_received', ['received_at'])
        batch_op.create_index('ix_case_report_closed', ['closed_at'])
        batch_op.create_index('ix_case_report_category', ['category', 'received_at'])
        batch_op.create_index('ix_case_report_product', ['product', 'received_at'])
        batch_op.create_index('ix_case_report_channel', ['channel', 'received_at'])
        batch_op.create_index('ix_case_report_cause', ['cause', 'received_at'])
        batch_op.create_index('ix_case_report_open', ['is_open', 'received_at'])
        batch_op.create_index('ix_case_report_owner_id', ['owner_id'])


def downgrade():
    op.drop_table('case_report')
