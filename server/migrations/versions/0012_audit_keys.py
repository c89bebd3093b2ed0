"""audit keys: keyed history chains, a chained system log, checkpoints and tombstones

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

New history rows keep the public SHA-256 chain (anyone can check an exported record) and
add `mac`, HMAC-SHA256 under a key kept outside the database of the row's hash and of a
digest of the case row after the step (services/audit.py). The migration cannot know
that key, so rows already written have no mac and are marked alg = 'sha256': verify-audit
checks their chain and accepts them only where a signed checkpoint counted them. A keyed
event that follows them covers them too, since its hash chains to theirs. System log rows already written
stay unchained (prev_hash/hash NULL); the chain starts at the first row after upgrade.

DELETE on case_event is now refused like UPDATE, except for a case that has a tombstone
(the door `flask purge-case` uses); system_event refuses both.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
NO_DELETE = "case_event is append-only: history is deleted only by flask purge-case"
SYSTEM_LOG = "system_event is append-only: the system log cannot be changed"


def upgrade():
    op.add_column('case_event', sa.Column('alg', sa.String(length=16), nullable=False,
                                          server_default='sha256'))
    op.add_column('case_event', sa.Column('row_digest', sa.String(length=64), nullable=True))
    op.add_column('case_event', sa.Column('mac', sa.String(length=64), nullable=True))
    op.add_column('system_event', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('system_event', sa.Column('hash', sa.String(length=64), nullable=True))
    head = op.create_table(
        'audit_chain_head',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('name'))
    op.bulk_insert(head, [{"name": "system", "count": 0, "hash": GENESIS}])
    op.create_table(
        'audit_checkpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_table(
        'audit_tombstone',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=32), nullable=False),
        sa.Column('event_count', sa.Integer(), nullable=False),
        sa.Column('head', sa.String(length=64), nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_audit_tombstone_case_id', 'audit_tombstone', ['case_id'])
    op.create_index('ix_audit_tombstone_reference', 'audit_tombstone', ['reference'])
    _triggers()


def _triggers():
    """Refuse DELETE of history rows (unless tombstoned) and any change to the system log."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION case_event_no_delete() RETURNS trigger AS $$
            BEGIN
              IF EXISTS (SELECT 1 FROM audit_tombstone WHERE case_id = OLD.case_id) THEN
                RETURN OLD;
              END IF;
              RAISE EXCEPTION '{NO_DELETE}';
            END; $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER case_event_no_delete BEFORE DELETE ON case_event
            FOR EACH ROW EXECUTE FUNCTION case_event_no_delete()""")
        op.execute(f"""
            CREATE FUNCTION system_event_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{SYSTEM_LOG}'; END; $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER system_event_append_only BEFORE UPDATE OR DELETE ON system_event
            FOR EACH ROW EXECUTE FUNCTION system_event_append_only()""")
    else:
        op.execute(f"""
            CREATE TRIGGER case_event_no_delete BEFORE DELETE ON case_event
            WHEN NOT EXISTS (SELECT 1 FROM audit_tombstone WHERE case_id = OLD.case_id)
            BEGIN SELECT RAISE(ABORT, '{NO_DELETE}'); END""")
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER system_event_no_{verb.lower()} BEFORE {verb} ON system_event
                BEGIN SELECT RAISE(ABORT, '{SYSTEM_LOG}'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_event_no_delete ON case_event")
        op.execute("DROP FUNCTION IF EXISTS case_event_no_delete()")
        op.execute("DROP TRIGGER IF EXISTS system_event_append_only ON system_event")
        op.execute("DROP FUNCTION IF EXISTS system_event_append_only()")
    else:
        for name in ("case_event_no_delete", "system_event_no_update", "system_event_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_audit_tombstone_reference', table_name='audit_tombstone')
    op.drop_index('ix_audit_tombstone_case_id', table_name='audit_tombstone')
    op.drop_table('audit_tombstone')
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_chain_head')
    with op.batch_alter_table('system_event', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_column('mac')
        batch_op.drop_column('row_digest')
        batch_op.drop_column('alg')
