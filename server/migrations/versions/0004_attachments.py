"""attachments: documents added to a case, stored in the database; documents sent with
an intake form that had errors wait without a case (staged) until it goes through

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('added_by', sa.String(length=255), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.Column('internal', sa.Boolean(), nullable=False),
        sa.Column('staging_token_hash', sa.String(length=64), nullable=True),
        sa.Column('staged_at', sa.DateTime(), nullable=True),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.CheckConstraint('case_id IS NOT NULL OR staging_token_hash IS NOT NULL',
                           name='ck_attachment_case_or_staged'),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_staging_token_hash'),
                              ['staging_token_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_staged_at'), ['staged_at'], unique=False)


def downgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_staged_at'))
        batch_op.drop_index(batch_op.f('ix_attachment_staging_token_hash'))
        batch_op.drop_index(batch_op.f('ix_attachment_case_id'))
    op.drop_table('attachment')
