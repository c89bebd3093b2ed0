"""case report: covering indexes for the dashboard's passes

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06

At a million cases the dashboard's counts, times and compensation read every row of the
period; with the columns they read in one index ordered by receipt time, neither SQLite
nor PostgreSQL visits the table itself. The open-cases index gains the columns the
backlog and workload read (same leading columns, so it replaces 0019's).
"""
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

PERIOD = ['received_at', 'is_open', 'escalation_level', 'reopen_count', 'satisfaction',
          'first_contact_resolution', 'outcome', 'acknowledgement_on_target',
          'response_on_target', 'resolution_on_target', 'acknowledge_hours',
          'resolution_hours', 'remedy_amount', 'remedy_currency']
OPEN = ['is_open', 'owner_id', 'received_at', 'acknowledgement_on_target',
        'response_on_target', 'resolution_on_target']


def upgrade():
    op.create_index('ix_case_report_period', 'case_report', PERIOD)
    op.create_index('ix_case_report_open_state', 'case_report', OPEN)
    op.drop_index('ix_case_report_open_owner', table_name='case_report')


def downgrade():
    op.create_index('ix_case_report_open_owner', 'case_report', ['is_open', 'owner_id'])
    op.drop_index('ix_case_report_open_state', table_name='case_report')
    op.drop_index('ix_case_report_period', table_name='case_report')
