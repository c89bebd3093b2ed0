"""case report back-fill: every existing case gets its reporting facts from its state

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

Runs services/reporting.py (the same computation as the write path) in the app context
that `flask db upgrade` provides, on the migration's own connection and transaction.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    from server.extensions import db
    from server.services import lookups, reporting

    # The services read through db.session: for this step it is a session on the
    # migration's connection, so it sees the new table and joins the same transaction.
    _add_later_case_columns()
    session = Session(bind=op.get_bind())
    db.session.registry.set(session)  # type: ignore[arg-type]
    try:
        # The settings stamp (0040) does not exist yet: settings are read from their tables.
        with lookups.settings_read_directly():
            reporting.rebuild(commit=False)
        session.flush()
    finally:
        db.session.registry.clear()
        session.close()


def _add_later_case_columns():
    """Add the case columns later revisions add, which the services read today.

    The services read the case row as the models have it now, so upgrading a database
    that holds cases through this step needs them: 0020's `kind` (every case here is a
    complaint), and 0034's `team_id` and `confidential`. Each later revision adds its
    column only where it is missing.
    """
    bind = op.get_bind()
    have = {c["name"] for c in sa.inspect(bind).get_columns("case")}
    if "team_id" not in have:  # 0034's team and confidential flag (its foreign key: 0034)
        op.add_column('case', sa.Column('team_id', sa.Integer(), nullable=True))
        op.add_column('case', sa.Column('confidential', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    if "kind" in have:
        return
    if bind.dialect.name == 'sqlite':
        op.execute("ALTER TABLE \"case\" ADD COLUMN kind VARCHAR(16) NOT NULL "
                   "DEFAULT 'complaint'")
    else:
        op.add_column('case', sa.Column('kind', sa.String(length=16), nullable=False,
                                        server_default='complaint'))


def downgrade():
    pass  # the rows go with the table in 0016's downgrade
