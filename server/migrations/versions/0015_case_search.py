"""case search: a full-text index of cases, and an index on the status label

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-20

Words typed in the case search are looked up in the database's own full-text index, not
matched with ILIKE '%...%' over every row. The index covers the reference, the
complainant's name and e-mail, the product or service and the description.

* SQLite: `case_search`, an FTS5 table whose content is the case table itself (no second
  copy of the descriptions), kept in step by triggers on INSERT, UPDATE of the indexed
  columns and DELETE of a case, so every writer (the services, `flask purge-case`, bulk
  loads) keeps it right. A later migration that recreates the case table (batch mode with
  recreate) drops these triggers and must create them again.
* PostgreSQL: `case.search_vector`, a stored generated tsvector with a GIN index, in the
  'simple' configuration (no stemming, no stop words), so Arabic and names match as typed.

Both back-fill the cases already there. `ix_case_status_label` lets the search page list
the status labels in use without reading every case; `ix_human_task_unclaimed` (partial,
unclaimed tasks only) serves the inbox's Unclaimed tab in its default order.
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COLUMNS = ("reference", "complainant_name", "complainant_email", "product_service",
           "description")


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('ix_case_status_label', ['status_label'], unique=False)
    # The inbox's Unclaimed tab in its own order (no due time last, then soonest due),
    # so a page stops after its rows instead of sorting every unclaimed task.
    op.execute("CREATE INDEX ix_human_task_unclaimed ON human_task "
               "(role, (due_at IS NULL), due_at) WHERE assignee_id IS NULL")
    if op.get_bind().dialect.name == "postgresql":
        text = " || ' ' || ".join(f"coalesce({name}, '')" for name in COLUMNS)
        op.execute(f"""ALTER TABLE "case" ADD COLUMN search_vector tsvector
                       GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {text})) STORED""")
        op.execute('CREATE INDEX ix_case_search_vector ON "case" USING gin (search_vector)')
        return
    names = ", ".join(COLUMNS)
    new = ", ".join(f"new.{name}" for name in COLUMNS)
    old = ", ".join(f"old.{name}" for name in COLUMNS)
    op.execute(f"""CREATE VIRTUAL TABLE case_search USING fts5({names}, content='case',
                   content_rowid='id', tokenize='unicode61 remove_diacritics 2')""")
    # An external-content index is told the old values to remove: it holds no copy.
    op.execute(f"""CREATE TRIGGER case_search_insert AFTER INSERT ON "case" BEGIN
                     INSERT INTO case_search(rowid, {names}) VALUES (new.id, {new}); END""")
    op.execute(f"""CREATE TRIGGER case_search_delete AFTER DELETE ON "case" BEGIN
                     INSERT INTO case_search(case_search, rowid, {names})
                     VALUES ('delete', old.id, {old}); END""")
    # Only when an indexed column is written: a step rewrites the case row every time.
    op.execute(f"""CREATE TRIGGER case_search_update AFTER UPDATE OF {names} ON "case" BEGIN
                     INSERT INTO case_search(case_search, rowid, {names})
                     VALUES ('delete', old.id, {old});
                     INSERT INTO case_search(rowid, {names}) VALUES (new.id, {new}); END""")
    op.execute("INSERT INTO case_search(case_search) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_case_search_vector")
        op.execute('ALTER TABLE "case" DROP COLUMN IF EXISTS search_vector')
    else:
        for name in ("case_search_insert", "case_search_delete", "case_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS case_search")
    op.execute("DROP INDEX IF EXISTS ix_human_task_unclaimed")
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_status_label')
