"""inbound mail: complaints by e-mail read over IMAP, each message with its outcome, and
the lease that lets one reader at a time read the mailbox (issue 17)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'inbound_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('folder', sa.String(length=255), nullable=False),
        sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
        sa.Column('uid', sa.BigInteger(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=True),
        sa.Column('sender', sa.String(length=254), nullable=True),
        sa.Column('sender_name', sa.String(length=200), nullable=True),
        sa.Column('subject', sa.String(length=500), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('raw', sa.LargeBinary(), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('read_at', sa.DateTime(), nullable=False),
        sa.Column('handled_by', sa.String(length=200), nullable=True),
        sa.Column('handled_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('folder', 'uidvalidity', 'uid', name='uq_inbound_mail_uid'),
    )
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_mail_message_id'), ['message_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_mail_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_inbound_mail_outcome_id', ['outcome', 'id'], unique=False)
    op.create_table(
        'mailbox_lease',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('held_by', sa.String(length=64), nullable=True),
        sa.Column('held_until', sa.DateTime(), nullable=True),
        sa.Column('last_read_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('mailbox_lease')
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_mail_outcome_id')
        batch_op.drop_index(batch_op.f('ix_inbound_mail_case_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_mail_message_id'))
    op.drop_table('inbound_mail')
