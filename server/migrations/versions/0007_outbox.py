"""outbox: e-mails written in the same transaction as the step that caused them, delivered
by the scheduler with retries (DESIGN decision 12)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('event', sa.String(length=64), nullable=False),
        sa.Column('element', sa.String(length=255), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('recipient_kind', sa.String(length=64), nullable=False),
        sa.Column('recipient_name', sa.String(length=200), nullable=True),
        sa.Column('recipient', sa.String(length=254), nullable=True),
        sa.Column('subject', sa.String(length=500), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('tracking_token', sa.String(length=128), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_next_attempt_at'),
                              ['next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_status'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_case_id'))
    op.drop_table('outbox_message')
