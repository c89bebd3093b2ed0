"""case report: index the open cases by owner (the dashboard's workload)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

The workload report counts the cases open now per owner; without this index SQLite walks
every case by owner to find the open ones.
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_case_report_open_owner', 'case_report', ['is_open', 'owner_id'])


def downgrade():
    op.drop_index('ix_case_report_open_owner', table_name='case_report')
