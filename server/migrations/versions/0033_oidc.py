"""single sign-on: identities at the OpenID Connect provider linked to accounts, and the
provider's groups mapped to roles (issue 18)

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'oidc_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('linked_at', sa.DateTime(), nullable=False),
        sa.Column('last_sign_in_at', sa.DateTime(), nullable=True),
        sa.Column('groups', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('issuer', 'subject', name='uq_oidc_identity_subject'),
    )
    with op.batch_alter_table('oidc_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_identity_user_id'), ['user_id'], unique=False)
    op.create_table(
        'oidc_group_role',
        sa.Column('group', sa.String(length=255), nullable=False),
        sa.Column('role_name', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['role_name'], ['role.name'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('group', 'role_name'),
    )


def downgrade():
    op.drop_table('oidc_group_role')
    with op.batch_alter_table('oidc_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_identity_user_id'))
    op.drop_table('oidc_identity')
