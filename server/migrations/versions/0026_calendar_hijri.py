"""calendar hijri: show the Umm al-Qura date beside each date

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-06

Off for existing installations: an administrator turns it on in the calendar settings.
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('business_calendar', sa.Column('show_hijri', sa.Boolean(), nullable=False,
                                                 server_default=sa.false()))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # In place (SQLite 3.35+): a batch copy would drop "business_calendar", and with it (ON DELETE
        # CASCADE) the rows that reference it.
        op.execute('ALTER TABLE "business_calendar" DROP COLUMN show_hijri')
    else:
        op.drop_column('business_calendar', 'show_hijri')
