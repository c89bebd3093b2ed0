"""history data packed against a preset dictionary (issue 19, stored size)

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-06

case_event.data now holds bytes packed by server/packing (rows written before stay as
they are and read back unchanged). SQLite stores the bytes in the TEXT column as they
come; PostgreSQL needs bytea, converted in place: ALTER TABLE fires no row trigger, so the
append-only history is not touched row by row and every hash still covers the same text.
"""
from alembic import op

revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None

# A downgrade keeps packed rows as text an upgrade turns back into the same bytes: an
# older Plaint cannot read them (nor packed states), but nothing is lost.
LABEL = "packed:"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""ALTER TABLE case_event ALTER COLUMN data TYPE bytea USING
            CASE WHEN data LIKE '{LABEL}%' THEN decode(substr(data, {len(LABEL) + 1}), 'base64')
            ELSE convert_to(data, 'UTF8') END""")


def downgrade():
    # SQLite: the column was always declared TEXT; the packed bytes stay as they are.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""ALTER TABLE case_event ALTER COLUMN data TYPE text USING
            CASE WHEN get_byte(data, 0) = 31 THEN '{LABEL}' || encode(data, 'base64')
            ELSE convert_from(data, 'UTF8') END""")
