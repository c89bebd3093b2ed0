"""case owner: the member of staff accountable for each case

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-13

The handler who takes a case's first task becomes its owner; later tasks of their role
are written already assigned to them (services/ownership.py). Cases already open stay
without an owner until someone takes one of their tasks.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # In place: a batch copy of "case" would drop the table its history references.
        op.execute('ALTER TABLE "case" ADD COLUMN owner_id INTEGER REFERENCES user (id)')
    else:
        op.add_column('case', sa.Column('owner_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_case_owner_id_user', 'case', 'user', ['owner_id'], ['id'])
    op.create_index('ix_case_owner_id', 'case', ['owner_id'], unique=False)


def downgrade():
    op.drop_index('ix_case_owner_id', table_name='case')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_case_owner_id_user', 'case', type_='foreignkey')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('owner_id')
