"""the management-review pack's schedule, and files attached to outbox e-mails

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

* `pack_recipient`: who receives the monthly pack (a member of staff or an address), in
  which language and formats.
* `pack_run`: each month the schedule has sent; its unique month makes the sending happen
  once whatever the number of schedulers.
* `outbox_attachment`: files rendered with an outbox message (the pack's PDF and XLSX).
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pack_recipient',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('formats', sa.String(length=16), nullable=False),
        sa.Column('added_by', sa.String(length=255), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', name='uq_pack_recipient_user'),
        sa.UniqueConstraint('email', name='uq_pack_recipient_email'),
    )
    op.create_table(
        'pack_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('messages', sa.Integer(), nullable=False),
        sa.Column('ran_at', sa.DateTime(), nullable=False),
        sa.Column('ran_by', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('month', name='uq_pack_run_month'),
    )
    op.create_table(
        'outbox_attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=127), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_outbox_attachment_message_id', 'outbox_attachment', ['message_id'])


def downgrade():
    op.drop_index('ix_outbox_attachment_message_id', table_name='outbox_attachment')
    op.drop_table('outbox_attachment')
    op.drop_table('pack_run')
    op.drop_table('pack_recipient')
