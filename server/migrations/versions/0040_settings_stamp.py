"""settings stamp: one row that changes with every write to the settings processes cache

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07

Policy targets, the calendar and its dates, webhook subscriptions, team routes and code
lists are cached per process (services/lookups.py) and checked against this stamp, read
once per request or run. Triggers set a fresh random stamp in the same transaction as any
write to those tables, whoever writes (admin pages, API, CLI, imports, SQL by hand). A
random stamp rather than a counter: a rolled-back change leaves a stamp nobody commits, so
nothing read under it can be served again.
"""
import sqlalchemy as sa
from alembic import op

revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None

TABLES = ("escalation_target", "business_calendar", "working_hours", "calendar_date",
          "webhook_subscription", "team_route", "code_entry")
SQLITE_NEW = "lower(hex(randomblob(16)))"
PG_NEW = "md5(random()::text || clock_timestamp()::text)"


def upgrade():
    op.create_table(
        'settings_stamp',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stamp', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"INSERT INTO settings_stamp (id, stamp) VALUES (1, {PG_NEW})")
        op.execute(f"""
            CREATE FUNCTION settings_stamp_renew() RETURNS trigger AS $$
            BEGIN UPDATE settings_stamp SET stamp = {PG_NEW} WHERE id = 1; RETURN NULL; END;
            $$ LANGUAGE plpgsql""")
        for table in TABLES:
            op.execute(f"""
                CREATE TRIGGER {table}_renews_settings_stamp
                AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION settings_stamp_renew()""")
        return
    op.execute(f"INSERT INTO settings_stamp (id, stamp) VALUES (1, {SQLITE_NEW})")
    for table in TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(f"""
                CREATE TRIGGER {table}_{event}_renews_settings_stamp
                AFTER {event.upper()} ON {table}
                BEGIN UPDATE settings_stamp SET stamp = {SQLITE_NEW} WHERE id = 1; END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_renews_settings_stamp ON {table}")
        op.execute("DROP FUNCTION IF EXISTS settings_stamp_renew()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_renews_settings_stamp")
    op.drop_table('settings_stamp')
