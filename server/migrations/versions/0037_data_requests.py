"""data-subject requests: cases of kind "data_request", who they are about, the privacy
officer's role and the statutory deadline's policy row (issue 18)

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-06

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None

ROLE = 'privacy_officer'
ROLE_DESCRIPTION = 'Privacy officer: data-subject requests (copies and erasure)'


def upgrade():
    op.create_table(
        'data_request',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('subject_name', sa.String(length=200), nullable=False),
        sa.Column('subject_email', sa.String(length=254), nullable=True),
        sa.Column('subject_phone', sa.String(length=40), nullable=True),
        sa.Column('request_kind', sa.String(length=16), nullable=False),
        sa.Column('identity_check', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('opened_by', sa.String(length=255), nullable=False),
        sa.Column('exported_at', sa.DateTime(), nullable=True),
        sa.Column('exported_by', sa.String(length=255), nullable=True),
        sa.Column('erased_at', sa.DateTime(), nullable=True),
        sa.Column('erased_by', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index('ix_data_request_subject_email', 'data_request', ['subject_email'])
    bind = op.get_bind()
    role = sa.table('role', sa.column('name', sa.String), sa.column('description', sa.String))
    if bind.execute(sa.select(role.c.name).where(role.c.name == ROLE)).first() is None:
        op.bulk_insert(role, [{'name': ROLE, 'description': ROLE_DESCRIPTION}])
    target = sa.table(
        'escalation_target', sa.column('kind', sa.String), sa.column('priority', sa.String),
        sa.column('category', sa.String), sa.column('amount', sa.Integer),
        sa.column('unit', sa.String), sa.column('remind_amount', sa.Integer),
        sa.column('remind_unit', sa.String), sa.column('next_level_amount', sa.Integer),
        sa.column('next_level_unit', sa.String), sa.column('updated_at', sa.DateTime))
    # PDPL: 30 days to answer a data-subject request; a policy row, so admins may change it.
    op.bulk_insert(target, [{
        'kind': 'data_request', 'priority': 'any', 'category': 'any', 'amount': 30,
        'unit': 'calendar_days', 'remind_amount': 5, 'remind_unit': 'calendar_days',
        'next_level_amount': 5, 'next_level_unit': 'calendar_days',
        'updated_at': dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)}])


def downgrade():
    op.execute("DELETE FROM escalation_target WHERE kind = 'data_request'")
    op.execute(f"DELETE FROM role WHERE name = '{ROLE}'")
    op.drop_index('ix_data_request_subject_email', table_name='data_request')
    op.drop_table('data_request')
