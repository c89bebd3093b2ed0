"""retention: rules, legal holds, erasures, and history entries whose personal values may
be erased while the chain stays verifiable (issue 18)

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06

The UPDATE trigger on case_event still refuses every change, except one: an event listed
in case_event_redaction may have its `data` and `summary` rewritten, every other column
unchanged. case_event_redaction itself is insert-only (rows go only with a tombstoned
case, as case_event's do).
"""
import sqlalchemy as sa
from alembic import op

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None

APPEND_ONLY = "case_event is append-only: history cannot be changed"
REDACTIONS = "case_event_redaction is insert-only"
# Every column of case_event but the two a redaction may rewrite.
KEPT = ("id", "case_id", "seq", "at", "actor", "kind", "prev_hash", "hash", "alg",
        "row_digest", "mac")


def upgrade():
    op.create_table(
        'retention_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('after_months', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_table(
        'legal_hold',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('placed_by', sa.String(length=255), nullable=False),
        sa.Column('placed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id'))
    op.create_table(
        'case_event_redaction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['case_event.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_case_event_redaction_case_id', 'case_event_redaction', ['case_id'])
    op.create_index('ix_case_event_redaction_event_id', 'case_event_redaction', ['event_id'])
    op.create_table(
        'case_erasure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('documents_only', sa.Boolean(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['rule_id'], ['retention_rule.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_case_erasure_case_id', 'case_erasure', ['case_id'])
    _triggers()


def _triggers():
    """Let a listed event's data and summary change; refuse every other change."""
    if op.get_bind().dialect.name == "postgresql":
        same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in KEPT)
        op.execute(f"""
            CREATE OR REPLACE FUNCTION case_event_append_only() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'UPDATE' AND {same} AND EXISTS (
                  SELECT 1 FROM case_event_redaction WHERE event_id = OLD.id) THEN
                RETURN NEW;
              END IF;
              RAISE EXCEPTION '{APPEND_ONLY}';
            END; $$ LANGUAGE plpgsql""")
        op.execute(f"""
            CREATE FUNCTION case_event_redaction_insert_only() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'DELETE' AND EXISTS (
                  SELECT 1 FROM audit_tombstone WHERE case_id = OLD.case_id) THEN
                RETURN OLD;
              END IF;
              RAISE EXCEPTION '{REDACTIONS}';
            END; $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER case_event_redaction_insert_only
            BEFORE UPDATE OR DELETE ON case_event_redaction
            FOR EACH ROW EXECUTE FUNCTION case_event_redaction_insert_only()""")
        return
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in KEPT)
    op.execute("DROP TRIGGER IF EXISTS case_event_no_update")
    op.execute(f"""
        CREATE TRIGGER case_event_no_update BEFORE UPDATE ON case_event
        WHEN NOT ({same} AND EXISTS (
            SELECT 1 FROM case_event_redaction WHERE event_id = OLD.id))
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")
    op.execute(f"""
        CREATE TRIGGER case_event_redaction_no_update BEFORE UPDATE ON case_event_redaction
        BEGIN SELECT RAISE(ABORT, '{REDACTIONS}'); END""")
    op.execute(f"""
        CREATE TRIGGER case_event_redaction_no_delete BEFORE DELETE ON case_event_redaction
        WHEN NOT EXISTS (SELECT 1 FROM audit_tombstone WHERE case_id = OLD.case_id)
        BEGIN SELECT RAISE(ABORT, '{REDACTIONS}'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_event_redaction_insert_only "
                   "ON case_event_redaction")
        op.execute("DROP FUNCTION IF EXISTS case_event_redaction_insert_only()")
        op.execute(f"""
            CREATE OR REPLACE FUNCTION case_event_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END; $$ LANGUAGE plpgsql""")
    else:
        for name in ("case_event_redaction_no_update", "case_event_redaction_no_delete",
                     "case_event_no_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"""
            CREATE TRIGGER case_event_no_update BEFORE UPDATE ON case_event
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")
    op.drop_index('ix_case_erasure_case_id', table_name='case_erasure')
    op.drop_table('case_erasure')
    op.drop_index('ix_case_event_redaction_event_id', table_name='case_event_redaction')
    op.drop_index('ix_case_event_redaction_case_id', table_name='case_event_redaction')
    op.drop_table('case_event_redaction')
    op.drop_table('legal_hold')
    op.drop_table('retention_rule')
