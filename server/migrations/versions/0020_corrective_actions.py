"""corrective actions: cases of kind "action", their own fields and linked complaints

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-20

A corrective action (ISO 10002 8.7) is a case row of kind "action": its tasks, timers,
owner and history are a case's. Every case made before this is a complaint.
"""
import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    # 0018 adds the column first when it back-fills a database that holds cases.
    if "kind" in {c["name"] for c in sa.inspect(bind).get_columns("case")}:
        pass
    elif bind.dialect.name == 'sqlite':
        # In place: a batch copy of "case" would drop the table its history references.
        op.execute("ALTER TABLE \"case\" ADD COLUMN kind VARCHAR(16) NOT NULL "
                   "DEFAULT 'complaint'")
    else:
        op.add_column('case', sa.Column('kind', sa.String(length=16), nullable=False,
                                        server_default='complaint'))
    op.create_index('ix_case_kind', 'case', ['kind'], unique=False)
    op.create_table(
        'corrective_action',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('cause', sa.String(length=64), nullable=False),
        sa.Column('origin', sa.String(length=16), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('opened_by', sa.String(length=255), nullable=False),
        sa.Column('implemented_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index('ix_corrective_action_cause', 'corrective_action', ['cause'])
    op.create_table(
        'action_complaint',
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('linked_at', sa.DateTime(), nullable=False),
        sa.Column('linked_by', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['action_id'], ['case.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['complaint_id'], ['case.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('action_id', 'complaint_id'),
    )
    op.create_index('ix_action_complaint_complaint_id', 'action_complaint', ['complaint_id'])


def downgrade():
    op.drop_index('ix_action_complaint_complaint_id', table_name='action_complaint')
    op.drop_table('action_complaint')
    op.drop_index('ix_corrective_action_cause', table_name='corrective_action')
    op.drop_table('corrective_action')
    op.drop_index('ix_case_kind', table_name='case')
    if op.get_bind().dialect.name == 'sqlite':
        # In place (SQLite 3.35+): a batch copy of "case" would drop the table its
        # append-only history references.
        op.execute('ALTER TABLE "case" DROP COLUMN kind')
    else:
        op.drop_column('case', 'kind')
