"""early warning

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:00:00

The tables of workflows/early_warning/model.py: `early_warning`, a warning a rule raised (at most
one open per key), and `early_warning_digest`, the day whose digest was sent.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


OPEN = sa.text('resolved_at IS NULL')
SANCTION_DECISION = sa.text("kind = 'sanction' AND supersedes_id IS NULL")   # dashboard


def upgrade() -> None:
    op.create_table('early_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('about', sa.String(length=20), nullable=False),
    sa.Column('about_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=80), nullable=True),
    sa.Column('acknowledged_by_name', sa.String(length=120), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledgement_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_early_warning_case_id_case')),
    sa.ForeignKeyConstraint(['department_id'], ['subject.id'], name=op.f('fk_early_warning_department_id_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_early_warning'))
    )
    with op.batch_alter_table('early_warning', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_early_warning_rule'), ['rule'], unique=False)
        batch_op.create_index(batch_op.f('ix_early_warning_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_early_warning_open', ['resolved_at', 'acknowledged_at', 'id'], unique=False)
        batch_op.create_index('uq_early_warning_open_key', ['key'], unique=True,
                              postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_table('early_warning_digest',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('open_count', sa.Integer(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_early_warning_digest'))
    )
    # dashboard: the period's records and decisions read from indexes alone (bench/dashboard.py)
    op.create_index('ix_record_dashboard', 'record', ['created_at', 'field', 'severity', 'subject_id'], unique=False)
    op.create_index('ix_document_sanction', 'document', ['issued_at', 'record_id'], unique=False,
                    postgresql_where=SANCTION_DECISION, sqlite_where=SANCTION_DECISION)
    if op.get_bind().dialect.name == 'postgresql':     # dashboard: a decision's record read from the index alone
        op.create_index('ix_record_capture', 'record', ['id'], unique=False, postgresql_include=['created_at'])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_record_capture', table_name='record')     # dashboard
    op.drop_index('ix_document_sanction', table_name='document')    # dashboard
    op.drop_index('ix_record_dashboard', table_name='record')       # dashboard
    op.drop_table('early_warning_digest')
    with op.batch_alter_table('early_warning', schema=None) as batch_op:
        batch_op.drop_index('uq_early_warning_open_key')
        batch_op.drop_index('ix_early_warning_open')
        batch_op.drop_index(batch_op.f('ix_early_warning_department_id'))
        batch_op.drop_index(batch_op.f('ix_early_warning_rule'))
    op.drop_table('early_warning')
