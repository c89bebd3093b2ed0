"""case report back-fill: every existing case gets its reporting facts from its state

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

Runs services/reporting.py (the same computation as the write path) in the app context
that `flask db upgrade` provides, on the migration's own connection and transaction.
"""
from alembic import op
from sqlalchemy.orm import Session

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    from server.extensions import db
    from server.services import reporting

    # The services read through db.session: for this step it is a session on the
    # migration's connection, so it sees the new table and joins the same transaction.
    session = Session(bind=op.get_bind())
    db.session.registry.set(session)  # type: ignore[arg-type]
    try:
        reporting.rebuild(commit=False)
        session.flush()
    finally:
        db.session.registry.clear()
        session.close()


def downgrade():
    pass  # the rows go with the table in 0016's downgrade
