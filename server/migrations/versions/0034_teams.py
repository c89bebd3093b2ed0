"""teams: teams owning cases, the category routing table, confidential cases and the
people named on them (issue 18, need-to-know)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'team',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'team_member',
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('team_id', 'user_id'),
    )
    op.create_index('ix_team_member_user_id', 'team_member', ['user_id'], unique=False)
    op.create_table(
        'team_route',
        sa.Column('category', sa.String(length=64), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('category'),
    )
    op.create_table(
        'case_viewer',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', 'user_id'),
    )
    op.create_index('ix_case_viewer_user_id', 'case_viewer', ['user_id'], unique=False)
    add_case_columns()
    op.create_index('ix_case_team_id', 'case', ['team_id'], unique=False)


def add_case_columns():
    """Add the case's team and confidential flag where missing (0018 may have added them).

    In place on SQLite: a batch copy of "case" would drop the table its history and its
    search index reference.
    """
    bind = op.get_bind()
    if "team_id" not in {c["name"] for c in sa.inspect(bind).get_columns("case")}:
        if bind.dialect.name == 'sqlite':
            op.execute('ALTER TABLE "case" ADD COLUMN team_id INTEGER REFERENCES team (id) '
                       'ON DELETE SET NULL')
            op.execute('ALTER TABLE "case" ADD COLUMN confidential BOOLEAN NOT NULL '
                       'DEFAULT 0')
        else:
            op.add_column('case', sa.Column('team_id', sa.Integer(), nullable=True))
            op.add_column('case', sa.Column('confidential', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    if bind.dialect.name != 'sqlite' and 'fk_case_team_id' not in {
            fk["name"] for fk in sa.inspect(bind).get_foreign_keys("case")}:
        op.create_foreign_key('fk_case_team_id', 'case', 'team', ['team_id'], ['id'],
                              ondelete='SET NULL')


def downgrade():
    op.drop_index('ix_case_team_id', table_name='case')
    if op.get_bind().dialect.name == 'sqlite':
        # In place (SQLite 3.35+): a batch copy of "case" would drop the table its
        # append-only history references.
        op.execute('ALTER TABLE "case" DROP COLUMN confidential')
        op.execute('ALTER TABLE "case" DROP COLUMN team_id')
    else:
        op.drop_constraint('fk_case_team_id', 'case', type_='foreignkey')
        op.drop_column('case', 'confidential')
        op.drop_column('case', 'team_id')
    op.drop_index('ix_case_viewer_user_id', table_name='case_viewer')
    op.drop_table('case_viewer')
    op.drop_table('team_route')
    op.drop_index('ix_team_member_user_id', table_name='team_member')
    op.drop_table('team_member')
    op.drop_table('team')
