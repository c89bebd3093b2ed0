"""link seeds: e-mails waiting to be sent keep a seed of the tracking link, never the link

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

The outbox kept the complainant's tracking token in plain text until the e-mail was sent
(forever, for an e-mail held with nobody to send to). It now keeps a random seed that
only the server's secret key turns into the token (services/links.py). A token already
stored cannot be turned into a seed: it is erased, and an e-mail still waiting is sent
without its link (the complainant keeps the link shown when they filed).
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE outbox_message SET tracking_token = NULL")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('tracking_token', new_column_name='link_seed',
                              existing_type=sa.String(length=128), type_=sa.String(length=64))


def downgrade():
    op.execute("UPDATE outbox_message SET link_seed = NULL")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('link_seed', new_column_name='tracking_token',
                              existing_type=sa.String(length=64), type_=sa.String(length=128))
