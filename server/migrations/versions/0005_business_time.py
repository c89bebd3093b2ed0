"""business time: calendar, escalation targets, system event log; seeded for a Saudi bank

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Frozen copies of the defaults in server/services/calendar.py and policy.py: a migration
# must keep meaning what it meant when it was written.
SUNDAY_TO_THURSDAY = (6, 0, 1, 2, 3)  # Monday = 0
WD, WH = 'working_days', 'working_hours'
TARGETS = {
    # kind: {priority: (amount, unit, remind, remind_unit, next level, next level unit)}
    'acknowledge': {
        'any': (1, WD, 4, WH, 1, WD), 'low': (1, WD, 4, WH, 1, WD),
        'medium': (1, WD, 4, WH, 1, WD), 'high': (4, WH, 1, WH, 4, WH),
        'urgent': (2, WH, 1, WH, 2, WH),
    },
    'response': {
        'any': (3, WD, 1, WD, 1, WD), 'low': (3, WD, 1, WD, 1, WD),
        'medium': (3, WD, 1, WD, 1, WD), 'high': (2, WD, 4, WH, 1, WD),
        'urgent': (1, WD, 2, WH, 4, WH),
    },
    'resolution': {
        'any': (5, WD, 1, WD, 2, WD), 'low': (5, WD, 1, WD, 2, WD),
        'medium': (5, WD, 1, WD, 2, WD), 'high': (3, WD, 1, WD, 1, WD),
        'urgent': (1, WD, 4, WH, 4, WH),
    },
}


def upgrade():
    calendar = op.create_table(
        'business_calendar',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('time_zone', sa.String(length=64), nullable=False),
        sa.Column('holiday_country', sa.String(length=8), nullable=True),
        sa.Column('holiday_subdivision', sa.String(length=16), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    hours = op.create_table(
        'working_hours',
        sa.Column('calendar_id', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('opens', sa.Time(), nullable=False),
        sa.Column('closes', sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(['calendar_id'], ['business_calendar.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('calendar_id', 'weekday'),
    )
    op.create_table(
        'calendar_date',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('opens', sa.Time(), nullable=True),
        sa.Column('closes', sa.Time(), nullable=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('calendar_date', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_date_first_day'), ['first_day'], unique=False)
        batch_op.create_index(batch_op.f('ix_calendar_date_last_day'), ['last_day'], unique=False)
    targets = op.create_table(
        'escalation_target',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('priority', sa.String(length=16), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('unit', sa.String(length=16), nullable=False),
        sa.Column('remind_amount', sa.Integer(), nullable=False),
        sa.Column('remind_unit', sa.String(length=16), nullable=False),
        sa.Column('next_level_amount', sa.Integer(), nullable=False),
        sa.Column('next_level_unit', sa.String(length=16), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'priority', 'category'),
    )
    op.create_table(
        'system_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('system_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_system_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_system_event_kind'), ['kind'], unique=False)

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    op.bulk_insert(calendar, [{'id': 1, 'time_zone': 'Asia/Riyadh', 'holiday_country': 'SA',
                               'holiday_subdivision': None, 'updated_at': now,
                               'updated_by': 'system:migration'}])
    op.bulk_insert(hours, [{'calendar_id': 1, 'weekday': day, 'opens': dt.time(8, 0),
                            'closes': dt.time(16, 0)} for day in SUNDAY_TO_THURSDAY])
    op.bulk_insert(targets, [
        {'kind': kind, 'priority': priority, 'category': 'any', 'amount': row[0],
         'unit': row[1], 'remind_amount': row[2], 'remind_unit': row[3],
         'next_level_amount': row[4], 'next_level_unit': row[5], 'updated_at': now}
        for kind, rows in TARGETS.items() for priority, row in rows.items()])


def downgrade():
    with op.batch_alter_table('system_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_system_event_kind'))
        batch_op.drop_index(batch_op.f('ix_system_event_at'))
    op.drop_table('system_event')
    op.drop_table('escalation_target')
    with op.batch_alter_table('calendar_date', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_date_last_day'))
        batch_op.drop_index(batch_op.f('ix_calendar_date_first_day'))
    op.drop_table('calendar_date')
    op.drop_table('working_hours')
    op.drop_table('business_calendar')
