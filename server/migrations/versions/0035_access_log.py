"""access log: every read of a case's record, append-only, and the bulk-access alerts
(issue 18)

The database refuses UPDATE of access_log rows, and DELETE of rows younger than
PURGE_FLOOR_DAYS: the scheduler's purge (services/access_log.py) deletes rows older than
PLAINT_ACCESS_LOG_DAYS, which the configuration keeps at PURGE_FLOOR_DAYS or more.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None

PURGE_FLOOR_DAYS = 90  # server/config.py ACCESS_LOG_FLOOR_DAYS says the same
NO_UPDATE = "access_log is append-only: a read, once logged, cannot be changed"
NO_DELETE = (f"access_log rows younger than {PURGE_FLOOR_DAYS} days cannot be deleted "
             "(only the purge of old rows may delete)")


def upgrade():
    op.create_table(
        'access_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=255), nullable=False),
        sa.Column('on_behalf', sa.String(length=255), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('reference', sa.String(length=32), nullable=True),
        sa.Column('what', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.Column('allowed', sa.Boolean(), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_log_reference'), ['reference'], unique=False)
        batch_op.create_index('ix_access_log_user_at', ['user_id', 'at'], unique=False)
        batch_op.create_index('ix_access_log_case_at', ['case_id', 'at'], unique=False)
        batch_op.create_index('ix_access_log_actor_at', ['actor', 'at'], unique=False)
    op.create_table(
        'bulk_access_alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('raised_at', sa.DateTime(), nullable=False),
        sa.Column('person', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('case_count', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(), nullable=False),
        sa.Column('window_minutes', sa.Integer(), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=255), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('bulk_access_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_access_alert_raised_at'), ['raised_at'],
                              unique=False)
        batch_op.create_index('ix_bulk_access_alert_person', ['person', 'raised_at'],
                              unique=False)
    _triggers()


def _triggers():
    """Refuse UPDATE of logged reads, and DELETE of any but rows older than the floor."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION access_log_no_update() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{NO_UPDATE}'; END; $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
            FOR EACH ROW EXECUTE FUNCTION access_log_no_update()""")
        op.execute(f"""
            CREATE FUNCTION access_log_no_delete() RETURNS trigger AS $$
            BEGIN
              IF OLD.at < (now() AT TIME ZONE 'UTC') - interval '{PURGE_FLOOR_DAYS} days' THEN
                RETURN OLD;
              END IF;
              RAISE EXCEPTION '{NO_DELETE}';
            END; $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
            FOR EACH ROW EXECUTE FUNCTION access_log_no_delete()""")
    else:
        op.execute(f"""
            CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
            BEGIN SELECT RAISE(ABORT, '{NO_UPDATE}'); END""")
        op.execute(f"""
            CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
            WHEN OLD.at >= datetime('now', '-{PURGE_FLOOR_DAYS} days')
            BEGIN SELECT RAISE(ABORT, '{NO_DELETE}'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in ("access_log_no_update", "access_log_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON access_log")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in ("access_log_no_update", "access_log_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('bulk_access_alert')
    op.drop_table('access_log')
