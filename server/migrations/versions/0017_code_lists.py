"""code lists, systemic-issue alerts, audit samples, and the indexes related complaints use

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

* `code_entry`: the administered, bilingual lists (products, categories, causes), seeded
  from the reference forms' choices (assess: category; close: root_cause) with Arabic
  labels; products start with one entry, "Other or not listed", for administrators to fill.
* `systemic_alert`: each rise of a category or product alerted, so it is alerted once.
* `audit_sample`, `audit_sample_case`, `audit_check`: audit samples and their checklists.
* Related complaints look cases up by the complainant's e-mail in lower case and phone
  digits only: expression indexes on exactly those expressions (services/related.py builds
  the same ones), created without recreating the case table (its FTS triggers stay).
"""
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# (list, code, English, Arabic), in the order forms show them.
SEED = [
    ('categories', 'service_quality', 'Service quality', 'جودة الخدمة'),
    ('categories', 'billing', 'Billing and charges', 'الفواتير والرسوم'),
    ('categories', 'product_defect', 'Faulty product', 'منتج معيب'),
    ('categories', 'staff_conduct', 'Staff conduct', 'سلوك الموظفين'),
    ('categories', 'delay', 'Delay', 'التأخير'),
    ('categories', 'privacy', 'Privacy and personal data', 'الخصوصية والبيانات الشخصية'),
    ('categories', 'other', 'Other', 'أخرى'),
    ('causes', 'process', 'Process', 'خلل في الإجراءات'),
    ('causes', 'system', 'System or technology', 'خلل في الأنظمة أو التقنية'),
    ('causes', 'staff_error', 'Staff error', 'خطأ من الموظف'),
    ('causes', 'communication', 'Communication', 'ضعف في التواصل'),
    ('causes', 'policy', 'Policy', 'السياسة المتبعة'),
    ('causes', 'third_party', 'Third party', 'طرف ثالث'),
    ('causes', 'customer_misunderstanding', 'Customer misunderstanding', 'سوء فهم من العميل'),
    ('causes', 'none_found', 'No cause found', 'لم يُحدَّد سبب'),
    ('products', 'other', 'Other or not listed', 'أخرى أو غير مدرجة'),
]
# Phone digits only: the separators people type, removed in the database.
PHONE_KEY = ("replace(replace(replace(replace(replace(replace(complainant_phone, ' ', ''), "
             "'-', ''), '(', ''), ')', ''), '+', ''), '.', '')")


def upgrade():
    entries = op.create_table(
        'code_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('list_name', sa.String(length=32), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('label_en', sa.String(length=200), nullable=False),
        sa.Column('label_ar', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('list_name', 'code', name='uq_code_entry_list_code'),
    )
    now = datetime.utcnow()  # noqa: DTZ003 - UTC columns are stored naive
    positions: dict[str, int] = {}
    rows = []
    for list_name, code, english, arabic in SEED:
        positions[list_name] = positions.get(list_name, 0) + 1
        rows.append({'list_name': list_name, 'code': code, 'label_en': english,
                     'label_ar': arabic, 'active': True,
                     'position': positions[list_name] * 10, 'updated_at': now})
    op.bulk_insert(entries, rows)
    op.create_table(
        'systemic_alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dimension', sa.String(length=16), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('raised_on', sa.Date(), nullable=False),
        sa.Column('raised_at', sa.DateTime(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('mean', sa.Float(), nullable=False),
        sa.Column('stdev', sa.Float(), nullable=False),
        sa.Column('threshold', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dimension', 'code', 'raised_on', name='uq_systemic_alert_day'),
    )
    op.create_index('ix_systemic_alert_raised_at', 'systemic_alert', ['raised_at'])
    op.create_table(
        'audit_sample',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('seed', sa.Integer(), nullable=False),
        sa.Column('drawn_by', sa.String(length=255), nullable=False),
        sa.Column('drawn_at', sa.DateTime(), nullable=False),
        sa.Column('population', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'audit_sample_case',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sample_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('reference', sa.String(length=32), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['sample_id'], ['audit_sample.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sample_id', 'case_id'),
    )
    op.create_index('ix_audit_sample_case_sample_id', 'audit_sample_case', ['sample_id'])
    op.create_table(
        'audit_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sample_case_id', sa.Integer(), nullable=False),
        sa.Column('item', sa.String(length=64), nullable=False),
        sa.Column('result', sa.String(length=8), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('checked_by', sa.String(length=255), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['sample_case_id'], ['audit_sample_case.id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sample_case_id', 'item'),
    )
    # Related complaints: the same complainant by e-mail or phone, the same category in
    # a window (the case table is not recreated: its FTS triggers stay).
    op.execute('CREATE INDEX ix_case_email_key ON "case" (lower(complainant_email))')
    op.execute(f'CREATE INDEX ix_case_phone_key ON "case" ({PHONE_KEY})')
    op.execute('CREATE INDEX ix_case_category_received ON "case" (category, received_at)')


def downgrade():
    op.execute('DROP INDEX ix_case_category_received')
    op.execute('DROP INDEX ix_case_phone_key')
    op.execute('DROP INDEX ix_case_email_key')
    op.drop_table('audit_check')
    op.drop_table('audit_sample_case')
    op.drop_table('audit_sample')
    op.drop_index('ix_systemic_alert_raised_at', table_name='systemic_alert')
    op.drop_table('systemic_alert')
    op.drop_table('code_entry')
