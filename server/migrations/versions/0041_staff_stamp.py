"""settings stamp: also renewed when an account's name, switch or roles change

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07

Who may own cases (services/ownership.py: whether an account is on, its username and its
roles) is kept per process under the settings stamp like the other settings, so every
write that changes it renews the stamp: a new or removed account, `active` or `username`
changed, a role given or taken. Other writes to `user` (the last sign-in, the session
epoch, the second factor) leave the stamp, and so every setting kept under it, alone.
"""
from alembic import op

revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None

USER_COLUMNS = ("active", "username")  # what ownership.py reads of an account
SQLITE_NEW = "lower(hex(randomblob(16)))"


def upgrade():
    columns = ", ".join(USER_COLUMNS)
    # "user" is quoted: a reserved word on PostgreSQL.
    if op.get_bind().dialect.name == "postgresql":
        # settings_stamp_renew() is migration 0040's.
        op.execute(f"""
            CREATE TRIGGER user_renews_settings_stamp
            AFTER INSERT OR DELETE OR UPDATE OF {columns} OR TRUNCATE ON "user"
            FOR EACH STATEMENT EXECUTE FUNCTION settings_stamp_renew()""")
        op.execute("""
            CREATE TRIGGER user_role_renews_settings_stamp
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_role
            FOR EACH STATEMENT EXECUTE FUNCTION settings_stamp_renew()""")
        return
    renew = f"BEGIN UPDATE settings_stamp SET stamp = {SQLITE_NEW} WHERE id = 1; END"
    for event in ("insert", "delete"):
        op.execute(f'CREATE TRIGGER user_{event}_renews_settings_stamp '
                   f'AFTER {event.upper()} ON "user" {renew}')
    op.execute(f'CREATE TRIGGER user_update_renews_settings_stamp '
               f'AFTER UPDATE OF {columns} ON "user" {renew}')
    for event in ("insert", "update", "delete"):
        op.execute(f"CREATE TRIGGER user_role_{event}_renews_settings_stamp "
                   f"AFTER {event.upper()} ON user_role {renew}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute('DROP TRIGGER IF EXISTS user_renews_settings_stamp ON "user"')
        op.execute("DROP TRIGGER IF EXISTS user_role_renews_settings_stamp ON user_role")
        return
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS user_{event}_renews_settings_stamp")
        op.execute(f"DROP TRIGGER IF EXISTS user_role_{event}_renews_settings_stamp")
