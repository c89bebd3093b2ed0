"""case intake: a representative who complains on the complainant's behalf

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

COLUMNS = (('representative_name', 200), ('representative_relationship', 100),
           ('representative_email', 254), ('representative_phone', 40))


def upgrade():
    # Adding nullable columns: SQLite does it in place (no table copy), as PostgreSQL does.
    with op.batch_alter_table('case', schema=None) as batch_op:
        for name, length in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        for name, _length in reversed(COLUMNS):
            batch_op.drop_column(name)
